"""Write an HTTP API's configuration as an OpenAPI 3.0 definition, as AWS exports it.

The document has the API's name, description and version (the creation time when it has no
version) in ``info``; one server, ``{endpoint}/{basePath}`` with ``basePath`` defaulting to the
exported stage's name ("" for ``$default`` or the live configuration); one operation per route,
``ANY`` as ``x-amazon-apigateway-any-method`` and ``$default`` as ``/$default`` with
``isDefaultRoute``; a generated path parameter for each ``{name}`` segment; each authorizer as a
security scheme named after it (JWT as ``oauth2``, Lambda as ``apiKey``) and each route's
authorization as ``security``, IAM as the ``sigv4`` scheme.

With extensions (the default) each route carries its integration: inline when no other route
uses it, else a ``$ref`` into ``components.x-amazon-apigateway-integrations``, where integrations
no route uses are kept too (``unusedIntegration_{id}``) so an import gives the same API back.
CORS, the endpoint settings, tags and ``x-amazon-apigateway-importexport-version`` are written
too. A Lambda function ARN is written as its invocation URI, as AWS writes it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from propylon.control.apis import api_endpoint
from propylon.control.arns import is_lambda_function_arn, lambda_invocation_uri
from propylon.control.context import Call
from propylon.control.openapi_extensions import (
    ANY_METHOD,
    AUTHORIZER,
    AUTHORIZER_VOCABULARY,
    AUTHTYPE,
    CORS,
    DEFAULT_ROUTE_PATH,
    ENDPOINT_CONFIGURATION,
    ENDPOINT_DEFAULTS,
    ENDPOINT_VOCABULARY,
    EXPORT_VERSION,
    IMPORTEXPORT_VERSION,
    INTEGRATION,
    INTEGRATION_VOCABULARY,
    INTEGRATIONS,
    INTEGRATIONS_REF,
    IS_DEFAULT_ROUTE,
    SIGV4,
    TAG_VALUE,
    cors_shape,
)
from propylon.control.stages import DEFAULT_STAGE
from propylon.spec.serialize import to_wire
from propylon.store import Record

OPENAPI_VERSION = "3.0.1"
SIGV4_SCHEME = "sigv4"
_AUTHORIZER_SPECIAL = frozenset({"AuthorizerType", "IdentitySource"})


@dataclass(frozen=True)
class Source:
    """The configuration an export describes: the live one, or a deployment's snapshot."""

    api: Record
    routes: list[Record]
    integrations: list[Record]
    authorizers: list[Record]


@dataclass(frozen=True)
class Names:
    """How the document refers to authorizers and shared integrations, by id."""

    schemes: dict[str, str]
    refs: dict[str, str]


def export_document(
    call: Call, source: Source, stage: str | None, extensions: bool
) -> dict[str, Any]:
    api = source.api
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": _info(api),
        "servers": [_server(call, api, stage, extensions)],
    }
    if extensions and api.get("Tags"):
        document["tags"] = [{"name": k, TAG_VALUE: v} for k, v in api["Tags"].items()]
    shared = _shared_integrations(source) if extensions else {}
    refs = {integration_id: INTEGRATIONS_REF + name for integration_id, name in shared.items()}
    names = Names(_scheme_names(source.authorizers), refs)
    document["paths"] = _paths(source, names, extensions)
    components = _components(source, names, shared, extensions)
    if components:
        document["components"] = components
    if extensions:
        document.update(_root_extensions(api))
    return document


def _root_extensions(api: Record) -> dict[str, Any]:
    written: dict[str, Any] = {}
    if api.get("CorsConfiguration") is not None:
        written[CORS] = to_wire(cors_shape(), api["CorsConfiguration"])
    written[IMPORTEXPORT_VERSION] = EXPORT_VERSION
    return written


def render(document: dict[str, Any], output_type: str) -> bytes:
    if output_type == "YAML":
        import yaml  # on first use: it costs start-up time every server would pay

        text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        return text.encode()
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def _info(api: Record) -> dict[str, Any]:
    info: dict[str, Any] = {"title": api["Name"]}
    if api.get("Description") is not None:
        info["description"] = api["Description"]
    created = str(api.get("CreatedDate", ""))
    info["version"] = api.get("Version") or created.replace("T", " ").replace("Z", "UTC")
    return info


def _server(call: Call, api: Record, stage: str | None, extensions: bool) -> dict[str, Any]:
    base = "" if stage in (None, DEFAULT_STAGE) else stage
    server: dict[str, Any] = {
        "url": f"{api_endpoint(call, api)}/{{basePath}}",
        "variables": {"basePath": {"default": base}},
    }
    changed = {k: v for k, v in api.items() if k in ENDPOINT_DEFAULTS and v != ENDPOINT_DEFAULTS[k]}
    if extensions and changed:
        server[ENDPOINT_CONFIGURATION] = ENDPOINT_VOCABULARY.write(changed)
    return server


# -- paths --------------------------------------------------------------------------------------


def _paths(source: Source, names: Names, extensions: bool) -> dict[str, Any]:
    integrations = {i["IntegrationId"]: i for i in source.integrations}
    paths: dict[str, dict[str, Any]] = {}
    for route in source.routes:
        path, key = _location(route["RouteKey"])
        operation = _operation(route, names)
        integration = integrations.get(_target(route) or "")
        if extensions and integration is not None:
            reference = names.refs.get(integration["IntegrationId"])
            operation[INTEGRATION] = {"$ref": reference} if reference else _integration(integration)
        paths.setdefault(path, {})[key] = operation
    for path, item in paths.items():
        parameters = _path_parameters(path)
        if parameters:
            item["parameters"] = parameters
    return paths


def _location(route_key: str) -> tuple[str, str]:
    """The path and the path item key of a route."""
    if route_key == "$default":
        return DEFAULT_ROUTE_PATH, ANY_METHOD
    method, _, path = route_key.partition(" ")
    return path, ANY_METHOD if method == "ANY" else method.lower()


def _target(route: Record) -> str | None:
    target = route.get("Target")
    return target.removeprefix("integrations/") if isinstance(target, str) else None


def _operation(route: Record, names: Names) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if route["RouteKey"] == "$default":
        operation[IS_DEFAULT_ROUTE] = True
    if route.get("OperationName"):
        operation["operationId"] = route["OperationName"]
    operation["responses"] = {
        "default": {"description": f"Default response for {route['RouteKey']}"}
    }
    kind = route.get("AuthorizationType", "NONE")
    if kind == "AWS_IAM":
        operation["security"] = [{SIGV4_SCHEME: []}]
    elif kind in ("JWT", "CUSTOM") and route.get("AuthorizerId") in names.schemes:
        scheme = names.schemes[route["AuthorizerId"]]
        operation["security"] = [{scheme: list(route.get("AuthorizationScopes") or [])}]
    return operation


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for segment in path.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1].removesuffix("+")
            parameters.append(
                {
                    "name": name,
                    "in": "path",
                    "description": f"Generated path parameter for {name}",
                    "required": True,
                    "schema": {"type": "string"},
                }
            )
    return parameters


def _integration(integration: Record) -> dict[str, Any]:
    written = INTEGRATION_VOCABULARY.write(integration)
    written["type"] = written["type"].lower()
    uri = integration.get("IntegrationUri")
    if integration["IntegrationType"] == "AWS_PROXY" and uri and is_lambda_function_arn(uri):
        written["uri"] = lambda_invocation_uri(uri.split(":")[3], uri)
    return written


# -- components ---------------------------------------------------------------------------------


def _components(
    source: Source, names: Names, shared: dict[str, str], extensions: bool
) -> dict[str, Any]:
    components: dict[str, Any] = {}
    schemes = {names.schemes[a["AuthorizerId"]]: _scheme(a, extensions) for a in source.authorizers}
    if any(r.get("AuthorizationType") == "AWS_IAM" for r in source.routes):
        schemes[SIGV4_SCHEME] = _sigv4_scheme(extensions)
    if schemes:
        components["securitySchemes"] = schemes
    if shared:
        integrations = {i["IntegrationId"]: i for i in source.integrations}
        components[INTEGRATIONS] = {
            name: _integration(integrations[integration_id])
            for integration_id, name in shared.items()
        }
    return components


def _scheme_names(authorizers: list[Record]) -> dict[str, str]:
    """Authorizer id -> scheme name: the authorizer's name, made unique with its id."""
    names: dict[str, str] = {}
    for authorizer in authorizers:
        name = authorizer["Name"]
        if name in names.values() or name == SIGV4_SCHEME:
            name = f"{name}-{authorizer['AuthorizerId']}"
        names[authorizer["AuthorizerId"]] = name
    return names


def _scheme(authorizer: Record, extensions: bool) -> dict[str, Any]:
    sources = list(authorizer.get("IdentitySource") or [])
    if authorizer["AuthorizerType"] == "JWT":
        scheme: dict[str, Any] = {"type": "oauth2", "flows": {}}
    else:
        location, _, name = (sources[0] if len(sources) == 1 else "").rpartition(".")
        query = location == "$request.querystring"
        header = location == "$request.header"
        scheme = {"type": "apiKey", "name": name if query or header else "Unused"}
        scheme["in"] = "query" if query else "header"
        if extensions:
            scheme[AUTHTYPE] = "custom"
    if extensions:
        written = {"identitySource": ", ".join(sources)}
        written.update(AUTHORIZER_VOCABULARY.write(authorizer, _AUTHORIZER_SPECIAL))
        written["type"] = authorizer["AuthorizerType"].lower()
        scheme[AUTHORIZER] = written
    return scheme


def _sigv4_scheme(extensions: bool) -> dict[str, Any]:
    scheme: dict[str, Any] = {"type": "apiKey", "name": "Authorization", "in": "header"}
    if extensions:
        scheme[AUTHTYPE] = SIGV4
    return scheme


def _shared_integrations(source: Source) -> dict[str, str]:
    """Integration id -> component name, for those no route or several routes use."""
    uses = Counter(_target(route) for route in source.routes)
    shared: dict[str, str] = {}
    for integration in source.integrations:
        count = uses[integration["IntegrationId"]]
        if count != 1:
            prefix = "unusedIntegration" if count == 0 else "sharedIntegration"
            shared[integration["IntegrationId"]] = f"{prefix}_{integration['IntegrationId']}"
    return shared
