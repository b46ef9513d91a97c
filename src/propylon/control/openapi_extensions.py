"""The vocabulary of API Gateway's OpenAPI extensions for HTTP APIs, and how it maps to the model.

An extension object mostly names a setting by the wire name of the matching model member
(``payloadFormatVersion``, ``timeoutInMillis``, ``jwtConfiguration`` ...), but renames a few
(``type``, ``uri``, ``httpMethod``, ``credentials``, ``authorizerCredentials``). A ``Vocabulary``
lists the members an extension object carries for HTTP APIs and the renames; every other key,
and the shapes of nested structures (``tlsConfig``, ``jwtConfiguration``, the CORS object),
comes from the service model, so reading and writing an extension is ``from_wire``/``to_wire``.
Extension *names* (``x-amazon-apigateway-...``) are AWS's OpenAPI vocabulary, not the model's,
so they are spelled out here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from botocore.model import Shape

from propylon.control.context import Params
from propylon.control.crud import SERVICE
from propylon.spec.model import load_service_model
from propylon.spec.parse import from_wire
from propylon.spec.serialize import to_wire
from propylon.store import Record

PREFIX = "x-amazon-apigateway-"
INTEGRATION = "x-amazon-apigateway-integration"
INTEGRATIONS = "x-amazon-apigateway-integrations"
ANY_METHOD = "x-amazon-apigateway-any-method"
AUTHORIZER = "x-amazon-apigateway-authorizer"
AUTHTYPE = "x-amazon-apigateway-authtype"
CORS = "x-amazon-apigateway-cors"
ENDPOINT_CONFIGURATION = "x-amazon-apigateway-endpoint-configuration"
IMPORTEXPORT_VERSION = "x-amazon-apigateway-importexport-version"
TAG_VALUE = "x-amazon-apigateway-tag-value"
IS_DEFAULT_ROUTE = "isDefaultRoute"
EXPORT_VERSION = "1.0"
SIGV4 = "awsSigv4"
DEFAULT_ROUTE_PATH = "/$default"
INTEGRATIONS_REF = f"#/components/{INTEGRATIONS}/"


@dataclass(frozen=True)
class Vocabulary:
    """The members of ``operation``'s input an extension object carries, in export order."""

    operation: str
    members: tuple[str, ...]
    renames: dict[str, str] = field(default_factory=dict)

    @cached_property
    def keys(self) -> dict[str, tuple[str, Shape]]:
        """Extension key -> (member name, member shape)."""
        shape = load_service_model(SERVICE).operation_model(self.operation).input_shape
        table: dict[str, tuple[str, Shape]] = {}
        for name in self.members:
            member: Shape = shape.members[name]
            table[self.renames.get(name, member.serialization.get("name", name))] = (name, member)
        return table

    def read(self, extension: dict[str, Any]) -> Params:
        """The members an extension object sets, converted to member names."""
        return {
            member: from_wire(shape, extension[key])
            for key, (member, shape) in self.keys.items()
            if extension.get(key) is not None
        }

    def write(self, record: Record, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The extension object for a record's members (those in ``skip`` left out)."""
        return {
            key: to_wire(shape, record[member])
            for key, (member, shape) in self.keys.items()
            if member not in skip and record.get(member) is not None
        }


INTEGRATION_VOCABULARY = Vocabulary(
    "CreateIntegration",
    (
        "PayloadFormatVersion",
        "IntegrationType",
        "IntegrationMethod",
        "IntegrationUri",
        "ConnectionType",
        "ConnectionId",
        "CredentialsArn",
        "IntegrationSubtype",
        "TimeoutInMillis",
        "RequestParameters",
        "ResponseParameters",
        "TlsConfig",
        "Description",
    ),
    {
        "IntegrationType": "type",
        "IntegrationUri": "uri",
        "IntegrationMethod": "httpMethod",
        "CredentialsArn": "credentials",
    },
)
AUTHORIZER_VOCABULARY = Vocabulary(
    "CreateAuthorizer",
    (
        "IdentitySource",
        "AuthorizerUri",
        "AuthorizerCredentialsArn",
        "AuthorizerPayloadFormatVersion",
        "AuthorizerResultTtlInSeconds",
        "EnableSimpleResponses",
        "JwtConfiguration",
        "AuthorizerType",
    ),
    {"AuthorizerType": "type", "AuthorizerCredentialsArn": "authorizerCredentials"},
)
ENDPOINT_VOCABULARY = Vocabulary("CreateApi", ("DisableExecuteApiEndpoint", "IpAddressType"))
# what an API without endpoint settings has; an export writes only what differs
ENDPOINT_DEFAULTS = {"DisableExecuteApiEndpoint": False, "IpAddressType": "ipv4"}


def cors_shape() -> Shape:
    """The model's CORS structure: its wire names are the ``x-amazon-apigateway-cors`` keys."""
    shape = load_service_model(SERVICE).operation_model("CreateApi").input_shape
    member: Shape = shape.members["CorsConfiguration"]
    return member
