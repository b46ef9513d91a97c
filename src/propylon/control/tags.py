"""Tags on every taggable resource, addressed by ARN.

An apigateway resource ARN's path (``/apis/{id}/stages/{name}``) names the same (kind, id)
pairs as the store key, so the record is found by reading the path; the tags live in the
record's ``Tags`` member, where Get operations show them too. An ARN of another region names
nothing here: the caller's region (its SigV4 scope) holds the only resources it can see.
"""

from __future__ import annotations

from propylon.control.arns import parse_resource_arn
from propylon.control.context import Call, Output, Params
from propylon.control.crud import Handler
from propylon.errors import BadRequestException, NotFoundException
from propylon.store import Key, Record

TAGGABLE = frozenset(
    {
        ("apis",),
        ("apis", "stages"),
        ("domainnames",),
        ("vpclinks",),
        ("portals",),
        ("portalproducts",),
    }
)
MAX_TAGS = 50
RESERVED_PREFIX = "aws:"


def _resolve(call: Call, arn: str) -> tuple[Key, Record]:
    parsed = parse_resource_arn(arn)
    if parsed is None or len(parsed[2]) % 2:
        raise BadRequestException(f"Invalid resource ARN specified: {arn}")
    region, account, parts = parsed
    kinds = tuple(parts[0::2])
    if kinds not in TAGGABLE:
        raise BadRequestException(f"The resource {arn} cannot be tagged")
    # Each region's endpoint knows only its own resources, whatever region an ARN names.
    key: Key = (*call.scope, *parts)
    mine = region == call.region and account in (None, call.account)
    record = call.store.get(key) if mine else None
    if record is None:
        raise NotFoundException(f"Invalid resource identifier specified {arn}")
    return key, record


def _check_tags(tags: dict[str, str]) -> None:
    for tag_key in tags:
        if tag_key.lower().startswith(RESERVED_PREFIX):
            raise BadRequestException(f"Tag keys starting with '{RESERVED_PREFIX}' are reserved")


def get_tags(call: Call, params: Params) -> Output:
    _, record = _resolve(call, params["ResourceArn"])
    return {"Tags": record.get("Tags") or {}}


def tag_resource(call: Call, params: Params) -> Output:
    key, record = _resolve(call, params["ResourceArn"])
    new_tags = params.get("Tags") or {}
    _check_tags(new_tags)
    tags = {**(record.get("Tags") or {}), **new_tags}
    if len(tags) > MAX_TAGS:
        raise BadRequestException(f"A resource can have at most {MAX_TAGS} tags")
    call.store.put(key, {**record, "Tags": tags})
    return {}


def untag_resource(call: Call, params: Params) -> None:
    key, record = _resolve(call, params["ResourceArn"])
    doomed = set(params.get("TagKeys") or [])
    tags = {k: v for k, v in (record.get("Tags") or {}).items() if k not in doomed}
    call.store.put(key, {**record, "Tags": tags})


def handlers() -> dict[str, Handler]:
    return {"GetTags": get_tags, "TagResource": tag_resource, "UntagResource": untag_resource}


def check_tags(tags: dict[str, str] | None) -> None:
    """For creates that take ``Tags``: the same rules as TagResource."""
    _check_tags(tags or {})
