"""No request, however malformed, makes the control plane answer 5xx.

Every operation of the model is fuzzed through its own URI template: path values (unicode, very
long, ``%``, ``..``, encoded slashes, real ids of seeded resources), query strings (the
operation's own wire names and garbage), and bodies (objects built from the operation's input
shape whose values go wrong-typed or out of range at any depth, random JSON, deep nesting, huge
strings, raw bytes). Each operation's test seeds a few resources first, then runs its examples
inside the test (so the served state is set up once per operation, not once per example).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from botocore.model import OperationModel, Shape
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from propylon.spec.model import load_service_model

MODEL = load_service_model("apigatewayv2")
LABEL = re.compile(r"\{([^}]+?)\+?\}")
FUZZ = settings(max_examples=25, deadline=None)
LIMIT = 10 * 1024 * 1024
Strategy = SearchStrategy[Any]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


@dataclass(frozen=True)
class Request:
    method: str
    target: bytes
    headers: dict[str, str]
    body: bytes


def send(http: httpx.Client, request: Request) -> httpx.Response:
    url = http.base_url.copy_with(raw_path=request.target)
    return http.request(request.method, url, headers=request.headers, content=request.body)


def assert_well_answered(request: Request, answer: httpx.Response) -> None:
    seen = (
        f"{request.method} {request.target[:300]!r} body={request.body[:300]!r} "
        f"-> {answer.status_code} {answer.text[:300]}"
    )
    assert answer.status_code < 500, seen
    if answer.status_code >= 400 and request.method != "HEAD":
        document = answer.json()
        assert isinstance(document, dict), seen
        assert isinstance(document.get("message"), str), seen


# Values -----------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
EDGES = st.sampled_from(
    [-1, 0, 49, 30001, -2, 86401, 2**31, -(2**63) - 1, 10**40, 1e308, -0.0, 0.5, "", " ", "%",
     "..", "\x00", "\u202e", "é" * 3, "$default", "GET /", "aws:tag", [], {}, [None], {"": None}]
)  # fmt: skip
HUGE_TEXT = st.integers(10_000, 200_000).map(lambda n: "ü" * n)
WRONG = st.one_of(SCALARS, EDGES, HUGE_TEXT, st.lists(SCALARS, max_size=3))


def body_members(shape: Shape) -> dict[str, Shape]:
    """The members of ``shape`` that travel in the body, by wire name."""
    members: dict[str, Shape] = shape.members
    return {
        m.serialization.get("name", name): m
        for name, m in members.items()
        if "location" not in m.serialization
    }


@dataclass(frozen=True)
class ShapeValues:
    """Strategies for values of a model shape. With ``wrong``, any level may take one of its
    values instead; ``overrides`` gives some members (by wire name) values that look real."""

    alphabet: Strategy = field(default_factory=st.characters)
    wrong: Strategy | None = None
    overrides: Mapping[str, Strategy] = field(default_factory=dict)

    def of(self, shape: Shape) -> Strategy:
        right = self._conforming(shape)
        return right if self.wrong is None else st.one_of(right, self.wrong)

    def _conforming(self, shape: Shape) -> Strategy:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return st.lists(self.of(shape.member), max_size=3)
        if kind == "map":
            return st.dictionaries(self._text(shape.key), self.of(shape.value), max_size=3)
        if kind in ("integer", "long"):
            return st.integers(
                shape.metadata.get("min", -(2**31)), shape.metadata.get("max", 2**31)
            )
        if kind in ("double", "float"):
            return st.floats(0, 10_000)
        if kind == "boolean":
            return st.booleans()
        return self._text(shape)

    def _structure(self, shape: Shape) -> Strategy:
        members = {
            wire: self.overrides[wire] if wire in self.overrides else self.of(member)
            for wire, member in body_members(shape).items()
        }
        required = {shape.members[n].serialization.get("name", n) for n in shape.required_members}
        return st.fixed_dictionaries(
            {k: v for k, v in members.items() if k in required},
            optional={k: v for k, v in members.items() if k not in required},
        )

    def _text(self, shape: Shape) -> Strategy:
        if shape.metadata.get("enum"):
            return st.sampled_from(shape.metadata["enum"])
        low = shape.metadata.get("min", 1)
        return st.text(self.alphabet, min_size=low, max_size=min(shape.metadata.get("max", 40), 40))


# Requests ---------------------------------------------------------------------------------

SEGMENTS = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(["%", "..", ".", "%2F", "%25", "\x00", " ", "a/b", "$default", "GET /{x+}"]),
    st.integers(1000, 8000).map(lambda n: "x" * n),
)
RAW_QUERY = st.text(max_size=60).map(lambda s: quote(s, safe="&=%+"))


def path_values(ids: dict[str, list[str]], label: str) -> Strategy:
    values = st.one_of(
        SEGMENTS.map(lambda s: quote(s, safe="")),
        SEGMENTS.map(lambda s: quote(s, safe="%./")),  # raw '%', '..' and '/' as well
    )
    known = ids.get(label)
    if not known:
        return values
    return st.one_of(st.sampled_from(known).map(lambda s: quote(s, safe="")), values)


def query_strings(operation: OperationModel) -> Strategy:
    shape = operation.input_shape
    wires = [
        m.serialization["name"]
        for m in (shape.members.values() if shape else ())
        if m.serialization.get("location") == "querystring"
    ]
    keys = st.sampled_from(wires) | st.text(max_size=8) if wires else st.text(max_size=8)
    values = st.one_of(st.text(max_size=30), EDGES.map(str), st.integers().map(str))
    pairs = st.lists(st.tuples(keys, values), max_size=5).map(urlencode)
    return st.one_of(st.just(""), pairs, RAW_QUERY)


def bodies(operation: OperationModel) -> Strategy:
    shape = operation.input_shape
    garbage = st.one_of(st.just(b""), st.binary(max_size=300), JSON_VALUES.map(_json))
    if shape is None or not body_members(shape):
        return garbage
    wires = list(body_members(shape))
    fuzzed = ShapeValues(wrong=WRONG).of(shape).map(_json)
    named = st.dictionaries(st.sampled_from(wires), WRONG, min_size=1).map(_json)
    deep = st.tuples(st.sampled_from(wires), st.integers(10, 5000)).map(
        lambda p: b'{"%s":%s%s}' % (p[0].encode(), b"[" * p[1], b"]" * p[1])
    )
    constants = st.sampled_from(wires).map(lambda w: b'{"%s":NaN}' % w.encode())
    return st.one_of(fuzzed, fuzzed, named, deep, constants, garbage)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(["application/json", "text/plain", "", "x/y; q=%"]),
        "authorization": st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1).map(
            lambda region: f"AWS4-HMAC-SHA256 Credential=AKID/20240101/{region}/apigateway/x"
        ),
    },
)


def requests(operation: OperationModel, ids: dict[str, list[str]]) -> Strategy:
    template = operation.http["requestUri"].split("?", 1)[0]
    labels = LABEL.findall(template)
    values = st.fixed_dictionaries({label: path_values(ids, label) for label in labels})
    paths = values.map(lambda v: LABEL.sub(lambda m: v[m[1]], template))
    methods = st.one_of(st.just(operation.http["method"]), st.sampled_from(METHODS))
    return st.builds(
        lambda method, path, query, headers, body: Request(
            method, (path + ("?" + query if query else "")).encode(), headers, body
        ),
        methods,
        paths,
        query_strings(operation),
        HEADERS,
        bodies(operation),
    )


# Seeding ----------------------------------------------------------------------------------


LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:f"
INVOKE = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{LAMBDA}/invocations"
AUTHORIZERS = (  # (HTTP, WEBSOCKET)
    {
        "name": "jwt",
        "authorizerType": "JWT",
        "identitySource": ["$request.header.Authorization"],
        "jwtConfiguration": {"issuer": "https://issuer.example.com", "audience": ["a"]},
    },
    {
        "name": "lambda",
        "authorizerType": "REQUEST",
        "authorizerUri": INVOKE,
        "identitySource": ["route.request.header.Auth"],
    },
)


def _create(http: httpx.Client, path: str, body: dict[str, Any], member: str) -> str | None:
    answer = http.post(path, json=body)
    return answer.json().get(member) if answer.status_code == 201 else None


def seed(http: httpx.Client) -> dict[str, list[str]]:
    """Create an HTTP and a WebSocket API with a few children; the real ids, by URI label."""
    ids: dict[str, list[str]] = {}

    def keep(label: str, value: str | None) -> str | None:
        if value:
            ids.setdefault(label, []).append(value)
        return value

    apis = [
        _create(http, "/v2/apis", {"name": "h", "protocolType": "HTTP"}, "apiId"),
        _create(
            http,
            "/v2/apis",
            {
                "name": "w",
                "protocolType": "WEBSOCKET",
                "routeSelectionExpression": "$request.body.x",
            },
            "apiId",
        ),
    ]
    for api, route_key in zip(apis, ("GET /pets", "$connect"), strict=True):
        if keep("apiId", api) is None:
            continue
        base = f"/v2/apis/{api}"
        keep("routeId", _create(http, f"{base}/routes", {"routeKey": route_key}, "routeId"))
        keep("routeKey", route_key)
        body = {"integrationType": "HTTP_PROXY", "integrationUri": "https://example.com"}
        body |= {"integrationMethod": "ANY", "payloadFormatVersion": "1.0"}
        keep("integrationId", _create(http, f"{base}/integrations", body, "integrationId"))
        keep("stageName", _create(http, f"{base}/stages", {"stageName": "prod"}, "stageName"))
        keep("deploymentId", _create(http, f"{base}/deployments", {}, "deploymentId"))
        keep(
            "authorizerId",
            _create(http, f"{base}/authorizers", AUTHORIZERS[api == apis[1]], "authorizerId"),
        )
        keep("resource-arn", f"arn:aws:apigateway:us-east-1::/apis/{api}")
        keep("resource-arn", f"arn:aws:apigateway:us-east-1::/apis/{api}/stages/prod")
    keep("requestParameterKey", "route.request.header.x")
    keep("specification", "OAS30")
    return ids


@pytest.fixture(scope="module")
def shared_http(server_url: str) -> Iterator[httpx.Client]:
    """One client for the module: creating an httpx client costs tens of milliseconds."""
    with httpx.Client(base_url=server_url) as session:
        yield session


@pytest.fixture
def ids(shared_http: httpx.Client) -> dict[str, list[str]]:
    """A fresh server state with the seeded resources."""
    shared_http.post("/_propylon/reset").raise_for_status()
    return seed(shared_http)


# Tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL.operation_names)
def test_no_request_to_an_operation_answers_5xx(
    shared_http: httpx.Client, ids: dict[str, list[str]], name: str
) -> None:
    operation = MODEL.operation_model(name)

    @FUZZ
    @given(request=requests(operation, ids))
    def check(request: Request) -> None:
        assert_well_answered(request, send(shared_http, request))

    check()


# Valid-looking bodies: deep enough to pass validation and reach the handlers' own rules.

LETTERS = st.characters(min_codepoint=32, max_codepoint=0x2FF)
NAMES = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-", min_size=1, max_size=16)
PATHS = st.lists(NAMES | NAMES.map("{{{}}}".format) | st.just("{proxy+}"), max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
ROUTE_KEYS = st.one_of(
    st.sampled_from(["$default", "$connect", "$disconnect", "ANY /{proxy+}", "sendMessage"]),
    st.tuples(st.sampled_from(["GET", "POST", "ANY", "PATCH", "get"]), PATHS).map(" ".join),
)
LOOKS_REAL = {
    "routeKey": ROUTE_KEYS,
    "stageName": NAMES | st.just("$default"),
    "integrationUri": st.sampled_from(
        [
            "https://example.com/{proxy}",
            "http://127.0.0.1:9/",
            LAMBDA,
            INVOKE,
            "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/l/1/2",
        ]
    ),
    "integrationMethod": st.sampled_from(["GET", "POST", "ANY", "BREW"]),
    "payloadFormatVersion": st.sampled_from(["1.0", "2.0", "3.0"]),
    "credentialsArn": st.sampled_from(
        ["arn:aws:iam::000000000000:role/r", "arn:aws:iam::*:user/*"]
    ),
    "target": st.one_of(NAMES.map("integrations/{}".format), st.just("https://example.com")),
    "routeSelectionExpression": st.sampled_from(
        ["$request.body.action", "$request.method $request.path", "${request.body.a}", "x"]
    ),
    "apiKeySelectionExpression": st.sampled_from(
        ["$request.header.x-api-key", "$context.authorizer.usageIdentifierKey", "nope"]
    ),
    "accessLogSettings": st.fixed_dictionaries(
        {
            "destinationArn": st.just("arn:aws:logs:us-east-1:000000000000:log-group:g"),
            "format": st.sampled_from(["$context.requestId", "$context.status", "{}"]),
        }
    ),
    "identitySource": st.lists(st.sampled_from(["$request.header.Auth", "route.request.header.A"])),
}
VALID = ShapeValues(alphabet=LETTERS, overrides=LOOKS_REAL)
VALID_SETTINGS = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize(
    ("create", "update", "collection", "member"),
    [
        ("CreateApi", "UpdateApi", "", "apiId"),
        ("CreateRoute", "UpdateRoute", "/routes", "routeId"),
        ("CreateIntegration", "UpdateIntegration", "/integrations", "integrationId"),
        ("CreateStage", "UpdateStage", "/stages", "stageName"),
    ],
)
def test_valid_looking_create_and_update_never_answer_5xx(
    shared_http: httpx.Client,
    ids: dict[str, list[str]],
    create: str,
    update: str,
    collection: str,
    member: str,
) -> None:
    creates = VALID.of(MODEL.operation_model(create).input_shape)
    updates = VALID.of(MODEL.operation_model(update).input_shape)

    @VALID_SETTINGS
    @given(api=st.sampled_from(ids["apiId"]), created=creates, updated=updates)
    def check(api: str, created: dict[str, Any], updated: dict[str, Any]) -> None:
        base = f"/v2/apis/{api}{collection}" if collection else "/v2/apis"
        request = Request("POST", base.encode(), {}, _json(created))
        answer = send(shared_http, request)
        assert_well_answered(request, answer)
        if answer.status_code == 201:
            path = f"{base}/{quote(answer.json()[member], safe='')}"
            request = Request("PATCH", path.encode(), {}, _json(updated))
            assert_well_answered(request, send(shared_http, request))

    check()


# Oversized bodies --------------------------------------------------------------------------


def test_body_over_ten_megabytes_is_refused_with_413(shared_http: httpx.Client) -> None:
    answer = shared_http.post("/v2/apis", content=b"x" * (LIMIT + 1))
    assert answer.status_code == 413
    assert answer.json()["message"]
    assert shared_http.get("/_propylon/health").status_code == 200


def test_chunked_body_over_ten_megabytes_is_refused_with_413(shared_http: httpx.Client) -> None:
    chunks = (b"x" * 1024 * 1024 for _ in range(11))
    answer = shared_http.patch("/v2/apis/a1", content=chunks)
    assert answer.status_code == 413
    assert shared_http.get("/v2/apis").status_code == 200


def test_body_of_exactly_ten_megabytes_is_read_and_validated(shared_http: httpx.Client) -> None:
    head, tail = b'{"name":"n","protocolType":"', b'"}'
    body = head + b"H" * (LIMIT - len(head) - len(tail)) + tail
    answer = shared_http.post("/v2/apis", content=body)
    assert answer.status_code == 400
    assert "at 'protocolType'" in answer.json()["message"]
