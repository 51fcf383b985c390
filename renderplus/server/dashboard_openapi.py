"""The dashboard's routes as OpenAPI paths, merged into ``/openapi.json`` (``openapi.py``).

Apart from ``dashboard_routes`` so that the document can be built without importing Bottle.
"""

from __future__ import annotations

from typing import Any


def _doc_answer(description: str, media: str = "application/json") -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"} if media == "application/json" else \
        {"type": "string", "format": "binary"}
    return {"description": description, "content": {media: {"schema": schema}}}


_FRAME_PARAMETERS = [
    {"name": "batch", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "'current' (the batch the polls describe) or a stored batch's id"},
    {"name": "job", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}},
    {"name": "index", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "The position in the job's outputs (the poll's 'outputs'; for a stored batch "
                    "its recorded files by frame and path), or 'last'"},
]
_FRAME_ERRORS = {
    "400": _doc_answer("The batch, job or index is not a number (or 'current' / 'last')"),
    "403": _doc_answer("The file is a symbolic link, not a regular file, or another user's"),
    "404": _doc_answer("No such batch, job or output, or the file (or its preview) is gone"),
    "410": _doc_answer("A stored frame changed since it was recorded"),
    "415": _doc_answer("Not an image a browser can show"),
}
DASHBOARD_OPENAPI_PATHS: dict[str, Any] = {
    "/": {"get": {"summary": "Extension: the web dashboard (HTML; no data in it)",
                  "responses": {"200": {"description": "The page",
                                        "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    "/dashboard/{name}": {"get": {
        "summary": "Extension: the dashboard's files (dashboard.css, dashboard*.js)",
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The file"}, "304": {"description": "Unchanged"},
                      "404": _doc_answer("Not one of the dashboard's files")}}},
    "/frames/{batch}/{job}/{index}": {"get": {
        "summary": "Extension: a frame a job wrote (only outputs of the current or a stored batch; "
                   "only images a browser can show)",
        "parameters": _FRAME_PARAMETERS,
        "responses": {"200": _doc_answer("The image", "image/*"), "304": {"description": "Unchanged"},
                      **_FRAME_ERRORS}}},
    "/previews/{batch}/{job}/{index}": {"get": {
        "summary": "Extension: a frame's thumbnail: the frame itself, or the JPEG preview Blender "
                   "wrote for formats browsers cannot show (EXR, TIFF...)",
        "parameters": _FRAME_PARAMETERS,
        "responses": {"200": _doc_answer("The image", "image/*"), "304": {"description": "Unchanged"},
                      **_FRAME_ERRORS}}},
}
