from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propylon.execute.routing import RouteMatch, RouteTable, compile_routes

DOC_EXAMPLE = ["GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}"]


def table(*keys: str) -> RouteTable:
    return compile_routes({"RouteKey": key, "RouteId": f"r{n}"} for n, key in enumerate(keys))


def key_of(match: RouteMatch | None) -> str | None:
    return None if match is None else match.route_key


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/1"),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
        ("POST", "/test/5", "ANY /{proxy+}"),
    ],
)
def test_documented_example(method: str, path: str, expected: str) -> None:
    assert key_of(table(*DOC_EXAMPLE, "$default").match(method, path)) == expected


def test_match_carries_the_route_record() -> None:
    match = table("GET /pets", "POST /pets").match("POST", "/pets")
    assert match is not None
    assert match.route == {"RouteKey": "POST /pets", "RouteId": "r1"}
    assert match.path_parameters == {}


def test_literal_segment_beats_parameter() -> None:
    routes = table("GET /pets/{x}/{y}", "GET /pets/{kind}/1", "GET /pets/dog/{id}")
    assert key_of(routes.match("GET", "/pets/dog/1")) == "GET /pets/dog/{id}"
    assert key_of(routes.match("GET", "/pets/cat/1")) == "GET /pets/{kind}/1"
    assert key_of(routes.match("GET", "/pets/cat/2")) == "GET /pets/{x}/{y}"


def test_literal_beats_parameter_after_backtracking() -> None:
    # The literal branch /a/b matches the second segment but dead-ends at the third.
    routes = table("GET /a/b/c", "GET /a/{x}/d")
    assert key_of(routes.match("GET", "/a/b/d")) == "GET /a/{x}/d"


def test_method_beats_any() -> None:
    routes = table("GET /pets", "ANY /pets")
    assert key_of(routes.match("GET", "/pets")) == "GET /pets"
    assert key_of(routes.match("DELETE", "/pets")) == "ANY /pets"


def test_method_is_chosen_before_segment_specificity() -> None:
    # Reference 2.2 step 1: keep the request method's routes, only then fall back to ANY.
    routes = table("ANY /pets/dog", "GET /pets/{id}")
    assert key_of(routes.match("GET", "/pets/dog")) == "GET /pets/{id}"
    assert key_of(routes.match("PUT", "/pets/dog")) == "ANY /pets/dog"


def test_methods_are_case_sensitive() -> None:
    routes = table("GET /pets", "ANY /{proxy+}")
    assert key_of(routes.match("get", "/pets")) == "ANY /{proxy+}"


def test_exact_beats_greedy() -> None:
    routes = table("ANY /pets/{proxy+}", "GET /pets/{id}")
    assert key_of(routes.match("GET", "/pets/7")) == "GET /pets/{id}"
    assert key_of(routes.match("GET", "/pets/7/toys")) == "ANY /pets/{proxy+}"


def test_exact_any_beats_greedy_with_method() -> None:
    routes = table("GET /{proxy+}", "ANY /pets")
    assert key_of(routes.match("GET", "/pets")) == "ANY /pets"


def test_greedy_needs_at_least_one_segment() -> None:
    routes = table("ANY /pets/{proxy+}", "ANY /{proxy+}")
    assert key_of(routes.match("GET", "/pets")) == "ANY /{proxy+}"
    assert routes.match("GET", "/") is None
    assert routes.match("GET", "") is None


def test_greedy_ignores_an_empty_remainder() -> None:
    # "/pets//" loses one trailing slash, leaving one empty segment: nothing for {proxy+}.
    assert table("ANY /pets/{proxy+}").match("GET", "/pets//") is None


def test_greedy_captures_the_rest() -> None:
    match = table("ANY /files/{proxy+}").match("GET", "/files/a/b/c.txt")
    assert match is not None
    assert match.path_parameters == {"proxy": "a/b/c.txt"}


def test_greedy_captures_with_prefix_parameters() -> None:
    match = table("GET /users/{user}/{path+}").match("GET", "/users/ann/docs/cv.pdf")
    assert match is not None
    assert match.path_parameters == {"user": "ann", "path": "docs/cv.pdf"}


def test_longest_greedy_prefix_wins() -> None:
    routes = table("ANY /{proxy+}", "GET /a/{proxy+}", "ANY /a/b/{proxy+}")
    assert key_of(routes.match("GET", "/a/b/c")) == "ANY /a/b/{proxy+}"
    assert key_of(routes.match("GET", "/a/z/c")) == "GET /a/{proxy+}"
    assert key_of(routes.match("POST", "/a/z/c")) == "ANY /{proxy+}"
    assert key_of(routes.match("GET", "/a/b")) == "GET /a/{proxy+}"


def test_greedy_prefers_method_then_literal_at_equal_depth() -> None:
    routes = table("ANY /a/{proxy+}", "GET /{x}/{proxy+}")
    assert key_of(routes.match("GET", "/a/b")) == "GET /{x}/{proxy+}"
    assert key_of(routes.match("PUT", "/a/b")) == "ANY /a/{proxy+}"
    routes = table("GET /{x}/{proxy+}", "GET /a/{proxy+}")
    assert key_of(routes.match("GET", "/a/b")) == "GET /a/{proxy+}"


def test_default_route_catches_the_rest() -> None:
    routes = table("GET /pets", "$default")
    assert key_of(routes.match("POST", "/pets")) == "$default"
    assert key_of(routes.match("GET", "/anything/else")) == "$default"
    match = routes.match("GET", "/")
    assert match is not None
    assert match.path_parameters == {}


def test_greedy_beats_default() -> None:
    assert key_of(table("$default", "ANY /{proxy+}").match("PATCH", "/x")) == "ANY /{proxy+}"


def test_no_match_without_default() -> None:
    routes = table("GET /pets", "GET /pets/{id}")
    assert routes.match("POST", "/pets") is None
    assert routes.match("GET", "/pets/1/toys") is None
    assert compile_routes([]).match("GET", "/") is None


@pytest.mark.parametrize("path", ["/hello", "/hello/"])
def test_trailing_slash(path: str) -> None:
    assert key_of(table("GET /hello").match("GET", path)) == "GET /hello"


def test_trailing_slash_on_a_parameter() -> None:
    match = table("GET /pets/{id}").match("GET", "/pets/6/")
    assert match is not None
    assert match.path_parameters == {"id": "6"}


def test_root_path() -> None:
    routes = table("GET /", "GET /{id}")
    assert key_of(routes.match("GET", "/")) == "GET /"
    assert key_of(routes.match("GET", "")) == "GET /"
    assert key_of(routes.match("GET", "/1")) == "GET /{id}"


def test_empty_segment_never_fills_a_parameter() -> None:
    routes = table("GET /a/{x}/b")
    assert routes.match("GET", "/a//b") is None


def test_paths_are_case_sensitive() -> None:
    routes = table("GET /Pets")
    assert routes.match("GET", "/pets") is None
    assert routes.match("GET", "/Pets") is not None


def test_path_parameters_are_decoded() -> None:
    match = table("GET /pets/{name}").match("GET", "/pets/caf%C3%A9%20au%20lait")
    assert match is not None
    assert match.path_parameters == {"name": "café au lait"}


def test_plus_is_not_a_space_in_paths() -> None:
    match = table("GET /pets/{name}").match("GET", "/pets/a+b")
    assert match is not None
    assert match.path_parameters == {"name": "a+b"}


def test_encoded_slash_stays_inside_its_segment() -> None:
    routes = table("GET /files/{name}", "GET /files/a/b")
    match = routes.match("GET", "/files/a%2Fb")
    assert key_of(match) == "GET /files/{name}"
    assert match is not None
    assert match.path_parameters == {"name": "a/b"}
    assert key_of(routes.match("GET", "/files/a/b")) == "GET /files/a/b"


def test_literals_compare_decoded() -> None:
    routes = table("GET /a%20b")
    assert key_of(routes.match("GET", "/a b")) == "GET /a%20b"
    assert key_of(routes.match("GET", "/a%20b")) == "GET /a%20b"


def test_head_behaviour() -> None:
    # Reference 2.2 "HEAD" (unverified for HTTP APIs): no implicit fallback to GET.
    assert table("GET /pets").match("HEAD", "/pets") is None
    assert key_of(table("GET /pets", "ANY /pets").match("HEAD", "/pets")) == "ANY /pets"
    assert key_of(table("GET /pets", "HEAD /pets").match("HEAD", "/pets")) == "HEAD /pets"
    assert key_of(table("GET /pets", "$default").match("HEAD", "/pets")) == "$default"


def test_first_of_two_equivalent_routes_wins() -> None:
    match = table("GET /a/{x}", "GET /a/{y}").match("GET", "/a/1")
    assert match is not None
    assert match.path_parameters == {"x": "1"}


@pytest.mark.parametrize("key", ["GET", "GET pets", "GET /{proxy+}/a", "GET /a//b"])
def test_malformed_route_key_is_rejected_at_compile_time(key: str) -> None:
    with pytest.raises(ValueError, match="route key"):
        table(key)


# --- property test: match() agrees with a brute-force reading of reference 2.2 ---------------

METHODS = ["GET", "POST", "HEAD", "ANY"]
LITERALS = ["a", "b", "c%20d"]
PATH_SEGMENTS = ["a", "b", "c d", "c%20d", "x", "", "%2F", "a%2Fb", "%zz", "%FF"]


@st.composite
def route_keys(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return "$default"
    segments = draw(st.lists(st.sampled_from([*LITERALS, "{}"]), max_size=3))
    # Variable names are unique within a key, as in any valid route key.
    segments = [f"{{p{n}}}" if s == "{}" else s for n, s in enumerate(segments)]
    if draw(st.booleans()):
        segments.append("{proxy+}")
    return f"{draw(st.sampled_from(METHODS))} /{'/'.join(segments)}"


def oracle(keys: list[str], method: str, path: str) -> str | None:
    """Sort every candidate by the reference's priority; the first one wins, ties by position."""
    trimmed = path.removeprefix("/").removesuffix("/")
    segments = [unquote(s) for s in trimmed.split("/")] if trimmed else []
    candidates: list[tuple[Any, str]] = []
    for position, key in enumerate(keys):
        if key == "$default":
            candidates.append(((3, position), key))
            continue
        route_method, _, route_path = key.split(" ", 1)[0], "", key.split(" ", 1)[1]
        if route_method not in (method, "ANY"):
            continue
        parts = [p for p in route_path.split("/") if p]
        greedy = bool(parts) and parts[-1].endswith("+}")
        prefix = parts[:-1] if greedy else parts
        if greedy and not any(segments[len(prefix) :]):
            continue
        if not greedy and len(prefix) != len(segments):
            continue
        if not all(_segment_matches(p, s) for p, s in zip(prefix, segments, strict=False)):
            continue
        shape = [0 if not p.startswith("{") else 1 for p in prefix]
        method_rank = route_method == "ANY"
        rank = (2, -len(prefix), method_rank) if greedy else (1, method_rank)
        candidates.append(((*rank, shape, position), key))
    return min(candidates)[1] if candidates else None


def _segment_matches(pattern: str, segment: str) -> bool:
    return bool(segment) if pattern.startswith("{") else unquote(pattern) == segment


@given(
    keys=st.lists(route_keys(), max_size=8, unique=True),
    method=st.sampled_from(["GET", "POST", "HEAD", "DELETE"]),
    segments=st.lists(st.sampled_from(PATH_SEGMENTS), max_size=4),
    trailing=st.booleans(),
)
def test_match_agrees_with_the_reference_algorithm(
    keys: list[str], method: str, segments: list[str], trailing: bool
) -> None:
    path = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    match = table(*keys).match(method, path)
    assert key_of(match) == oracle(keys, method, path)
    if match is not None and match.route_key != "$default":
        assert _rebuilds(match, path)
    if match is not None and match.route_key == "$default":
        assert match.path_parameters == {}


def _rebuilds(match: RouteMatch, path: str) -> bool:
    """Substituting the captured parameters into the route key gives back the decoded path."""
    parts = [p for p in match.route_key.split(" ", 1)[1].split("/") if p]
    values = {f"{{{name}}}": value for name, value in match.path_parameters.items()}
    values |= {f"{{{name}+}}": value for name, value in match.path_parameters.items()}
    rebuilt = [values.get(part, unquote(part)) for part in parts]
    trimmed = path.removeprefix("/").removesuffix("/")
    decoded = [unquote(segment) for segment in trimmed.split("/")] if trimmed else []
    if parts and parts[-1].endswith("+}"):
        greedy = len(parts) - 1
        decoded = decoded[:greedy] + ["/".join(decoded[greedy:])]
    return rebuilt == decoded
