"""The OpenAPI document is true: every route of the app is in it, nothing else is, and its recipe
schema accepts and rejects what ``parse_recipe`` does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from renderplus.batch.recipe import RecipeError, parse_recipe
from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle
from renderplus.server.app import create_app
from renderplus.server.openapi import openapi_document

from .helpers import call

# Status codes docs/api.md gives each route.
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
    return {(method, re.sub(r"\{\w+\}", "{id}", path)) for path, item in document["paths"].items()
            for method in item}


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


# ---------------------------------------------------------------- the recipe schema and the validator

RECIPE_SCHEMA = openapi_document()["components"]["schemas"]["Recipe"]
JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def schema_errors(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """A small OpenAPI 3.0 schema check (the keywords the document uses), to hold it to parse_recipe."""
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null"]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return [] if any(not schema_errors(s, value, path) for s in schema[combinator]) else [path]
    scalar = _scalar_errors(schema, value, path)
    if scalar:
        return scalar
    if isinstance(value, list):
        return _array_errors(schema, value, path)
    if isinstance(value, dict):
        return _object_errors(schema, value, path)
    return []


def _scalar_errors(schema: dict[str, Any], value: Any, path: str) -> list[str]:
    """Type, range, enum and pattern: the first that fails, or nothing."""
    kind = schema.get("type")
    if kind in ("integer", "number"):
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or (kind == "integer" and not float(value).is_integer()):
            return [f"{path}: not {kind}"]
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            return [f"{path}: out of range"]
    elif kind is not None and not isinstance(value, JSON_TYPES[kind]):
        return [f"{path}: not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: not in enum"]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"{path}: pattern"]
    return []


def _array_errors(schema: dict[str, Any], value: list[Any], path: str) -> list[str]:
    errors: list[str] = []
    if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
        errors.append(f"{path}: item count")
    for index, item in enumerate(value):
        errors += schema_errors(schema.get("items", {}), item, f"{path}[{index}]")
    return errors


def _object_errors(schema: dict[str, Any], value: dict[str, Any], path: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{path}.{key}: required" for key in schema.get("required", []) if key not in value]
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(properties[key], item, f"{path}.{key}")
        elif schema.get("additionalProperties") is False:
            errors.append(f"{path}.{key}: not allowed")
    return errors


def example_of(schema: dict[str, Any], variant: str) -> Any:
    """A value the schema allows: ``min`` (low bounds, first choices), ``max``, or ``null``."""
    if variant == "null" and schema.get("nullable"):
        return None
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        return example_of(options[0 if variant != "max" else -1], variant)
    if "enum" in schema:
        return schema["enum"][-1 if variant == "max" else 0]
    kind = schema.get("type")
    if kind == "object":
        return {key: example_of(sub, variant) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        return [example_of(schema.get("items", {}), variant) for _ in range(count)]
    if kind in ("integer", "number"):
        bound = schema.get("maximum" if variant == "max" else "minimum")
        if bound is not None and variant != "max" and schema.get("exclusiveMinimum") is True:
            return bound + 1   # above an exclusive minimum
        return bound if bound is not None else schema.get("default", 0)
    if kind == "boolean":
        return False  # (enabled: false keeps the rules that span fields out of the way)
    return schema.get("example", "Name_1")


def leaf_paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in leaf_paths(value, (*prefix, key))] + [prefix]
    if isinstance(data, list):
        return [p for i, value in enumerate(data) for p in leaf_paths(value, (*prefix, i))] + [prefix]
    return [prefix]


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    if not path:
        return value
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return copy


def valid_example(variant: str) -> Any:
    """``example_of`` the recipe, with the one pairing its choices make that a described rule
    refuses undone: the last image format (FFMPEG, a movie) beside ``encode``, and the only
    job waiting for a job (``after``: the lowest or highest id, never its own or one it has)."""
    recipe = example_of(RECIPE_SCHEMA, variant)
    for job in recipe["jobs"]:
        if job.get("encode") and job.get("format") == "FFMPEG":
            job["format"] = "PNG"
        job["after"] = []
    return recipe


@pytest.mark.parametrize("variant", ["min", "max", "null"])
def test_recipes_made_from_the_document_are_accepted_by_the_validator(variant: str) -> None:
    recipe = valid_example(variant)
    assert schema_errors(RECIPE_SCHEMA, recipe) == []
    parsed = parse_recipe(json.dumps(recipe))
    assert parsed.warnings == []
    assert schema_errors(RECIPE_SCHEMA, parsed.to_dict()) == []


MUTATIONS: list[Any] = [None, "2.2", "text", 1.5, 7, -3, True, {}, [], [1, 2]]
# Rules a schema cannot state; the document says them in descriptions and the validator checks them.
BEYOND_THE_SCHEMA = ("must be a mail address", "must be the job's index", "must be >= frame_start",
                     "when the section is enabled", "x + width", "y + height",
                     "not a plain attribute path", "is required (external is", "frame",
                     "needs an animation", "writes a movie already", "but format",
                     "in this batch", "cannot wait for itself", "is named twice", "a cycle")


@pytest.mark.parametrize("variant", ["min", "max"])
def test_document_and_validator_reject_the_same_wrong_types(variant: str) -> None:
    recipe = valid_example(variant)
    looser, unexplained = [], []
    for path in leaf_paths(recipe):
        for value in MUTATIONS:
            mutated = replaced(recipe, path, value)
            document_rejects = bool(schema_errors(RECIPE_SCHEMA, mutated))
            try:
                parse_recipe(json.dumps(mutated))
            except RecipeError as exc:
                if not document_rejects and not all(
                        any(rule in issue.message for rule in BEYOND_THE_SCHEMA) for issue in exc.errors):
                    unexplained.append((path, value, [str(e) for e in exc.errors]))
            else:
                if document_rejects:
                    looser.append((path, value))
    assert looser == []       # the server accepts nothing its document refuses
    assert unexplained == []  # and refuses more only by the rules the descriptions state


def test_the_document_lists_the_extensions_and_the_hardening_answers() -> None:
    document = openapi_document()
    recipe = document["components"]["schemas"]["Recipe"]
    job = recipe["properties"]["jobs"]["items"]["properties"]
    settings = recipe["properties"]["settings"]["properties"]
    assert {"frames", "skip_existing", "blender_bin", "after"} <= set(job)
    assert {"skip_existing", "retries", "parallel", "session_reuse", "farm_chunk"} <= set(settings)
    assert settings["session_reuse"]["nullable"] and job["size"]["nullable"]
    assert "nullable" not in recipe["properties"]["notifications"]
    assert recipe["properties"]["version"] == {"type": "number", "enum": [2.2]}
    for method, path in (("post", "/batch/recipe"), ("post", "/batch/file"), ("get", "/batch")):
        codes = set(document["paths"][path][method]["responses"])
        assert {"408", "414", "431", "503"} <= codes, (path, codes)
    assert {"408", "411", "413"} <= set(document["paths"]["/batch/recipe"]["post"]["responses"])
    jobs_400 = document["paths"]["/batch/jobs/{id}"]["get"]["responses"]["400"]["description"]
    assert "not the index of a job" in jobs_400
    (name,) = document["paths"]["/batch/file"]["post"]["parameters"]
    assert "must end in .blend" in name["description"] and "never overwritten" in name["description"]
