"""The OpenAPI document an import reads: parsed, checked, with AWS variables resolved.

The body is JSON or YAML (tried in that order; YAML through ``yaml.safe_load``, so no tags run
code). It must be an OpenAPI 3.0 object with a ``paths`` object: HTTP APIs take no Swagger 2.0
and no OpenAPI 3.1, as AWS documents. ``x-amazon-apigateway-importexport-version``, when given,
must be 1.0. ``${AWS::AccountId}``, ``${AWS::Region}`` and ``${AWS::Partition}`` are replaced in
every string value, as AWS does on import. ``$ref`` values are local JSON pointers.

The base path is the default of the first ``basePath`` server variable, else the path of the
first server's URL (its variables replaced by their defaults). ``Basepath=ignore`` (the default)
leaves paths alone, ``prepend`` puts the base path before each, ``split`` drops the base path's
first segment (a stage name, for REST APIs) and puts the rest before each.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from propylon.control.openapi_extensions import EXPORT_VERSION, IMPORTEXPORT_VERSION
from propylon.errors import BadRequestException

INVALID = "Invalid OpenAPI input."
PARTITION = "aws"
BASEPATH_MODES = ("ignore", "prepend", "split")
_SERVER_VARIABLE = re.compile(r"\{([^{}]+)\}")


def parse_body(body: str) -> dict[str, Any]:
    """The document in a JSON or YAML body; a body that is neither is a BadRequest."""
    try:
        document = json.loads(body)
    except ValueError:
        import yaml  # on first use: it costs start-up time every server would pay

        try:
            document = yaml.safe_load(body)
        except yaml.YAMLError as exc:
            detail = " ".join(str(exc).split())
            raise BadRequestException(
                f"{INVALID} Unable to parse the definition as JSON or YAML: {detail}"
            ) from None
    if not isinstance(document, dict):
        raise BadRequestException(f"{INVALID} The definition must be a JSON or YAML object")
    return document


def check_document(document: dict[str, Any]) -> None:
    """Refuse what is not an OpenAPI 3.0 definition an HTTP API can be built from."""
    version = document.get("openapi")
    if "swagger" in document or version is None:
        raise BadRequestException(
            f"{INVALID} HTTP APIs support only OpenAPI 3.0 definitions "
            "(an openapi field of 3.0.x); Swagger 2.0 is not supported"
        )
    if not str(version).startswith("3.0"):
        raise BadRequestException(
            f"{INVALID} Unsupported OpenAPI version {version}: HTTP APIs support only OpenAPI 3.0"
        )
    declared = document.get(IMPORTEXPORT_VERSION)
    if declared is not None and str(declared) != EXPORT_VERSION:
        raise BadRequestException(
            f"Unsupported {IMPORTEXPORT_VERSION} {declared}: "
            f"the only supported version is {EXPORT_VERSION}"
        )
    if not isinstance(document.get("paths"), dict):
        raise BadRequestException(f"{INVALID} The definition must have a paths object")


def substitute(value: Any, account: str, region: str) -> Any:
    """``value`` with the AWS variables of every string replaced."""
    variables = {
        "${AWS::AccountId}": account,
        "${AWS::Region}": region,
        "${AWS::Partition}": PARTITION,
    }
    return _substitute(value, variables)


def _substitute(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in variables.items():
            value = value.replace(name, replacement)
        return value
    if isinstance(value, dict):
        return {key: _substitute(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, variables) for item in value]
    return value


def resolve_ref(document: dict[str, Any], ref: str) -> Any:
    """The value a local ``$ref`` (``#/a/b``) points at; anything else is a BadRequest."""
    if not ref.startswith("#/"):
        raise BadRequestException(f"{INVALID} Only local references are supported: {ref}")
    node: Any = document
    for part in ref[2:].split("/"):
        name = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            raise BadRequestException(f"{INVALID} Unable to resolve reference {ref}")
    return node


def servers(document: dict[str, Any]) -> list[dict[str, Any]]:
    listed = document.get("servers")
    if not isinstance(listed, list):
        return []
    return [server for server in listed if isinstance(server, dict)]


# -- base path ----------------------------------------------------------------------------------


def route_prefix(document: dict[str, Any], mode: str) -> str:
    """What the ``Basepath`` mode puts before every path: "", or "/a/b"."""
    if mode not in BASEPATH_MODES:
        raise BadRequestException(
            f"Invalid basepath mode {mode}: valid values are {', '.join(BASEPATH_MODES)}"
        )
    segments = [segment for segment in base_path(document).split("/") if segment]
    if mode == "ignore":
        return ""
    if mode == "split":
        segments = segments[1:]
    return "".join("/" + segment for segment in segments)


def base_path(document: dict[str, Any]) -> str:
    found = servers(document)
    for server in found:
        variables = server.get("variables")
        if isinstance(variables, dict) and isinstance(variables.get("basePath"), dict):
            return str(variables["basePath"].get("default", ""))
    if not found:
        return ""
    url = str(found[0].get("url", ""))
    return urlsplit(_SERVER_VARIABLE.sub(lambda m: _default(found[0], m[1]), url)).path


def _default(server: dict[str, Any], name: str) -> str:
    variables = server.get("variables")
    variable = variables.get(name) if isinstance(variables, dict) else None
    return str(variable.get("default", "")) if isinstance(variable, dict) else ""
