"""Typed readers for recipe values that record problems instead of raising.

Each reader gets a value that is present in the recipe and returns it checked, or records an
issue at ``path`` and returns None (the caller then keeps the field's default). Types are
strict JSON types: ``"2"`` is not a number, ``1`` is not a boolean, and null is a wrong type
unless the field's rule says it is nullable. No reader converts a number to float before
comparing, so a 300-digit integer is a range error, never an OverflowError.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import ValidationIssue, show
from .fields import FieldRule
from .model import MAX_SIZE

MAX_WARNINGS = 100  # a recipe full of unknown keys gets a summary, not a million lines


class Checker:
    """Collects every error and warning of one recipe, with paths."""

    def __init__(self) -> None:
        self.errors: list[ValidationIssue] = []
        self.warnings: list[ValidationIssue] = []
        self.warnings_left_out = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(ValidationIssue(path, message))

    def wants_warnings(self) -> bool:
        """False once MAX_WARNINGS are collected (the rest are only counted)."""
        if len(self.warnings) < MAX_WARNINGS:
            return True
        self.warnings_left_out += 1
        return False

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(ValidationIssue(path, message))

    def final_warnings(self) -> list[ValidationIssue]:
        if not self.warnings_left_out:
            return self.warnings
        return [*self.warnings, ValidationIssue("", f"... and {self.warnings_left_out} more unknown keys")]

    # ------------------------------------------------------------ scalar kinds (read_<kind>)

    def read_str(self, rule: FieldRule, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            self.error(path, f"must be a string (got {show(value)})")
            return None
        if "\x00" in value:
            self.error(path, "must not contain NUL characters")
            return None
        return value

    def read_bool(self, rule: FieldRule, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(path, f"must be true or false{' or null' if rule.nullable else ''} "
                             f"(got {show(value)})")
            return None
        return value

    def read_int(self, rule: FieldRule, value: Any, path: str) -> int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"must be an integer (got {show(value)})")
            return None
        return value if self.in_range(rule, value, path) else None

    def read_int_or_auto(self, rule: FieldRule, value: Any, path: str) -> int | str | None:
        if value == "auto" and isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f'must be an integer or "auto" (got {show(value)})')
            return None
        return value if self.in_range(rule, value, path) else None

    def read_float(self, rule: FieldRule, value: Any, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not math.isfinite(value)):
            self.error(path, f"must be a number (got {show(value)})")
            return None
        if rule.minimum is not None and rule.maximum is not None \
                and not rule.minimum <= value <= rule.maximum:  # int vs float compares exactly
            self.error(path, f"must be between {rule.minimum:g} and {rule.maximum:g} "
                             f"(got {show(value)})")
            return None
        return float(value)

    def read_choice(self, rule: FieldRule, value: Any, path: str) -> str | None:
        text = self.read_str(rule, value, path)
        if text is not None and text not in rule.choices:
            self.error(path, f"must be one of {', '.join(rule.choices)} (got {show(text)})")
            return None
        return text

    def read_choice_list(self, rule: FieldRule, value: Any, path: str) -> list[str] | None:
        """Each item one of the rule's words, none twice; every bad item with its own path."""
        if not isinstance(value, list):
            self.error(path, f"must be a list of {', '.join(rule.choices)} (got {show(value)})")
            return None
        before = len(self.errors)
        seen: list[str] = []
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, str) or item not in rule.choices:
                self.error(where, f"unknown {show(item)}: must be one of {', '.join(rule.choices)}")
            elif item in seen:
                self.error(where, f"{show(item)} is given twice")
            else:
                seen.append(item)
        return seen if len(self.errors) == before else None

    def read_size(self, rule: FieldRule, value: Any, path: str) -> tuple[int, int] | None:
        if (not isinstance(value, list | tuple) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            null = " or null" if rule.nullable else ""
            self.error(path, f"must be [width, height] in pixels{null} (got {show(value)})")
            return None
        width, height = value
        if not (1 <= width <= MAX_SIZE and 1 <= height <= MAX_SIZE):
            self.error(path, f"width and height must be between 1 and {MAX_SIZE} "
                             f"(got {show(width)}x{show(height)})")
            return None
        return (width, height)

    def in_range(self, rule: FieldRule, value: int, path: str) -> bool:
        if rule.minimum is not None and value < rule.minimum:
            self.error(path, f"must be >= {show(rule.minimum)} (got {show(value)})")
            return False
        if rule.maximum is not None and value > rule.maximum:
            self.error(path, f"must be <= {show(rule.maximum)} (got {show(value)})")
            return False
        return True
