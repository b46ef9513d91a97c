"""Read an OpenAPI 3.0 definition into the operations that build an HTTP API (a pure ``Plan``).

How a definition is read, as AWS documents it for HTTP APIs:

* ``info.title`` is the API's name, ``info.version`` its version and ``info.description`` its
  description; ``x-amazon-apigateway-cors`` its CORS configuration; an
  ``x-amazon-apigateway-endpoint-configuration`` (on a server, or at the root) its
  ``disableExecuteApiEndpoint`` and ``ipAddressType``; each root ``tags`` entry a tag whose value
  is its ``x-amazon-apigateway-tag-value`` ("" without one).
* Each operation of each path is a route ``METHOD /path``; ``x-amazon-apigateway-any-method`` is
  ``ANY``, and with ``isDefaultRoute: true`` the ``$default`` route. The base path (the first
  ``basePath`` server variable, else the path of the first server's URL) is ignored, prepended,
  or split (its first segment dropped and the rest prepended), as ``Basepath`` says.
* An operation's ``x-amazon-apigateway-integration`` is its route's integration: inline (one
  integration per operation) or a ``$ref`` (one integration per reference, shared). Every entry
  of ``components.x-amazon-apigateway-integrations`` is created, referenced or not.
* Every ``components.securitySchemes`` entry with an ``x-amazon-apigateway-authorizer`` of type
  ``jwt`` or ``request`` is an authorizer named after the scheme (a JWT issuer may come from
  ``openIdConnectUrl``); ``x-amazon-apigateway-authtype: awsSigv4`` means IAM authorization. An
  operation's ``security`` (else the root's) names at most one scheme; its scopes are the
  route's JWT authorization scopes.

What an HTTP API cannot hold is a warning and is left out: integration types other than
``aws_proxy`` and ``http_proxy``, other ``x-amazon-apigateway-*`` extensions (REST-only ones),
operations without an integration, security schemes without an authorizer, TRACE operations.
Settings valid only for REST APIs inside an integration object (``passthroughBehavior``,
``requestTemplates`` ...) are import info. A body that is not an OpenAPI 3.0 object, an
unresolvable ``$ref`` or an operation with several security requirements is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from propylon.control.context import Params
from propylon.control.openapi_extensions import (
    ANY_METHOD,
    AUTHORIZER,
    AUTHORIZER_VOCABULARY,
    AUTHTYPE,
    CORS,
    ENDPOINT_CONFIGURATION,
    ENDPOINT_VOCABULARY,
    IMPORTEXPORT_VERSION,
    INTEGRATION,
    INTEGRATION_VOCABULARY,
    INTEGRATIONS,
    INTEGRATIONS_REF,
    IS_DEFAULT_ROUTE,
    PREFIX,
    SIGV4,
    TAG_VALUE,
    cors_shape,
)
from propylon.control.openapi_source import INVALID, resolve_ref, route_prefix, servers
from propylon.control.routes import HTTP_METHODS
from propylon.errors import BadRequestException
from propylon.spec.parse import from_wire

HTTP_INTEGRATION_TYPES = ("AWS_PROXY", "HTTP_PROXY")
# extension type -> (AuthorizerType, AuthorizationType of the routes that use it)
AUTHORIZER_TYPES = {"jwt": ("JWT", "JWT"), "request": ("REQUEST", "CUSTOM")}
DEFAULT_JWT_IDENTITY = "$request.header.Authorization"
OPENID_SUFFIX = "/.well-known/openid-configuration"
_INVOCATION = re.compile(
    r"arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(.+)/invocations"
)


@dataclass
class Step:
    """One create operation's input (without ``ApiId``) and where in the document it came from."""

    where: str
    params: Params


@dataclass
class RouteStep(Step):
    integration: str | None = None
    authorizer: str | None = None


@dataclass
class Plan:
    """Everything an import creates, in order, and what it had to leave out."""

    api: Params
    integrations: dict[str, Step] = field(default_factory=dict)
    authorizers: dict[str, Step] = field(default_factory=dict)
    routes: list[RouteStep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    # scheme name -> route authorization type ("NONE" for schemes an HTTP API cannot use)
    schemes: dict[str, str] = field(default_factory=dict)
    # integration keys planned but left out (unsupported types)
    skipped: set[str] = field(default_factory=set)


def plan_import(document: dict[str, Any], basepath: str) -> Plan:
    plan = Plan(api=_api(document))
    _warn_unsupported(plan, document, (CORS, IMPORTEXPORT_VERSION, ENDPOINT_CONFIGURATION), "/")
    components = _object(document.get("components"), "components")
    _warn_unsupported(plan, components, (INTEGRATIONS,), "components")
    _component_integrations(plan, components)
    _authorizers(plan, _object(components.get("securitySchemes"), "components.securitySchemes"))
    prefix = route_prefix(document, basepath)
    for path, item in document["paths"].items():
        _path_item(plan, document, str(path), _object(item, f"paths.{path}"), prefix)
    return plan


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequestException(f"{INVALID} {where} must be an object")
    return value


def _warn_unsupported(
    plan: Plan, node: dict[str, Any], allowed: tuple[str, ...], where: str
) -> None:
    for key in node:
        if str(key).startswith(PREFIX) and key not in allowed:
            plan.warnings.append(
                f"{where}: extension {key} is not supported for HTTP APIs and is ignored"
            )


# -- the API ------------------------------------------------------------------------------------


def _api(document: dict[str, Any]) -> Params:
    info = _object(document.get("info"), "info")
    title = info.get("title")
    if title is None or str(title) == "":
        raise BadRequestException(f"{INVALID} info.title is required: it names the API")
    api: Params = {"Name": str(title), "ProtocolType": "HTTP"}
    for member, key in (("Version", "version"), ("Description", "description")):
        if info.get(key) is not None:
            api[member] = str(info[key])
    if document.get(CORS) is not None:
        api["CorsConfiguration"] = from_wire(cors_shape(), _object(document[CORS], CORS))
    api.update(ENDPOINT_VOCABULARY.read(_endpoint_configuration(document)))
    tags = _tags(document.get("tags"))
    if tags:
        api["Tags"] = tags
    return api


def _endpoint_configuration(document: dict[str, Any]) -> dict[str, Any]:
    for server in servers(document):
        if server.get(ENDPOINT_CONFIGURATION) is not None:
            return _object(server[ENDPOINT_CONFIGURATION], ENDPOINT_CONFIGURATION)
    return _object(document.get(ENDPOINT_CONFIGURATION), ENDPOINT_CONFIGURATION)


def _tags(value: Any) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    return {
        str(tag["name"]): str(tag.get(TAG_VALUE, ""))
        for tag in value
        if isinstance(tag, dict) and tag.get("name") is not None
    }


# -- integrations -------------------------------------------------------------------------------


def _component_integrations(plan: Plan, components: dict[str, Any]) -> None:
    where = f"components.{INTEGRATIONS}"
    for name, value in _object(components.get(INTEGRATIONS), where).items():
        key = INTEGRATIONS_REF + str(name).replace("~", "~0").replace("/", "~1")
        _plan_integration(plan, key, _object(value, f"{where}.{name}"), f"{where}.{name}")


def _plan_integration(plan: Plan, key: str, value: dict[str, Any], where: str) -> None:
    kind = str(value.get("type", "")).upper()
    if kind not in HTTP_INTEGRATION_TYPES:
        plan.skipped.add(key)
        plan.warnings.append(
            f"{where}: integration type {value.get('type')} is not supported for HTTP APIs "
            "(only aws_proxy and http_proxy are); the integration is ignored"
        )
        return
    for extra in value.keys() - INTEGRATION_VOCABULARY.keys.keys():
        plan.info.append(f"{where}: {extra} is not supported for HTTP APIs and is ignored")
    plan.integrations[key] = Step(where, _integration_params(value, kind))


def _integration_params(value: dict[str, Any], kind: str) -> Params:
    """The integration's members, with values people write loosely made as the model has them."""
    params = {**INTEGRATION_VOCABULARY.read(value), "IntegrationType": kind}
    version = params.get("PayloadFormatVersion", "2.0" if kind == "AWS_PROXY" else None)
    if version is not None:
        params["PayloadFormatVersion"] = _version(version)
    for member in ("IntegrationMethod", "ConnectionType"):
        if isinstance(params.get(member), str):
            params[member] = params[member].upper()
    if isinstance(params.get("TimeoutInMillis"), str) and params["TimeoutInMillis"].isdigit():
        params["TimeoutInMillis"] = int(params["TimeoutInMillis"])
    if isinstance(params.get("IntegrationUri"), str):
        params["IntegrationUri"] = function_arn(params["IntegrationUri"])
    return params


def function_arn(uri: str) -> str:
    """A Lambda invocation URI's function ARN, as quick create stores it; other URIs unchanged."""
    match = _INVOCATION.fullmatch(uri)
    return match[1] if match else uri


def _version(value: Any) -> str:
    """Payload format versions written as YAML or JSON numbers (``1.0``) as the model's text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.1f}"
    return str(value)


def _operation_integration(
    plan: Plan, document: dict[str, Any], operation: dict[str, Any], where: str
) -> str | None:
    value = operation.get(INTEGRATION)
    if value is None:
        plan.warnings.append(
            f"{where}: the operation has no {INTEGRATION}; the route is created without one"
        )
        return None
    value = _object(value, f"{where} {INTEGRATION}")
    key = where
    if "$ref" in value:
        key = str(value["$ref"])
        if key not in plan.integrations and key not in plan.skipped:
            target = _object(resolve_ref(document, key), key)
            _plan_integration(plan, key, target, key)
    else:
        _plan_integration(plan, key, value, f"{where} {INTEGRATION}")
    return None if key in plan.skipped else key


# -- authorizers and security -------------------------------------------------------------------


def _authorizers(plan: Plan, schemes: dict[str, Any]) -> None:
    for name, value in schemes.items():
        where = f"components.securitySchemes.{name}"
        scheme = _object(value, where)
        _warn_unsupported(plan, scheme, (AUTHORIZER, AUTHTYPE), where)
        if scheme.get(AUTHORIZER) is not None:
            _plan_authorizer(plan, str(name), scheme, where)
        elif str(scheme.get(AUTHTYPE, "")).lower() == SIGV4.lower():
            plan.schemes[str(name)] = "AWS_IAM"
        else:
            plan.schemes[str(name)] = "NONE"
            plan.warnings.append(
                f"{where}: a security scheme without {AUTHORIZER} is not supported for HTTP "
                "APIs; routes that use it are created without authorization"
            )


def _plan_authorizer(plan: Plan, name: str, scheme: dict[str, Any], where: str) -> None:
    value = _object(scheme[AUTHORIZER], f"{where}.{AUTHORIZER}")
    kind = AUTHORIZER_TYPES.get(str(value.get("type", "")).lower())
    if kind is None:
        plan.schemes[name] = "NONE"
        plan.warnings.append(
            f"{where}: authorizer type {value.get('type')} is not supported for HTTP APIs "
            "(only jwt and request are); routes that use it are created without authorization"
        )
        return
    authorizer_type, route_type = kind
    params = {**_authorizer_params(value), "Name": name, "AuthorizerType": authorizer_type}
    params["IdentitySource"] = _identity_source(params.get("IdentitySource"), authorizer_type)
    if authorizer_type == "JWT":
        _jwt_issuer(params, scheme)
    plan.authorizers[name] = Step(where, params)
    plan.schemes[name] = route_type


def _authorizer_params(value: dict[str, Any]) -> Params:
    """The authorizer's members, with values people write as text or numbers made typed."""
    params = AUTHORIZER_VOCABULARY.read(value)
    ttl = params.get("AuthorizerResultTtlInSeconds")
    if isinstance(ttl, str) and ttl.isdigit():
        params["AuthorizerResultTtlInSeconds"] = int(ttl)
    if params.get("AuthorizerPayloadFormatVersion") is not None:
        version = params["AuthorizerPayloadFormatVersion"]
        params["AuthorizerPayloadFormatVersion"] = _version(version)
    if isinstance(params.get("EnableSimpleResponses"), str):
        params["EnableSimpleResponses"] = params["EnableSimpleResponses"].lower() == "true"
    return params


def _identity_source(value: Any, kind: str) -> Any:
    """The extension's comma-separated identity sources as the model's list."""
    if value is None:
        return [DEFAULT_JWT_IDENTITY] if kind == "JWT" else []
    if isinstance(value, str):
        return [source.strip() for source in value.split(",") if source.strip()]
    return value


def _jwt_issuer(params: Params, scheme: dict[str, Any]) -> None:
    url = scheme.get("openIdConnectUrl")
    configuration = dict(params.get("JwtConfiguration") or {})
    if isinstance(url, str) and not configuration.get("Issuer"):
        configuration["Issuer"] = url.removesuffix(OPENID_SUFFIX)
        params["JwtConfiguration"] = configuration


def _authorization(
    plan: Plan, document: dict[str, Any], operation: dict[str, Any], where: str
) -> tuple[Params, str | None]:
    requirements = operation.get("security", document.get("security"))
    if requirements is None:
        return {}, None
    if not isinstance(requirements, list) or not all(isinstance(r, dict) for r in requirements):
        raise BadRequestException(f"{INVALID} {where}: security must be a list of objects")
    named = [requirement for requirement in requirements if requirement]
    if not named:
        return {}, None
    if len(named) > 1 or len(named[0]) > 1:
        raise BadRequestException(
            f"{where}: HTTP APIs support only one security requirement per operation"
        )
    ((name, scopes),) = named[0].items()
    kind = plan.schemes.get(str(name))
    if kind is None:
        raise BadRequestException(
            f"{INVALID} {where}: security scheme {name} is not defined in "
            "components.securitySchemes"
        )
    if kind == "NONE":
        return {}, None
    params: Params = {"AuthorizationType": kind}
    scopes = [str(scope) for scope in scopes or []]
    if scopes and kind == "JWT":
        params["AuthorizationScopes"] = scopes
    elif scopes:
        plan.warnings.append(f"{where}: scopes apply only to JWT authorizers and are ignored")
    return params, str(name) if kind in ("JWT", "CUSTOM") else None


# -- routes -------------------------------------------------------------------------------------


def _path_item(
    plan: Plan, document: dict[str, Any], path: str, item: dict[str, Any], prefix: str
) -> None:
    _warn_unsupported(plan, item, (ANY_METHOD,), f"paths.{path}")
    for key, operation in item.items():
        method = "ANY" if key == ANY_METHOD else str(key).upper()
        if key == "trace":
            plan.warnings.append(f"paths.{path}: TRACE is not supported by HTTP APIs; ignored")
        elif method in HTTP_METHODS and (method != "ANY" or key == ANY_METHOD):
            operation = _object(operation, f"paths.{path}.{key}")
            _route(plan, document, _route_key(method, path, prefix, operation), operation)


def _route_key(method: str, path: str, prefix: str, operation: dict[str, Any]) -> str:
    if method == "ANY" and operation.get(IS_DEFAULT_ROUTE) is True:
        return "$default"
    joined = prefix + path if path != "/" else prefix or "/"
    return f"{method} {joined}"


def _route(plan: Plan, document: dict[str, Any], route_key: str, operation: dict[str, Any]) -> None:
    _warn_unsupported(plan, operation, (INTEGRATION,), route_key)
    params: Params = {"RouteKey": route_key}
    if operation.get("operationId") is not None:
        params["OperationName"] = str(operation["operationId"])
    authorization, authorizer = _authorization(plan, document, operation, route_key)
    params.update(authorization)
    integration = _operation_integration(plan, document, operation, route_key)
    plan.routes.append(RouteStep(route_key, params, integration, authorizer))
