"""The recipe's schema (OpenAPI 3.0 flavour of JSON Schema), written from the field table.

The OpenAPI document serves this, so the document and ``parse_recipe`` read the same
declarations: the same keys, types, limits, choices and nullability. What a schema cannot say
(``frame_end >= frame_start``, ``x + width <= 1``, a mail address when mail is enabled) is in
the descriptions; the validator checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..schedule import MAX_EPOCH
from .fields import FieldRule, default_of, rules_of
from .model import (
    CYCLES_DEVICES,
    IMAGE_FORMATS,
    MAX_FPS,
    MAX_JOBS,
    MAX_SIZE,
    RECIPE_VERSION,
    SUPPORTED_VERSIONS,
    Hook,
    Job,
    Recipe,
)

_NUMBER = {"type": "number"}
_WEB_URL = r"^(|\*\*\*|[hH][tT][tT][pP][sS]?://[^\s/?#]+([/?#]\S*)?)$"
_TIME_OF_DAY = "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"


def _time_of_day(example: str) -> dict[str, Any]:
    return {"type": "string", "pattern": _TIME_OF_DAY, "example": example,
            "description": "HH:MM, local time"}


def recipe_schema() -> dict[str, Any]:
    """The schema of a whole recipe."""
    schema = record_schema(Recipe)
    schema["description"] = (
        f"A batch recipe, format v{RECIPE_VERSION} (the sample of docs/api.md, Recipe), "
        "plus Render+'s recipe keys. "
        "Strict JSON types; null only where a field says nullable; text never holds NUL "
        "characters or unpaired UTF-16 surrogates; at most 64 levels of nesting. Keys this "
        "version does not know are accepted and answered with warnings; a key given twice is "
        "an error.")
    return schema


def record_schema(cls: type) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for name, key, rule in rules_of(cls):
        schema = rule_schema(rule)
        if rule.nullable:
            schema["nullable"] = True
        if rule.doc:
            schema["description"] = rule.doc
        default = None if rule.required else _json_default(cls, name, rule)
        if default is not None or (rule.nullable and not rule.required):
            schema.setdefault("default", default)
        if rule.required:
            required.append(key)
        properties[key] = schema
    result: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": True}
    if required:
        result["required"] = required
    return result


def _json_default(cls: type, name: str, rule: FieldRule) -> Any:
    if rule.kind in ("record", "list", "hooks", "jobs", "index", "frames", "window", "start_at"):
        return None
    value = default_of(cls, name)
    return list(value) if isinstance(value, tuple) else value


def rule_schema(rule: FieldRule) -> dict[str, Any]:
    kind = rule.kind
    if kind == "str":
        return {"type": "string"}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "int":
        return _bounded({"type": "integer"}, rule)
    if kind == "index":
        return {"type": "integer", "minimum": 0}
    if kind == "int_or_auto":
        return {"oneOf": [_bounded({"type": "integer"}, rule), {"type": "string", "enum": ["auto"]}]}
    if kind == "float":
        return _bounded({"type": "number"}, rule)
    if kind == "choice":
        return {"type": "string", "enum": list(rule.choices)}
    if kind == "choice_list":
        return {"type": "array", "uniqueItems": True,
                "items": {"type": "string", "enum": list(rule.choices)}}
    if kind == "size":
        return {"type": "array", "minItems": 2, "maxItems": 2, "description": "[width, height] in pixels",
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}}
    if kind == "record" and rule.record:
        return record_schema(rule.record)
    if kind == "list" and rule.record:
        return {"type": "array", "items": record_schema(rule.record)}
    if kind == "jobs":
        return {"type": "array", "maxItems": MAX_JOBS, "items": record_schema(Job),
                "description": "jobs[i].id, when given, must be i"}
    return _SPECIAL[kind](rule)


def _bounded(schema: dict[str, Any], rule: FieldRule) -> dict[str, Any]:
    if rule.minimum is not None:
        schema["minimum"] = rule.minimum
    if rule.maximum is not None:
        schema["maximum"] = rule.maximum
    return schema


def _hooks(rule: FieldRule) -> dict[str, Any]:
    hook = {"anyOf": [record_schema(Hook), {"type": "string", "description": "a bare command"}]}
    return {"type": "object", "additionalProperties": False,
            "properties": {phase: {"type": "array", "items": hook} for phase in rule.choices}}


_SPECIAL: dict[str, Callable[[FieldRule], dict[str, Any]]] = {
    "version": lambda rule: {"type": "number", "enum": list(SUPPORTED_VERSIONS)},
    "device": lambda rule: {"type": "string", "enum": [*CYCLES_DEVICES, *(
        f"{gpu}+CPU" for gpu in CYCLES_DEVICES[2:])], "description": "case-insensitive"},
    "engine": lambda rule: {"type": "string", "pattern": "^[A-Za-z0-9_]*$",
                            "description": 'a render engine id such as CYCLES; "" keeps the file\'s'},
    "format": lambda rule: {"type": "string", "enum": ["", *IMAGE_FORMATS],
                            "description": 'case-insensitive; "" keeps the file\'s'},
    "frames": lambda rule: {"type": "string", "example": "1-10,20,30-40x2"},
    "fps": lambda rule: {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": MAX_FPS,
                         "example": 24},
    "override_value": lambda rule: {"anyOf": [
        {"type": "boolean"}, _NUMBER, {"type": "string"},
        {"type": "array", "minItems": 1, "maxItems": 16, "items": _NUMBER}]},
    "after": lambda rule: {"type": "array", "uniqueItems": True, "maxItems": MAX_JOBS,
                           "items": {"type": "integer", "minimum": 0, "maximum": MAX_JOBS - 1}},
    "hooks": _hooks,
    "window": lambda rule: {"type": "object", "required": ["start", "end"], "properties": {
        "start": _time_of_day("22:00"), "end": _time_of_day("06:00")}},
    "web_url": lambda rule: {"type": "string", "pattern": _WEB_URL,
                             "example": "https://ntfy.sh/render-news-7f3a"},
    "start_at": lambda rule: {"oneOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_EPOCH, "description": "epoch seconds"},
        _time_of_day("22:00")]},
}
