"""One create/get/list/update/delete path for every resource in the table.

A ``ResourceSpec`` says where a resource lives in the tree (its ``path`` of (kind, id member)
pairs from the (account, region) root), how its id is made, what AWS says when it is missing,
which operations act on it, and which ``Behaviour`` holds its specific rules. The generic path
resolves the parents (answering the first missing one's NotFound), lets the behaviour build or
check the record, stores it, and redeploys auto-deploying stages when the API's configuration
changed. Everything a behaviour does not override copies members as the model names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from propylon.control.context import Call, Output, Params, new_id
from propylon.control.pagination import paginate
from propylon.errors import ConflictException, NotFoundException
from propylon.spec.model import load_service_model
from propylon.store import Key, Record

Handler = Callable[[Call, Params], Output | None]
Parents = dict[str, Record]
SERVICE = "apigatewayv2"


def body_members(operation_name: str) -> tuple[str, ...]:
    """The input members of an operation that travel in the body (not in the URI)."""
    shape = load_service_model(SERVICE).operation_model(operation_name).input_shape
    if shape is None:
        return ()
    return tuple(
        name for name, member in shape.members.items() if "location" not in member.serialization
    )


def copy_members(params: Params, names: Iterable[str]) -> Record:
    return {name: params[name] for name in names if params.get(name) is not None}


class Behaviour:
    """A resource's specific rules. The defaults copy the operation's body members."""

    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        record = copy_members(params, spec.create_members)
        record[spec.id_member] = (
            new_id(spec.id_length) if spec.id_length else params[spec.id_member]
        )
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        return {**record, **copy_members(params, spec.update_members)}

    def after_write(
        self, call: Call, spec: ResourceSpec, old: Record | None, record: Record, parents: Parents
    ) -> None:
        """Follow-up once a created (``old`` None) or updated record is stored."""

    def delete(self, call: Call, spec: ResourceSpec, record: Record, parents: Parents) -> None:
        """Refuse the deletion by raising; the default allows it."""

    def present(self, call: Call, record: Record, parents: Parents) -> Output:
        return record


@dataclass(frozen=True)
class ResourceSpec:
    kind: str
    path: tuple[tuple[str, str], ...]
    not_found: str
    id_length: int | None = None
    create: str | None = None
    get: str | None = None
    list: str | None = None
    update: str | None = None
    delete: str | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)
    deploys: bool = False
    conflict: str = "{id} already exists"

    @property
    def id_member(self) -> str:
        return self.path[-1][1]

    @property
    def create_members(self) -> tuple[str, ...]:
        return body_members(self.create) if self.create else ()

    @property
    def update_members(self) -> tuple[str, ...]:
        ids = {member for _, member in self.path}
        return tuple(m for m in body_members(self.update) if m not in ids) if self.update else ()

    def key(self, call: Call, ids: Params) -> Key:
        return self.parent_key(call, ids) + (self.kind, str(ids[self.id_member]))

    def parent_key(self, call: Call, ids: Params) -> Key:
        key = call.scope
        for kind, member in self.path[:-1]:
            key += (kind, str(ids[member]))
        return key

    def missing(self, call: Call, identifier: str) -> NotFoundException:
        return NotFoundException(self.not_found.format(id=identifier, account=call.account))


class Registry:
    """The resource table by kind, and the generic handlers it yields."""

    def __init__(self, specs: Iterable[ResourceSpec], redeploy: Callable[[Call, Key], None]):
        self.specs = {spec.kind: spec for spec in specs}
        self._redeploy = redeploy
        self._generic = self._build()

    def generic(self, operation: str) -> Handler:
        """The generic handler of ``operation``, for specific handlers that build on it."""
        return self._generic[operation]

    def find(self, call: Call, kind: str, ids: Params) -> Record:
        """The record of ``kind`` named by ``ids``, checking each parent on the way."""
        spec = self.specs[kind]
        key = call.scope
        record: Record | None = None
        for level_kind, member in spec.path:
            key += (level_kind, str(ids[member]))
            record = call.store.get(key)
            if record is None:
                raise self.specs[level_kind].missing(call, str(ids[member]))
        assert record is not None
        return record

    def parents(self, call: Call, spec: ResourceSpec, params: Params) -> Parents:
        found: Parents = {}
        key = call.scope
        for kind, member in spec.path[:-1]:
            key += (kind, str(params[member]))
            record = call.store.get(key)
            if record is None:
                raise self.specs[kind].missing(call, str(params[member]))
            found[kind] = record
        return found

    def changed(self, call: Call, spec: ResourceSpec, params: Params) -> None:
        if spec.deploys:
            self._redeploy(call, call.scope + ("apis", str(params["ApiId"])))

    def handlers(self) -> dict[str, Handler]:
        return dict(self._generic)

    def _build(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {}
        for spec in self.specs.values():
            verbs = {
                spec.create: self._create,
                spec.get: self._get,
                spec.list: self._list,
                spec.update: self._update,
                spec.delete: self._delete,
            }
            for operation, make in verbs.items():
                if operation:
                    table[operation] = make(spec)
        return table

    def _create(self, spec: ResourceSpec) -> Handler:
        def create(call: Call, params: Params) -> Output:
            parents = self.parents(call, spec, params)
            if params.get(spec.id_member) is not None:  # named by the caller: conflict first
                self._refuse_duplicate(call, spec, params)
            record = spec.behaviour.create(call, spec, params, parents)
            ids = {**params, spec.id_member: record[spec.id_member]}
            self._refuse_duplicate(call, spec, ids)
            key = spec.key(call, ids)
            call.store.put(key, record)
            spec.behaviour.after_write(call, spec, None, record, parents)
            self.changed(call, spec, ids)
            return spec.behaviour.present(call, call.store.get(key) or record, parents)

        return create

    def _refuse_duplicate(self, call: Call, spec: ResourceSpec, ids: Params) -> None:
        if call.store.get(spec.key(call, ids)) is not None:
            raise ConflictException(spec.conflict.format(id=ids[spec.id_member]))

    def _get(self, spec: ResourceSpec) -> Handler:
        def get(call: Call, params: Params) -> Output:
            parents = self.parents(call, spec, params)
            record = self._own(call, spec, params)
            return spec.behaviour.present(call, record, parents)

        return get

    def _list(self, spec: ResourceSpec) -> Handler:
        def list_(call: Call, params: Params) -> Output:
            parents = self.parents(call, spec, params)
            children = call.store.children(spec.parent_key(call, params), spec.kind)
            page = paginate(children, params)
            page["Items"] = [spec.behaviour.present(call, r, parents) for r in page["Items"]]
            return page

        return list_

    def _update(self, spec: ResourceSpec) -> Handler:
        def update(call: Call, params: Params) -> Output:
            parents = self.parents(call, spec, params)
            record = self._own(call, spec, params)
            updated = spec.behaviour.update(call, spec, record, params, parents)
            key = spec.key(call, params)
            call.store.put(key, updated)
            spec.behaviour.after_write(call, spec, record, updated, parents)
            self.changed(call, spec, params)
            return spec.behaviour.present(call, call.store.get(key) or updated, parents)

        return update

    def _delete(self, spec: ResourceSpec) -> Handler:
        def delete(call: Call, params: Params) -> None:
            parents = self.parents(call, spec, params)
            record = self._own(call, spec, params)
            spec.behaviour.delete(call, spec, record, parents)
            call.store.delete(spec.key(call, params))
            self.changed(call, spec, params)

        return delete

    def _own(self, call: Call, spec: ResourceSpec, params: Params) -> Record:
        record = call.store.get(spec.key(call, params))
        if record is None:
            raise spec.missing(call, str(params[spec.id_member]))
        return record
