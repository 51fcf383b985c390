"""The API as an OpenAPI 3 document, served at ``GET /openapi.json``.

Written as data here rather than generated from the routes, because it says what the routes
cannot (bodies, every status code and why); a test keeps the two in step: every route of the
app is in this document and every path and method here is a route. The recipe's schema is
generated from the recipe's own field table (``batch.recipe.schema``), and a test holds it and
``parse_recipe`` together.
"""

from __future__ import annotations

from typing import Any

from ..batch.encode.formats import FORMAT_NAMES
from ..batch.recipe.schema import recipe_schema
from .dashboard_openapi import DASHBOARD_OPENAPI_PATHS
from .guard import ROUTE_ACCESS, Access
from .httpd import DEFAULT_HOST, DEFAULT_PORT
from .movie_types import MOVIE_MEDIA_TYPES
from .queue_openapi import QUEUE_OPENAPI_PATHS, QUEUE_SCHEMAS
from .version import API_VERSION, SERVER_NAME, VERSION

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


_BATCH_RUNNING = _answer("A batch is running or paused (the sentence names POST /queue, which "
                         "queues the recipe behind it)")
_NO_BATCH = _answer("No batch has been run and no recipe is loaded")
_NOT_RUNNING = _answer("Not running a batch right now")
_STALLED = _answer("The body stalled (nothing arrived for 10 s before Content-Length was reached)")
_NO_LENGTH = _answer("No Content-Length, or a chunked body: send a Content-Length")
_TOKEN_RULE = ("The server's access token (docs/api.md, Access). Without --token the server "
               "makes one at start and saves it in ~/.config/renderplus/servers/PORT.json, "
               "readable only by its user; routes that change anything, frames, previews and "
               "history need it, the polls stay open on loopback (without it they show no hook "
               "command or output and no full path). A token given with --token / "
               "RENDERPLUS_TOKEN is needed on every request but the dashboard page's; --no-token "
               "opens loopback on purpose. "
               "Only in a header: never in the URL, never as a cookie.")
_NAME_RULE = ("The file's name, for application/octet-stream bodies (multipart bodies give it as "
              "the file part's filename). It must end in .blend; it is stored as its base name "
              "with every run of characters other than ASCII letters, digits, '.', '_' and '-' "
              "made one '_' and leading/trailing '.', '_', '-' removed; a name that another "
              "upload with different bytes already has gets -2, -3, ... (never overwritten). "
              "The answer's path is the name to use in a recipe.")

_TIMES = {"type": "object", "properties": {
    "started": {"type": "number", "nullable": True},
    "finished": {"type": "number", "nullable": True},
    "rendertime": {"type": "number", "nullable": True,
                   "description": "Seconds it rendered: the time it was paused or Render+ was "
                                  "down does not count"}}}

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "description": "What went wrong, as a sentence"},
        "errors": {"type": "array", "items": _ref("Issue"),
                   "description": "Every problem of an invalid recipe"},
        "limit": {"type": "integer", "description": "The size limit in bytes (413)"},
        "owner": _ref("Owner")}},
    "Owner": {"type": "object", "required": ["pid", "name", "host", "since", "handed_over"],
              "description": "Render+: the other live Render+ that owns the batch a resume "
                             "was refused for (409)", "properties": {
        "pid": {"type": "integer", "nullable": True, "description": "null while handed over"},
        "name": {"type": "string", "example": "python3 -m renderplus.server"},
        "host": {"type": "string"},
        "since": {"type": "number", "description": "Unix time it took the batch"},
        "handed_over": {"type": "boolean",
                        "description": "Being handed to a Render+ that has not taken it yet"}}},
    "Issue": {"type": "object", "required": ["path", "message"], "properties": {
        "path": {"type": "string", "example": "jobs[3].frame_end"},
        "message": {"type": "string"}}},
    "Message": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string"}}, "additionalProperties": True},
    "Recipe": recipe_schema(),
    "RecipeLoaded": {"type": "object", "properties": {
        "status": {"type": "string"}, "name": {"type": "string"}, "jobs": {"type": "integer"},
        "enabled": {"type": "integer"},
        "warnings": {"type": "array", "items": {"type": "string"},
                     "description": "Missing .blend files or Blender binary (not errors yet), "
                                    "and keys the recipe gives that this version does not use "
                                    "('jobs[0].frame_strat: unknown key; did you mean frame_start?')"}}},
    "Stored": {"type": "object", "required": ["path"], "properties": {
        "status": {"type": "string"},
        "path": {"type": "string", "description": "Absolute path a recipe's jobs can name"},
        "name": {"type": "string"}, "size": {"type": "integer"}}},
    "Started": {"type": "object", "properties": {
        "status": {"type": "string"}, "name": {"type": "string"}, "jobs": {"type": "integer"},
        "blender_bin": {"type": "string", "description": "Extension: the batch's Blender; with "
                                                         "\"auto\", the one chosen for the first "
                                                         "enabled job"}}},
    "ServerInfo": {"type": "object", "properties": {
        "status": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "string"},
        "api_version": {"type": "string"}, "blender_bin": {"type": "string"},
        "blender_found": {"type": "boolean"}, "running": {"type": "boolean"},
        "paused": {"type": "boolean", "description": "Render+: the current batch is PAUSED"},
        "batch": {"type": "string", "nullable": True},
        "farm": {"type": "object", "nullable": True,
                 "description": "Extension, with --farm: {engine, answers, detail, queues, "
                                "renderplus_type, ok}"}}},
    "Ready": {"type": "object", "required": ["ready"], "properties": {
        "ready": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}},
        "status": {"type": "string"}, "blender_bin": {"type": "string"}}},
    "Name": {"type": "object", "properties": {"name": {"type": "string"}}},
    "Job": {"type": "object", "required": ["id", "status", "times", "messages", "progress", "engine"],
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": ["QUEUED", "DISABLED", "RUNNING", "FINISHED",
                                                      "CANCELLED", "FAILED"]},
                "times": _TIMES, "messages": {"type": "array", "items": {"type": "string"}},
                "progress": {"type": "number", "minimum": 0, "maximum": 100},
                "engine": {"type": "object", "properties": {
                    "type": {"type": "string", "nullable": True},
                    "data": {"type": "object", "nullable": True,
                             "additionalProperties": {"type": "string"}}}},
                "name": {"type": "string"},
                "eta": {"type": "number", "nullable": True,
                        "description": "Seconds left; before the job starts too, from the "
                                       "history of similar runs (docs/api.md, Estimates)"},
                "eta_runs": {"type": "integer", "nullable": True,
                             "description": "Extension: how many earlier similar runs eta rests "
                                            "on; null when it comes from the job's own frames"},
                "frames_done": {"type": "integer"}, "frames_total": {"type": "integer"},
                "outputs": {"type": "array", "items": {"type": "string"},
                            "description": "Extension: the files written so far; without the "
                                           "token, base names only (docs/api.md, Access)"},
                "blender": {"type": "object", "nullable": True, "properties": {
                    "path": {"type": "string"}, "version": {"type": "string", "nullable": True}},
                            "description": "Extension: the Blender that renders the job, once "
                                           "chosen (docs/api.md, The right Blender for each file)"},
                "movie": _ref("Movie"),
                "after": {"type": "array", "items": {"type": "integer"},
                          "description": "Extension: the ids of the jobs this job waits for "
                                         "(the recipe's after; docs/api.md, Jobs that wait for "
                                         "others)"}}},
    "Movie": {"type": "object", "nullable": True,
              "description": "Extension: the movie an encode job makes from its frames; null "
                             "for a job without encode (docs/api.md, Poll)",
              "required": ["status", "path", "format", "label", "progress"],
              "properties": {
                  "status": {"type": "string",
                             "enum": ["WAITING", "ENCODING", "DONE", "FAILED", "CANCELLED"]},
                  "path": {"type": "string", "nullable": True,
                           "description": "The movie file; without the token its base name"},
                  "format": {"type": "string", "enum": list(FORMAT_NAMES)},
                  "label": {"type": "string", "description": "The format for a person: H.264 MP4"},
                  "progress": {"type": "number", "minimum": 0, "maximum": 100},
                  "frames": {"type": "integer", "nullable": True},
                  "fps": {"type": "number", "nullable": True},
                  "seconds": {"type": "number", "nullable": True},
                  "sound": {"type": "boolean", "nullable": True},
                  "colour": {"type": "string", "nullable": True,
                             "description": "How the frames' colour was taken: 'Filmic view', "
                                            "'as written'"},
                  "message": {"type": "string", "nullable": True,
                              "description": "Why the encode failed"}}},
    "Batch": {"type": "object", "required": ["status", "times", "stats", "messages", "jobs", "current_job"],
              "properties": {
                  "status": {"type": "string",
                             "enum": ["WAITING", "RUNNING", "PAUSED", "FINISHED", "CANCELLED"],
                             "description": "PAUSED: Render+'s (docs/api.md, Pause)"},
                  "times": _TIMES,
                  "stats": {"type": "object", "properties": {
                      key: {"type": kind, "nullable": True} for key, kind in (
                          ("slowest_index", "integer"), ("slowest_time", "number"),
                          ("fastest_index", "integer"), ("fastest_time", "number"),
                          ("average_time", "number"))}},
                  "messages": {"type": "array", "items": {"type": "string"}},
                  "jobs": {"type": "array", "items": _ref("Job")},
                  "current_job": {"type": "integer", "nullable": True},
                  "name": {"type": "string"}, "progress": {"type": "number"},
                  "eta": {"type": "number", "nullable": True}, "failed": {"type": "integer"},
                  "poweroff": {"type": "object", "nullable": True},
                  "hooks": {"type": "array", "description": "Extension: each hook that ran. "
                            "Without the token (an open read) cmd and output are null, and "
                            "messages show base names instead of absolute paths",
                            "items": {"type": "object", "properties": {
                                "phase": {"type": "string"},
                                "job": {"type": "integer", "nullable": True},
                                "cmd": {"type": "string", "nullable": True},
                                "returncode": {"type": "integer"},
                                "output": {"type": "string", "nullable": True}}}},
                  "running": {"type": "array", "items": {"type": "integer"},
                              "description": "Extension: ids of every running job "
                                             "(current_job is the lowest of them)"},
                  "order": {"type": "array", "items": {"type": "integer"},
                            "description": "Extension: every job id in run order (ended ones "
                                           "in the order they ran, then running ones, then "
                                           "queued ones in the order they will start)"},
                  "starts_at": {"type": "number", "nullable": True,
                                "description": "Extension: a WAITING batch's start time (its "
                                               "start_at, or its window's next start)"},
                  "continues_at": {"type": "number",
                                   "description": "Extension, present only for a batch its "
                                                  "window paused: when it continues by itself"},
                  "pausing": {"type": "string", "nullable": True, "enum": ["now", "frame", "job"],
                              "description": "Extension: while a pause is under way, when it "
                                             "takes effect; absent or null otherwise"},
                  "resumable": {"type": "boolean",
                                "description": "Extension, present only when true: the batch "
                                               "was interrupted (its process died); GET "
                                               "/batch/resume continues it"}}},
    "History": {"type": "object", "properties": {
        "batches": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "status": {"type": "string"}, "created": {"type": "number"},
            "started": {"type": "number", "nullable": True},
            "finished": {"type": "number", "nullable": True},
            "jobs": {"type": "integer"}, "failed": {"type": "integer"}}}},
        "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
}

_PATHS: dict[str, Any] = {
    "/batch/recipe": {"post": {
        "summary": "Submit a batch recipe",
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Recipe")}}},
        "responses": {
            "200": _answer("Recipe loaded (replaces any earlier one)", "RecipeLoaded"),
            "400": _answer("Not JSON, not an object, nested too deeply, a key given twice, or "
                           "invalid: every problem in errors, each with its path"),
            "406": _answer("Wrong content type (must be application/json)"),
            "408": _STALLED,
            "409": _BATCH_RUNNING,
            "411": _NO_LENGTH,
            "413": _answer("Recipe larger than the limit (8 MiB unless the server was started "
                           "with another); answered from Content-Length")}}},
    "/batch/file": {"post": {
        "summary": "Upload a .blend (docs/api.md, Uploads)",
        "parameters": [{"name": "name", "in": "query", "required": False,
                        "description": _NAME_RULE,
                        "schema": {"type": "string", "pattern": r"\.[Bb][Ll][Ee][Nn][Dd]$"}}],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"}}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {
            "201": _answer("Stored under the server's work folder", "Stored"),
            "400": _answer("Not a .blend (name or signature), no usable name, malformed or cut "
                           "body, wrong content type (names the two accepted)"),
            "408": _STALLED,
            "409": _answer("A batch is running, or too many different uploads "
                           "already have this name"),
            "411": _NO_LENGTH,
            "413": _answer("Larger than the upload limit (2 GiB unless the server was started "
                           "with another)"),
            "500": _answer("The file could not be written (an error other than a full disk "
                           "or an unwritable folder; the sentence is the system's)"),
            "503": _answer("The work folder cannot be written (read-only, no permission)"),
            "507": _answer("The work folder's disk is full (or the quota is spent)")}}},
    "/batch/start": {"get": {
        "summary": "Start the batch",
        "responses": {
            "200": _answer("Batch started", "Started"),
            "409": _answer("A batch is running or paused, no recipe was submitted, "
                           "or the Blender binary is missing (\"auto\": a job found none)")}}},
    "/batch/resume": {"get": {
        "summary": "Extension: continue the PAUSED batch in place, or the interrupted batch "
                   "(only missing or unverified frames render), or re-run the last batch's "
                   "FAILED and CANCELLED jobs and its FINISHED jobs' recorded frames lost or "
                   "changed on disk since",
        "responses": {
            "200": _answer("Batch resumed (or continued, when it was paused)", "Started"),
            "409": _answer("A batch is running, nothing can be resumed, the Blender binary "
                           "is missing, or another live Render+ owns the batch (key owner)")}}},
    "/batches": {"get": {
        "summary": "Extension: past batches from the durable store, newest first",
        "parameters": [
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
            {"name": "offset", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 0, "maximum": 2 ** 63 - 1, "default": 0}}],
        "responses": {"200": _answer("The history", "History"),
                      "400": _answer("limit or offset not a plain decimal integer in its range; "
                                     "'parameter' names it, the sentence gives the range"),
                      "503": _answer("The batch store cannot be read")}}},
    "/test": {"get": {
        "summary": "Get batch server information",
        "responses": {"200": _answer("Server information", "ServerInfo")}}},
    "/batch": {
        "get": {
            "summary": "Query the batch status",
            "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                            "schema": {"type": "string"},
                            "description": "The ETag of an earlier answer: 304 when nothing changed"}],
            "responses": {"200": _answer("The batch", "Batch"),
                          "304": {"description": "Unchanged since the ETag given"},
                          "409": _NO_BATCH}},
        "delete": {
            "summary": "Cancel the current batch (running or paused)",
            "responses": {"200": _answer("Cancelled (answered once the batch has ended)", "Message"),
                          "409": _NOT_RUNNING}}},
    "/batch/ready": {"get": {
        "summary": "Determine if the server can run a batch",
        "responses": {"200": _answer("ready, and the reasons when not", "Ready")}}},
    "/batch/name": {"get": {
        "summary": "Query the batch's name (blend file)",
        "responses": {"200": _answer("The name", "Name"), "409": _NO_BATCH}}},
    "/batch/jobs/{id}": {"get": {
        "summary": "Query the status of a specific render job",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "description": "The job's index in jobs, from 0",
                        "schema": {"type": "integer", "minimum": 0}}],
        "responses": {"200": _answer("The job", "Job"),
                      "400": _answer("Wrong or missing index of job to poll: not an integer, "
                                     "or not the index of a job of the batch"),
                      "409": _NO_BATCH}},
      "delete": {
        "summary": "Extension: cancel one job by id (with parallel jobs, any running one); a "
                   "QUEUED job becomes CANCELLED before it starts",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 0}}],
        "responses": {"200": _answer("Job cancelled", "Message"),
                      "400": _answer("The id is not an integer, or not a job of the batch"),
                      "409": _answer("No batch runs, or the job has already ended")}},
    },
    "/batch/jobs/{id}/movie": {"get": {
        "summary": "Extension: the movie an encode job made (Range requests and HEAD work, so a "
                   "video player seeks in it)",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "description": "The job's index in jobs, from 0",
                        "schema": {"type": "integer", "minimum": 0}}],
        "responses": {"200": {"description": "The movie file",
                              "content": {media: {"schema": {"type": "string", "format": "binary"}}
                                          for media in MOVIE_MEDIA_TYPES}},
                      "206": {"description": "The part of the movie a Range header asked for"},
                      "304": {"description": "Unchanged"},
                      "400": _answer("The id is not an integer, or not a job of the batch"),
                      "404": _answer("The job makes no movie, its movie is not DONE, or the "
                                     "file is gone"),
                      "409": _NO_BATCH}}},
    "/batch/jobs/current": {"delete": {
        "summary": "Cancel the render job currently running; the batch goes on",
        "responses": {"200": _answer("Job cancelled", "Message"), "409": _NOT_RUNNING}}},
    "/server": {"delete": {
        "summary": "Stop the server; a running batch is cancelled first",
        "responses": {"200": _answer("Stopping", "Message"),
                      "501": _answer("This server was started without a way to stop it")}}},
    "/openapi.json": {"get": {
        "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3 document",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}},
}

# What any request can be answered before (or instead of) its route; a route's own entry wins.
_COMMON_RESPONSES = {
    "400": _answer("Malformed request: an unreadable request line, two different "
                   "Content-Length headers, or a Content-Length that is not plain digits"),
    "401": _answer("The route needs the server's access token (docs/api.md, Access) and the "
                   "request did not carry it, or carried another; the sentence says where its "
                   "user finds it"),
    "403": _answer("Host or Origin is not this server (DNS rebinding / cross-site protection)"),
    "404": _answer("No such route"),
    "405": _answer("Method not allowed on this route"),
    "408": _answer("Part of the request head came, but not all of it within 5 s"),
    "414": _answer("Request line (method, URL and version) over 8 KiB"),
    "431": _answer("Request head over 32 KiB, or more than 100 header lines"),
    "500": _answer("An unexpected error in the server (names the exception type)"),
    "503": _answer("Every connection is busy (the server's cap); retry after Retry-After seconds"),
    "505": _answer("HTTP version not supported (HTTP/2 and later)"),
}


# Who may call a route (guard.ROUTE_ACCESS): the page needs nothing ({} = no credentials), a read
# is open on loopback with the server's own token, every other route needs the token.
Security = list[dict[str, list[str]]]
_TOKEN: Security = [{"bearer": []}, {"token": []}]
_SECURITY: dict[Access, Security] = {Access.PUBLIC: [{}], Access.READ: [{}, *_TOKEN]}


def _security(method: str, path: str) -> Security:
    return _SECURITY.get(ROUTE_ACCESS.get((method.upper(), path), Access.CHANGE), _TOKEN)


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for table in (_PATHS, DASHBOARD_OPENAPI_PATHS, QUEUE_OPENAPI_PATHS):
        for path, methods in table.items():
            paths.setdefault(path, {}).update({
                method: {**operation, "security": _security(method, path),
                         "responses": {**_COMMON_RESPONSES, **operation["responses"]}}
                for method, operation in methods.items()})
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{SERVER_NAME} API", "version": VERSION,
                 "description": f"Render+ batch server REST API, version {API_VERSION}. JSON in, "
                                "JSON out; every error body has a 'status' sentence."},
        "servers": [{"url": f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"}],
        "security": _TOKEN,
        "paths": paths,
        "components": {
            "schemas": {**_SCHEMAS, **QUEUE_SCHEMAS},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": _TOKEN_RULE},
                "token": {"type": "apiKey", "in": "header", "name": "X-RenderPlus-Token",
                          "description": "The same token in a header of its own"}}},
    }
