"""The batch recipe (format v2.2 plus Render+'s keys, docs/api.md, Recipe): parse, validate, write back.

A recipe arrives as JSON text from the add-on, the HTTP API or a file given to the CLI. It is
checked in one pass that collects *every* problem with the path of the field that has it
(``jobs[2].frame_end: must be >= frame_start (got 1 < 5)``), so a user fixes a recipe in one go.

- ``model``: the dataclasses; each recipe key is declared once, on its field (``fields``).
- ``validate``: ``parse_recipe`` (``checker``: typed readers; ``crosscheck``: rules across fields).
- ``jsontext``: decoding hostile text safely (depth, huge numbers, duplicates, surrogates).
- ``datapath``: the grammar of custom-override data paths.
- ``schema``: the recipe's JSON schema for the OpenAPI document, from the same field table.
"""

from __future__ import annotations

from .datapath import DataPathStep, data_path_problem, split_data_path
from .errors import RecipeError, ValidationIssue
from .model import (
    BATCH_HOOK_PHASES,
    CYCLES_DEVICES,
    IMAGE_FORMATS,
    JOB_HOOK_PHASES,
    MAX_JOBS,
    MAX_SIZE,
    MOVIE_FORMAT_NAMES,
    POWER_ACTIONS,
    RECIPE_VERSION,
    SUPPORTED_VERSIONS,
    CustomOverride,
    CyclesSettings,
    EncodeSettings,
    Hook,
    Job,
    MailSettings,
    Notifications,
    PercentageToggle,
    PowerOff,
    Recipe,
    RssSettings,
    Section,
    Settings,
    SizeToggle,
    SoundSettings,
    Toggle,
    ValidateSettings,
    WebhookSettings,
    recipe_base_dir,
)
from .validate import parse_jobs, parse_recipe

__all__ = [
    "BATCH_HOOK_PHASES",
    "CYCLES_DEVICES",
    "IMAGE_FORMATS",
    "JOB_HOOK_PHASES",
    "MAX_JOBS",
    "MAX_SIZE",
    "MOVIE_FORMAT_NAMES",
    "POWER_ACTIONS",
    "RECIPE_VERSION",
    "SUPPORTED_VERSIONS",
    "CustomOverride",
    "CyclesSettings",
    "DataPathStep",
    "EncodeSettings",
    "Hook",
    "Job",
    "MailSettings",
    "Notifications",
    "PercentageToggle",
    "PowerOff",
    "Recipe",
    "RecipeError",
    "RssSettings",
    "Section",
    "Settings",
    "SizeToggle",
    "SoundSettings",
    "Toggle",
    "ValidateSettings",
    "ValidationIssue",
    "WebhookSettings",
    "data_path_problem",
    "parse_jobs",
    "parse_recipe",
    "recipe_base_dir",
    "split_data_path",
]
