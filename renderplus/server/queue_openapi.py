"""The queue, edit and pause routes as OpenAPI paths and schemas, merged into ``/openapi.json``
(``openapi.py``): docs/api.md, The queue; Changing a batch; Pause.

Apart from ``openapi.py`` so that each stays readable; like it, data written by hand and held to
the routes by the tests (every route documented, nothing else).
"""

from __future__ import annotations

from typing import Any

from ..batch.recipe.schema import recipe_schema

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


_ID = {"type": "integer", "minimum": 0}
_POSITION = {"type": "integer", "minimum": 0,
             "description": "0 = next; a position past the end = last"}
_ORDER = {"type": "array", "items": {"type": "integer"},
          "description": "Every job id in run order: ended ones in the order they ran, then the "
                         "running ones, then the queued ones in the order they will start "
                         "(disabled ones last)"}
_BAD_BODY = _answer("Not a JSON object, an unknown key, or a value out of range: the sentence "
                    "and errors[].path name the key")
_WRONG_TYPE = _answer("A body sent with a content type other than application/json")
_STALLED = _answer("The body stalled (nothing arrived for 10 s before Content-Length was reached)")
_NO_LENGTH = _answer("No Content-Length, or a chunked body: send a Content-Length")
_QUEUE_OWNED = _answer("Another live Render+ runs this store's queue (key owner says which "
                       "process and since when)")
_QUEUE_STORE = _answer("The store holding the queue cannot be read or written (a full disk, a "
                       "locked or damaged store): the sentence says why; retry later")

QUEUE_SCHEMAS: dict[str, Any] = {
    "QueueEntry": {"type": "object", "required": ["id", "name", "jobs", "position", "added"],
                   "properties": {
        "id": {"type": "integer", "description": "The queue id (PATCH/DELETE /queue/{id})"},
        "name": {"type": "string"},
        "jobs": {"type": "integer", "description": "How many enabled jobs it renders"},
        "position": {"type": "integer", "description": "0 = the next batch to start"},
        "added": {"type": "number"},
        "estimated_start": {"type": "number", "nullable": True,
                            "description": "Unix time; null while unknown"},
        "estimated_end": {"type": "number", "nullable": True},
        "estimate_runs": {"type": "integer", "nullable": True,
                          "description": "The fewest similar earlier runs behind one of its "
                                         "jobs' estimates (docs/api.md, Estimates)"}}},
    "Queue": {"type": "object", "required": ["status", "held", "batches"], "properties": {
        "status": {"type": "string"},
        "held": {"type": "boolean", "description": "true: the next batch does not start by itself "
                                                   "(POST /queue/continue releases it)"},
        "batches": {"type": "array", "items": _ref("QueueEntry"),
                    "description": "The queued batches in the order they will start"},
        "estimated_end": {"type": "number", "nullable": True,
                          "description": "Unix time the current batch and every queued one are "
                                         "estimated to be done; null while unknown or held"}}},
    "Queued": {"type": "object", "required": ["status", "id", "position"], "properties": {
        "status": {"type": "string"}, "id": {"type": "integer"}, "position": {"type": "integer"},
        "started": {"type": "boolean",
                    "description": "true: no batch was running or paused and the queue was not "
                                   "held, so the batch is the current one now"},
        "name": {"type": "string"}, "jobs": {"type": "integer"},
        "warnings": {"type": "array", "items": {"type": "string"}}}},
    "JobsAdded": {"type": "object", "required": ["status", "ids"], "properties": {
        "status": {"type": "string"}, "ids": {"type": "array", "items": {"type": "integer"},
                                              "description": "The new jobs' ids, in the order given"},
        "order": _ORDER}},
    "JobChanged": {"type": "object", "required": ["status", "order"], "properties": {
        "status": {"type": "string"}, "job": {"type": "integer"}, "order": _ORDER}},
    "Pausing": {"type": "object", "required": ["status", "when"], "properties": {
        "status": {"type": "string"}, "when": {"type": "string", "enum": ["now", "frame", "job"]}}},
}

_JOB = recipe_schema()["properties"]["jobs"]["items"]

QUEUE_OPENAPI_PATHS: dict[str, Any] = {
    "/queue": {
        "post": {
            "summary": "Render+: queue a batch behind the current one (a recipe, validated as "
                       "POST /batch/recipe validates it); it starts at once when no batch runs "
                       "or is paused and the queue is not held",
            "requestBody": _body(_ref("Recipe")),
            "responses": {
                "201": _answer("Queued (or started at once: started)", "Queued"),
                "400": _answer("Not JSON, or an invalid recipe: every problem in errors, each "
                               "with its path"),
                "406": _answer("Wrong content type (must be application/json)"),
                "408": _STALLED, "411": _NO_LENGTH,
                "409": _QUEUE_OWNED, "503": _QUEUE_STORE,
                "413": _answer("Recipe larger than the limit (8 MiB unless the server was "
                               "started with another)")}},
        "get": {
            "summary": "Render+: the queued batches in the order they will start, and whether "
                       "the queue is held",
            "responses": {"200": _answer("The queue", "Queue"), "503": _QUEUE_STORE}}},
    "/queue/{id}": {
        "patch": {
            "summary": "Render+: move a queued batch",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": _ID}],
            "requestBody": _body({"type": "object", "required": ["position"],
                                  "additionalProperties": False,
                                  "properties": {"position": _POSITION}}),
            "responses": {"200": _answer("Moved: the queue", "Queue"),
                          "400": _BAD_BODY, "404": _answer("No queued batch has this id"),
                          "406": _WRONG_TYPE, "409": _QUEUE_OWNED, "503": _QUEUE_STORE}},
        "delete": {
            "summary": "Render+: drop a queued batch",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": _ID}],
            "responses": {"200": _answer("Dropped: the queue", "Queue"),
                          "400": _answer("The id is not an integer"),
                          "404": _answer("No queued batch has this id"),
                          "409": _answer("It has just become the current batch (DELETE /batch "
                                         "cancels it), or another live Render+ runs this "
                                         "store's queue (key owner)"),
                          "503": _QUEUE_STORE}}},
    "/queue/hold": {"post": {
        "summary": "Render+: hold the queue (the current batch goes on; the next does not start)",
        "responses": {"200": _answer("Held: the queue", "Queue"), "409": _QUEUE_OWNED,
                      "503": _QUEUE_STORE}}},
    "/queue/continue": {"post": {
        "summary": "Render+: release the queue (the next batch starts when the current one "
                   "ends, or now when none runs)",
        "responses": {"200": _answer("Released: the queue", "Queue"), "409": _QUEUE_OWNED,
                      "503": _QUEUE_STORE}}},
    "/batch/jobs": {"post": {
        "summary": "Render+: add jobs to the current batch (loaded, running or paused); their "
                   "ids follow the last one and they join the end of the run order",
        "requestBody": _body({"oneOf": [_JOB, {"type": "array", "minItems": 1, "items": _JOB}],
                              "description": "A job object or a list of them, as a recipe's "
                                             "jobs (relative paths resolved as the recipe's)"}),
        "responses": {
            "201": _answer("Added", "JobsAdded"),
            "400": _answer("Not JSON, or invalid jobs: every problem in errors, paths from "
                           "jobs[0] in the order given"),
            "406": _answer("Wrong content type (must be application/json)"),
            "408": _STALLED, "411": _NO_LENGTH,
            "409": _answer("No batch is loaded, the batch has ended, or the server is stopping"),
            "413": _answer("Body larger than the recipe limit")}}},
    "/batch/jobs/{id}": {"patch": {
        "summary": "Render+: move a QUEUED job among the queued ones, or skip it "
                   "(enabled: false) or queue a DISABLED one again (enabled: true, at the end); "
                   "with both keys, enabled is applied first",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": _ID}],
        "requestBody": _body({"type": "object", "additionalProperties": False, "minProperties": 1,
                              "properties": {"position": _POSITION,
                                             "enabled": {"type": "boolean"}}}),
        "responses": {"200": _answer("Changed: the run order", "JobChanged"),
                      "400": _BAD_BODY, "404": _answer("No job has this id"),
                      "406": _WRONG_TYPE,
                      "409": _answer("The job is running or has ended (the sentence says which), "
                                     "no batch is loaded, or the server is stopping")}}},
    "/batch/pause": {"post": {
        "summary": "Render+: pause the running batch: now (every Blender ends; the frames in "
                   "progress render again), after the frame each running job is writing, or "
                   "after the running jobs; then the status is PAUSED. GET /batch/resume "
                   "continues it, DELETE /batch cancels it",
        "requestBody": _body({"type": "object", "additionalProperties": False, "properties": {
            "when": {"type": "string", "enum": ["now", "frame", "job"], "default": "frame"}}},
            required=False),
        "responses": {"200": _answer("Pausing (poll key pausing, then status PAUSED)", "Pausing"),
                      "400": _BAD_BODY, "406": _WRONG_TYPE,
                      "409": _answer("No batch is running, it is already paused, or a pause as "
                                     "strong or stronger is under way (job < frame < now; a "
                                     "stronger one takes over)")}}},
}
