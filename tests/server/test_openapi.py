"""The OpenAPI document is true: every route of the app is in it, and nothing else is."""

from __future__ import annotations

import re
from typing import Any

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle
from renderplus.server.app import create_app

from .helpers import call

# Status codes the spec (error table and Decisions) gives each route.
SPEC_CODES = {
    ("post", "/batch/recipe"): {"200", "400", "406", "409"},
    ("post", "/batch/file"): {"201", "400", "409", "413"},
    ("get", "/batch/start"): {"200", "409"},
    ("get", "/batch"): {"200", "409"},
    ("delete", "/batch"): {"200", "409"},
    ("get", "/batch/name"): {"200", "409"},
    ("get", "/batch/jobs/{id}"): {"200", "400", "409"},
    ("delete", "/batch/jobs/current"): {"200", "409"},
    ("get", "/test"): {"200"},
    ("get", "/batch/ready"): {"200"},
    ("delete", "/server"): {"200"},
}


def app_routes(service: BatchService) -> set[tuple[str, str]]:
    app = create_app(service)
    return {(route.method.lower(), re.sub(r"<(\w+)[^>]*>", "{id}", route.rule)) for route in app.routes}


def document_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def test_served_document_is_openapi_3_and_matches_the_routes(server: ServerHandle,
                                                             service: BatchService) -> None:
    answer = call(server.port, "GET", "/openapi.json")
    assert answer.code == 200
    document = answer.data
    assert document["openapi"].startswith("3.")
    assert document_routes(document) == app_routes(service)


def test_every_route_documents_the_codes_of_the_spec(server: ServerHandle) -> None:
    document = call(server.port, "GET", "/openapi.json").data
    for (method, path), codes in SPEC_CODES.items():
        documented = set(document["paths"][path][method]["responses"])
        assert codes <= documented, (method, path, codes - documented)


def test_every_reference_resolves(server: ServerHandle) -> None:
    document = call(server.port, "GET", "/openapi.json").data
    text = str(document)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in document["components"]["schemas"], name
