"""The field table: each recipe key is declared once, on its dataclass field, with its rule.

A model field made with one of the constructors below (``text()``, ``flag()``, ``integer()``,
...) carries a ``FieldRule`` in its metadata. From that one declaration come the keys a record
knows (everything else is reported as unknown), its default, how it is read and checked
(``validate``), how it is written back (``Record.to_dict``) and its JSON schema (``schema``), so
adding a key is one line in ``model.py``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

RULE = "renderplus.recipe"


@dataclass(frozen=True)
class FieldRule:
    """How one recipe key is read, checked and written. ``kind`` names the reader."""

    kind: str
    key: str = ""                         # the JSON key, when it is not the attribute's name
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    record: type | None = None            # the nested record's class (kind "record" / "list")
    nullable: bool = False                # null is a value (else null is a wrong type)
    required: bool = False
    secret: bool = False                  # hidden by to_dict(redact=True)
    omit_unset: bool = False              # written back only when set (not None)
    doc: str = ""


def _field(default: Any, rule: FieldRule, factory: Any = None) -> Any:
    metadata = {RULE: rule}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def text(default: str = "", *, key: str = "", required: bool = False, secret: bool = False,
         doc: str = "") -> Any:
    return _field(default, FieldRule("str", key=key, required=required, secret=secret, doc=doc))


def flag(default: bool | None, *, nullable: bool = False, doc: str = "") -> Any:
    return _field(default, FieldRule("bool", nullable=nullable, doc=doc))


def integer(default: int, minimum: int, maximum: int, *, doc: str = "") -> Any:
    return _field(default, FieldRule("int", minimum=minimum, maximum=maximum, doc=doc))


def count_or_auto(default: int | str, minimum: int, maximum: int, *, doc: str = "") -> Any:
    """An integer, or the word ``"auto"`` (the engine decides)."""
    return _field(default, FieldRule("int_or_auto", minimum=minimum, maximum=maximum, doc=doc))


def fraction(default: float) -> Any:
    """A number from 0 to 1 (a share of the frame)."""
    return _field(default, FieldRule("float", minimum=0.0, maximum=1.0))


def choice(default: str, choices: tuple[str, ...]) -> Any:
    return _field(default, FieldRule("choice", choices=choices))


def choices(allowed: tuple[str, ...], *, doc: str = "") -> Any:
    """A list of distinct words from ``allowed``; absent: all of them, in that order."""
    return _field(None, FieldRule("choice_list", choices=allowed, doc=doc), lambda: list(allowed))


def web_url(*, doc: str = "") -> Any:
    """An http(s) address that is a secret (it carries a channel's key): hidden like ``pass``."""
    return _field("", FieldRule("web_url", secret=True, doc=doc))


def size(default: tuple[int, int] | None, *, nullable: bool, doc: str = "") -> Any:
    """``[width, height]`` in pixels; with ``nullable``, null keeps the file's size."""
    return _field(default, FieldRule("size", nullable=nullable, doc=doc))


def record(cls: type, factory: Any = None) -> Any:
    """A nested object read with its own field table."""
    return _field(None, FieldRule("record", record=cls), factory or cls)


def optional_record(cls: type, *, doc: str = "") -> Any:
    """A nested object that may be absent or null (None): present, it is read like ``record``."""
    return _field(None, FieldRule("record", record=cls, nullable=True, omit_unset=True, doc=doc))


def records(cls: type) -> Any:
    """A list of objects read with ``cls``'s field table."""
    return _field(None, FieldRule("list", record=cls), list)


def hook_phases(phases: tuple[str, ...]) -> Any:
    """``{"PHASE": [hook, ...]}`` for the phases given."""
    return _field(None, FieldRule("hooks", choices=phases), lambda: {p: [] for p in phases})


def special(kind: str, default: Any = None, *, key: str = "", required: bool = False,
            factory: Any = None, omit_unset: bool = False, nullable: bool = False,
            doc: str = "") -> Any:
    """A key with its own reader in ``validate`` (``kind`` names it)."""
    return _field(default, FieldRule(kind, key=key, required=required, omit_unset=omit_unset,
                                     nullable=nullable, doc=doc), factory)


@functools.cache
def rules_of(cls: type) -> tuple[tuple[str, str, FieldRule], ...]:
    """``(attribute, json key, rule)`` for every recipe key of ``cls``, in declaration order."""
    return tuple((f.name, f.metadata[RULE].key or f.name, f.metadata[RULE])
                 for f in dataclasses.fields(cls) if RULE in f.metadata)


@functools.cache
def keys_of(cls: type) -> tuple[str, ...]:
    """The JSON keys ``cls`` knows."""
    return tuple(key for _, key, _ in rules_of(cls))


def default_of(cls: type, name: str) -> Any:
    """The declared default of field ``name`` (a fresh one for factory defaults)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            return f.default
    raise KeyError(name)


class Record:
    """Base of the recipe's dataclasses: ``to_dict`` written from the field table."""

    def to_dict(self, *, redact: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = dict(getattr(self, "extra", None) or {})
        cls: type = type(self)
        for name, key, rule in rules_of(cls):
            value = getattr(self, name)
            if rule.omit_unset and value is None:
                continue
            data[key] = _dump(rule, value, redact)
        return data


def _dump(rule: FieldRule, value: Any, redact: bool) -> Any:
    if rule.secret and redact:
        return "***" if value else ""
    if rule.kind == "size":
        return list(value) if value is not None else None
    if rule.kind == "record":
        return None if value is None else value.to_dict(redact=redact)
    if rule.kind == "choice_list":
        return list(value)
    if rule.kind in ("list", "jobs"):
        return [item.to_dict(redact=redact) for item in value]
    if rule.kind == "hooks":
        return {phase: [hook.to_dict() for hook in hooks] for phase, hooks in value.items()}
    if rule.kind == "frames":
        return value.to_spec()
    if rule.kind == "window":
        return value.to_json()
    return value
