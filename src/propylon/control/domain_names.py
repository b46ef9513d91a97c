"""Custom domain names: one regional configuration, mutual TLS, the routing mode and tags.

A domain name is keyed by its name at the (account, region) root, so its ARN
``arn:aws:apigateway:{region}::/domainnames/{name}`` names the record for tagging. A name is a
host name, optionally a wildcard (``*.example.com``), and is unique per region (``Conflict``).

Creating one takes exactly one ``DomainNameConfigurations`` entry holding an ACM certificate of
the same region; as AWS does for HTTP and WebSocket APIs, only REGIONAL endpoints are accepted.
The configuration is completed the way AWS completes it: ``ApiGatewayDomainName``
(``d-{10 chars}.execute-api.{region}.amazonaws.com``, kept for the domain's life), the region's
execute-api ``HostedZoneId``, ``DomainNameStatus`` AVAILABLE, and the defaults ``SecurityPolicy``
TLS_1_2 and ``IpAddressType`` ipv4. ``UpdateDomainName`` merges a new configuration over the old
one, field by field.

Mutual TLS takes an ``s3://bucket/key`` truststore and needs the TLS_1_2 policy. Propylon does not
read the truststore, so it never reports ``TruststoreWarnings``; updating with a
``MutualTlsAuthentication`` that has no ``TruststoreUri`` turns mutual TLS off (the model refuses an
empty one). ``RoutingMode`` defaults to API_MAPPING_ONLY. Deleting a
domain name deletes its API mappings and routing rules with it (the store deletes subtrees).
"""

from __future__ import annotations

import re
from typing import Any

from propylon.control.arns import resource_arn
from propylon.control.context import Call, Params, new_id
from propylon.control.crud import Behaviour, Parents, ResourceSpec
from propylon.control.tags import check_tags
from propylon.errors import BadRequestException
from propylon.store import Record

DOMAIN = ("domainnames", "DomainName")
NOT_FOUND = "The domain name resource specified in the request was not found."
CONFLICT = "The domain name resource already exists."
SELECTION_EXPRESSION = "$request.basepath"
DEFAULT_ROUTING_MODE = "API_MAPPING_ONLY"
MTLS_POLICY = "TLS_1_2"
# Route 53 hosted zones of the regional execute-api endpoints (AWS General Reference).
HOSTED_ZONES = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "af-south-1": "Z2DHW2332DAMTN",
    "ap-east-1": "Z3FD1VL90ND7K5",
    "ap-south-1": "Z3VO1THU9YC4UR",
    "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ap-northeast-2": "Z20JF4UZKIW1U8",
    "ap-northeast-3": "Z2YQB5RD63NC85",
    "ap-southeast-1": "ZL327KTPIQFUL",
    "ap-southeast-2": "Z2RPCDW04V8134",
    "ca-central-1": "Z19DQILCV0OWEC",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-west-3": "Z3KY65QIEKYHQQ",
    "eu-south-1": "Z3BT4WSQ9TDYZV",
    "eu-north-1": "Z3UWIKFBOOGXPP",
    "me-south-1": "Z20ZBPC0SS8806",
    "sa-east-1": "ZCMLWB8V5SYIT",
}
# Members of a configuration that API Gateway computes; what a client sends for them is ignored.
COMPUTED = ("ApiGatewayDomainName", "HostedZoneId", "DomainNameStatus", "DomainNameStatusMessage")
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})+")
_CERTIFICATE = re.compile(
    r"arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+"
)
_TRUSTSTORE = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+")


def check_host_name(name: str) -> None:
    """A fully qualified host name, optionally with a leading ``*.`` wildcard label."""
    if len(name) > 253 or not _HOST.fullmatch(name):
        raise BadRequestException(f"Invalid domain name specified: {name}")


def check_certificate(arn: str | None, region: str) -> None:
    """An ACM certificate ARN in ``region``."""
    match = _CERTIFICATE.fullmatch(arn or "")
    if match is None or match["region"] != region:
        raise BadRequestException(
            f"Invalid certificate ARN specified: {arn}. "
            f"Use an AWS Certificate Manager certificate in {region}"
        )


def _single(configurations: Any) -> dict[str, Any]:
    if not isinstance(configurations, list) or len(configurations) != 1:
        raise BadRequestException("Invalid input. Expected one domain name configuration")
    configuration: dict[str, Any] = configurations[0]
    return configuration


def _configuration(call: Call, given: dict[str, Any], old: Record | None) -> Record:
    merged: Record = {
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
        "IpAddressType": "ipv4",
        **(old or {}),
        **{name: value for name, value in given.items() if name not in COMPUTED},
    }
    if merged["EndpointType"] != "REGIONAL":
        raise BadRequestException(
            "Only REGIONAL endpoints are supported for the custom domain names of HTTP and "
            "WebSocket APIs"
        )
    check_certificate(merged.get("CertificateArn"), call.region)
    gateway = (old or {}).get("ApiGatewayDomainName")
    merged["ApiGatewayDomainName"] = (
        gateway or f"d-{new_id(10)}.execute-api.{call.region}.amazonaws.com"
    )
    merged["DomainNameStatus"] = "AVAILABLE"
    if call.region in HOSTED_ZONES:
        merged["HostedZoneId"] = HOSTED_ZONES[call.region]
    return merged


def _mutual_tls(given: dict[str, Any]) -> Record | None:
    """The stored mutual TLS settings for ``given``; None turns mutual TLS off."""
    uri = given.get("TruststoreUri")
    if not uri:
        return None
    if not _TRUSTSTORE.fullmatch(uri):
        raise BadRequestException(
            f"Invalid truststore URI specified: {uri}. Use an Amazon S3 URL: s3://bucket/key"
        )
    settings: Record = {"TruststoreUri": uri}
    if given.get("TruststoreVersion"):
        settings["TruststoreVersion"] = given["TruststoreVersion"]
    return settings


def _check_policy(record: Record) -> None:
    policy = record["DomainNameConfigurations"][0]["SecurityPolicy"]
    if record.get("MutualTlsAuthentication") and policy != MTLS_POLICY:
        raise BadRequestException(
            f"Mutual TLS authentication requires the {MTLS_POLICY} security policy"
        )


def _with_mutual_tls(record: Record, given: dict[str, Any] | None) -> Record:
    if given is None:
        return record
    settings = _mutual_tls(given)
    updated = {k: v for k, v in record.items() if k != "MutualTlsAuthentication"}
    if settings is not None:
        updated["MutualTlsAuthentication"] = settings
    return updated


class DomainNames(Behaviour):
    def create(self, call: Call, spec: ResourceSpec, params: Params, parents: Parents) -> Record:
        name = params["DomainName"]
        check_host_name(name)
        check_tags(params.get("Tags"))
        configuration = _single(params.get("DomainNameConfigurations"))
        record: Record = {
            "DomainName": name,
            "DomainNameArn": resource_arn(call.region, f"/domainnames/{name}"),
            "ApiMappingSelectionExpression": SELECTION_EXPRESSION,
            "DomainNameConfigurations": [_configuration(call, configuration, None)],
            "RoutingMode": params.get("RoutingMode") or DEFAULT_ROUTING_MODE,
            "Tags": params.get("Tags") or {},
        }
        record = _with_mutual_tls(record, params.get("MutualTlsAuthentication"))
        _check_policy(record)
        return record

    def update(
        self, call: Call, spec: ResourceSpec, record: Record, params: Params, parents: Parents
    ) -> Record:
        updated = dict(record)
        if params.get("DomainNameConfigurations") is not None:
            given = _single(params["DomainNameConfigurations"])
            old = record["DomainNameConfigurations"][0]
            updated["DomainNameConfigurations"] = [_configuration(call, given, old)]
        if params.get("RoutingMode") is not None:
            updated["RoutingMode"] = params["RoutingMode"]
        updated = _with_mutual_tls(updated, params.get("MutualTlsAuthentication"))
        _check_policy(updated)
        return updated


DOMAIN_SPEC = ResourceSpec(
    kind="domainnames",
    path=(DOMAIN,),
    not_found=NOT_FOUND,
    create="CreateDomainName",
    get="GetDomainName",
    list="GetDomainNames",
    update="UpdateDomainName",
    delete="DeleteDomainName",
    behaviour=DomainNames(),
    conflict=CONFLICT,
)
