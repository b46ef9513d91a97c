"""Custom domain names and what routes through them: API mappings and routing rules.

Each part has its own module, with its rules in its docstring: ``domain_names`` (the domain
itself: configuration, mutual TLS, routing mode), ``api_mappings`` (paths to API stages) and
``routing_rules`` (prioritised conditions to API stages). This module gathers their resource specs
and specific handlers for the resource table. All three live under the domain name's record, so
deleting a domain name deletes its mappings and rules.
"""

from __future__ import annotations

from propylon.control import api_mappings, routing_rules
from propylon.control.crud import Handler, Registry, ResourceSpec
from propylon.control.domain_names import DOMAIN_SPEC

SPECS: tuple[ResourceSpec, ...] = (
    DOMAIN_SPEC,
    api_mappings.API_MAPPING_SPEC,
    routing_rules.ROUTING_RULE_SPEC,
)


def handlers(registry: Registry) -> dict[str, Handler]:
    return {**api_mappings.handlers(registry), **routing_rules.handlers(registry)}
