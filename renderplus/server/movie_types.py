"""The Content-Type of each movie format's file (from the formats table), apart from the route
so that the OpenAPI document (``openapi.py``) can list them without importing Bottle."""

from __future__ import annotations

from ..batch.encode.formats import MEDIA_TYPES, media_type

MOVIE_TYPES = MEDIA_TYPES
MOVIE_MEDIA_TYPES = tuple(MEDIA_TYPES.values())
movie_type = media_type
