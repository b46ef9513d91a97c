"""CreateDomainName, GetDomainName(s), UpdateDomainName, DeleteDomainName, and their tags."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.helpers import error, status

NAME = "api.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:000000000000:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_CERTIFICATE = (
    "arn:aws:acm:us-east-1:000000000000:certificate/feedface-0000-1111-2222-333344445555"
)
TRUSTSTORE = "s3://truststores-bucket/api/truststore.pem"
NOT_FOUND = "The domain name resource specified in the request was not found."


def create(client: Any, name: str = NAME, **extra: Any) -> dict[str, Any]:
    configuration = {"CertificateArn": CERTIFICATE, **extra.pop("configuration", {})}
    domain: dict[str, Any] = client.create_domain_name(
        DomainName=name, DomainNameConfigurations=[configuration], **extra
    )
    return domain


# CreateDomainName


def test_create_answers_201_with_aws_defaults(client: Any) -> None:
    domain = create(client)
    assert status(domain) == 201
    assert domain["DomainName"] == NAME
    assert domain["DomainNameArn"] == f"arn:aws:apigateway:us-east-1::/domainnames/{NAME}"
    assert domain["ApiMappingSelectionExpression"] == "$request.basepath"
    assert domain["RoutingMode"] == "API_MAPPING_ONLY"
    assert domain["Tags"] == {}
    assert "MutualTlsAuthentication" not in domain
    (configuration,) = domain["DomainNameConfigurations"]
    assert re.fullmatch(
        r"d-[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com",
        configuration["ApiGatewayDomainName"],
    )
    assert configuration["CertificateArn"] == CERTIFICATE
    assert configuration["EndpointType"] == "REGIONAL"
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    assert configuration["IpAddressType"] == "ipv4"
    assert configuration["DomainNameStatus"] == "AVAILABLE"
    assert configuration["HostedZoneId"] == "Z1UJRXOUMOOFQ8"


def test_the_hosted_zone_and_arn_follow_the_region(url: str) -> None:
    ireland = make_client(url, region="eu-west-1")
    certificate = CERTIFICATE.replace("us-east-1", "eu-west-1")
    domain = ireland.create_domain_name(
        DomainName=NAME, DomainNameConfigurations=[{"CertificateArn": certificate}]
    )
    (configuration,) = domain["DomainNameConfigurations"]
    assert configuration["HostedZoneId"] == "ZLY8HYME6SFDD"
    assert configuration["ApiGatewayDomainName"].endswith(".execute-api.eu-west-1.amazonaws.com")
    assert domain["DomainNameArn"].startswith("arn:aws:apigateway:eu-west-1::")


def test_settings_given_are_kept(client: Any) -> None:
    domain = create(
        client,
        configuration={"SecurityPolicy": "TLS_1_0", "IpAddressType": "dualstack"},
        RoutingMode="ROUTING_RULE_ONLY",
        Tags={"team": "pets"},
    )
    (configuration,) = domain["DomainNameConfigurations"]
    assert configuration["SecurityPolicy"] == "TLS_1_0"
    assert configuration["IpAddressType"] == "dualstack"
    assert domain["RoutingMode"] == "ROUTING_RULE_ONLY"
    assert domain["Tags"] == {"team": "pets"}


def test_computed_configuration_members_sent_by_a_client_are_ignored(client: Any) -> None:
    domain = create(client, configuration={"HostedZoneId": "ZFAKE", "DomainNameStatus": "UPDATING"})
    (configuration,) = domain["DomainNameConfigurations"]
    assert configuration["HostedZoneId"] == "Z1UJRXOUMOOFQ8"
    assert configuration["DomainNameStatus"] == "AVAILABLE"


def test_a_wildcard_domain_name_is_accepted(client: Any) -> None:
    create(client, name="*.example.com")
    assert client.get_domain_name(DomainName="*.example.com")["DomainName"] == "*.example.com"


@pytest.mark.parametrize(
    "name", ["localhost", "bad_name.example.com", "-a.example.com", "a..b.com"]
)
def test_an_invalid_domain_name_is_refused(client: Any, name: str) -> None:
    with pytest.raises(ClientError) as caught:
        create(client, name=name)
    assert error(caught)[0] == "BadRequestException"


def test_an_existing_name_conflicts(client: Any) -> None:
    create(client)
    with pytest.raises(ClientError) as caught:
        create(client)
    assert error(caught) == ("ConflictException", "The domain name resource already exists.", 409)


@pytest.mark.parametrize("configurations", [None, [], [{}, {}]])
def test_exactly_one_configuration_is_required(client: Any, configurations: Any) -> None:
    extra = {} if configurations is None else {"DomainNameConfigurations": configurations}
    with pytest.raises(ClientError) as caught:
        client.create_domain_name(DomainName=NAME, **extra)
    assert error(caught) == (
        "BadRequestException",
        "Invalid input. Expected one domain name configuration",
        400,
    )


def test_edge_endpoints_are_refused(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        create(client, configuration={"EndpointType": "EDGE"})
    assert error(caught)[0] == "BadRequestException"
    assert "REGIONAL" in error(caught)[1]


@pytest.mark.parametrize(
    "certificate",
    [
        None,
        "arn:aws:acm:eu-west-1:000000000000:certificate/1234abcd",
        "arn:aws:iam::000000000000:server-certificate/pets",
    ],
)
def test_an_acm_certificate_of_the_region_is_required(client: Any, certificate: Any) -> None:
    configuration = {} if certificate is None else {"CertificateArn": certificate}
    with pytest.raises(ClientError) as caught:
        client.create_domain_name(DomainName=NAME, DomainNameConfigurations=[configuration])
    assert error(caught)[0] == "BadRequestException"


def test_reserved_tag_keys_are_refused(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        create(client, Tags={"aws:owner": "me"})
    assert error(caught)[0] == "BadRequestException"


# Mutual TLS


def test_mutual_tls_keeps_the_truststore_and_reports_no_warnings(client: Any) -> None:
    domain = create(
        client, MutualTlsAuthentication={"TruststoreUri": TRUSTSTORE, "TruststoreVersion": "v2"}
    )
    assert domain["MutualTlsAuthentication"] == {
        "TruststoreUri": TRUSTSTORE,
        "TruststoreVersion": "v2",
    }
    assert client.get_domain_name(DomainName=NAME)["MutualTlsAuthentication"]["TruststoreUri"] == (
        TRUSTSTORE
    )


@pytest.mark.parametrize("uri", ["https://bucket/truststore.pem", "s3://bucket-only"])
def test_mutual_tls_needs_an_s3_truststore(client: Any, uri: str) -> None:
    with pytest.raises(ClientError) as caught:
        create(client, MutualTlsAuthentication={"TruststoreUri": uri})
    assert error(caught)[0] == "BadRequestException"


def test_mutual_tls_needs_the_tls_1_2_policy(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        create(
            client,
            configuration={"SecurityPolicy": "TLS_1_0"},
            MutualTlsAuthentication={"TruststoreUri": TRUSTSTORE},
        )
    assert error(caught)[0] == "BadRequestException"
    assert "TLS_1_2" in error(caught)[1]


# GetDomainName(s)


def test_get_answers_what_create_answered(client: Any) -> None:
    created = create(client, Tags={"team": "pets"})
    got = client.get_domain_name(DomainName=NAME)
    assert status(got) == 200
    for member in ("DomainNameArn", "DomainNameConfigurations", "RoutingMode", "Tags"):
        assert got[member] == created[member]


def test_get_of_a_missing_domain_name_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.get_domain_name(DomainName="nope.example.com")
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


def test_get_domain_names_lists_and_paginates(client: Any) -> None:
    for name in ("a.example.com", "b.example.com", "c.example.com"):
        create(client, name=name)
    listed = client.get_domain_names()
    assert status(listed) == 200
    assert [d["DomainName"] for d in listed["Items"]] == [
        "a.example.com",
        "b.example.com",
        "c.example.com",
    ]
    first = client.get_domain_names(MaxResults="2")
    assert len(first["Items"]) == 2
    rest = client.get_domain_names(MaxResults="2", NextToken=first["NextToken"])
    assert [d["DomainName"] for d in rest["Items"]] == ["c.example.com"]
    assert "NextToken" not in rest


def test_domain_names_are_regional(client: Any, url: str) -> None:
    create(client)
    assert make_client(url, region="eu-west-1").get_domain_names()["Items"] == []


# UpdateDomainName


def test_update_replaces_the_certificate_and_keeps_the_gateway_domain(client: Any) -> None:
    created = create(client, configuration={"SecurityPolicy": "TLS_1_0"})
    updated = client.update_domain_name(
        DomainName=NAME, DomainNameConfigurations=[{"CertificateArn": OTHER_CERTIFICATE}]
    )
    assert status(updated) == 200
    (before,) = created["DomainNameConfigurations"]
    (after,) = updated["DomainNameConfigurations"]
    assert after["CertificateArn"] == OTHER_CERTIFICATE
    assert after["ApiGatewayDomainName"] == before["ApiGatewayDomainName"]
    assert after["SecurityPolicy"] == "TLS_1_0"
    assert client.get_domain_name(DomainName=NAME)["DomainNameConfigurations"] == [after]


def test_update_changes_the_routing_mode_only(client: Any) -> None:
    created = create(client)
    updated = client.update_domain_name(
        DomainName=NAME, RoutingMode="ROUTING_RULE_THEN_API_MAPPING"
    )
    assert updated["RoutingMode"] == "ROUTING_RULE_THEN_API_MAPPING"
    assert updated["DomainNameConfigurations"] == created["DomainNameConfigurations"]


def test_update_turns_mutual_tls_on_and_off(client: Any) -> None:
    create(client)
    on = client.update_domain_name(
        DomainName=NAME, MutualTlsAuthentication={"TruststoreUri": TRUSTSTORE}
    )
    assert on["MutualTlsAuthentication"] == {"TruststoreUri": TRUSTSTORE}
    off = client.update_domain_name(DomainName=NAME, MutualTlsAuthentication={})
    assert "MutualTlsAuthentication" not in off


def test_update_refuses_a_weaker_policy_under_mutual_tls(client: Any) -> None:
    create(client, MutualTlsAuthentication={"TruststoreUri": TRUSTSTORE})
    with pytest.raises(ClientError) as caught:
        client.update_domain_name(
            DomainName=NAME, DomainNameConfigurations=[{"SecurityPolicy": "TLS_1_0"}]
        )
    assert error(caught)[0] == "BadRequestException"


def test_update_of_a_missing_domain_name_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.update_domain_name(DomainName=NAME, RoutingMode="ROUTING_RULE_ONLY")
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


# DeleteDomainName


def test_delete_answers_204_and_the_domain_name_is_gone(client: Any) -> None:
    create(client)
    assert status(client.delete_domain_name(DomainName=NAME)) == 204
    with pytest.raises(ClientError) as caught:
        client.get_domain_name(DomainName=NAME)
    assert error(caught)[0] == "NotFoundException"


def test_delete_of_a_missing_domain_name_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client.delete_domain_name(DomainName=NAME)
    assert error(caught) == ("NotFoundException", NOT_FOUND, 404)


def test_delete_takes_the_api_mappings_and_routing_rules_with_it(client: Any) -> None:
    create(client, RoutingMode="ROUTING_RULE_THEN_API_MAPPING")
    api_id = client.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
    client.create_stage(ApiId=api_id, StageName="prod")
    client.create_api_mapping(DomainName=NAME, ApiId=api_id, Stage="prod")
    client.create_routing_rule(
        DomainName=NAME,
        Priority=1,
        Conditions=[],
        Actions=[{"InvokeApi": {"ApiId": api_id, "Stage": "prod"}}],
    )
    client.delete_domain_name(DomainName=NAME)
    create(client, RoutingMode="ROUTING_RULE_THEN_API_MAPPING")
    assert client.get_api_mappings(DomainName=NAME)["Items"] == []
    assert client.list_routing_rules(DomainName=NAME)["RoutingRules"] == []


# Tags


def test_tags_on_a_domain_name_through_its_arn(client: Any) -> None:
    arn = create(client, Tags={"team": "pets"})["DomainNameArn"]
    assert status(client.tag_resource(ResourceArn=arn, Tags={"stage": "prod"})) == 201
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"team": "pets", "stage": "prod"}
    assert client.get_domain_name(DomainName=NAME)["Tags"] == {"team": "pets", "stage": "prod"}
    assert status(client.untag_resource(ResourceArn=arn, TagKeys=["team"])) == 204
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"stage": "prod"}
