"""Loading botocore's service models (the single source of wire names, URIs and status codes)."""

from __future__ import annotations

from functools import cache

from botocore.loaders import Loader
from botocore.model import ServiceModel


@cache
def load_service_model(service_name: str) -> ServiceModel:
    """Load ``service_name``'s newest ``service-2`` model shipped with botocore.

    Read from the service's own directory: ``Loader.load_service_model`` would first list every
    service botocore ships (over 400 directories, 15 to 20 ms of each start-up) only to check
    that the name is one of them, then look for ``service-2.sdk-extras`` files, which no
    service has.
    """
    loader = Loader()
    version = loader.determine_latest_version(service_name, "service-2")
    return ServiceModel(loader.load_data(f"{service_name}/{version}/service-2"), service_name)


@cache
def error_statuses(service_name: str) -> dict[str, int]:
    """Map each error code of the service to the HTTP status its error shape declares."""
    model = load_service_model(service_name)
    statuses: dict[str, int] = {}
    for shape_name in model.shape_names:
        shape = model.shape_for(shape_name)
        error = shape.metadata.get("error")
        if shape.metadata.get("exception") and error:
            statuses[shape.error_code or shape_name] = int(error["httpStatusCode"])
    return statuses
