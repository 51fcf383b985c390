"""A waiting batch's secrets (the mail password, the webhook URL), kept beside the store.

The store keeps every recipe redacted: a secret key reads ``"***"`` there (docs/api.md, Mail),
so no log, poll, feed or history shows it. A batch that starts later from the queue, or
continues after a restart, still needs them: ``SecretFiles`` keeps them in one file per batch,
readable by its user only (0600, in a 0700 folder beside the store), and removes it with the
batch. A batch whose file is gone gets a sentence for its messages (``restore``) and empty
values, rather than a mail sent with ``"***"`` as its password.

Which keys are secret is the recipe's own field table (``FieldRule.secret``): a secret key added
later is kept without a change here.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .recipe import Recipe
from .recipe.fields import Record, rules_of

SECRETS_FOLDER = "renderplus-secrets"
REDACTED = "***"   # what ``to_dict(redact=True)`` writes for a secret that has a value

FieldPath = tuple[str | int, ...]   # attribute names and list indices, from the recipe down


def queued_name(queue_id: int) -> str:
    """The file name of a queued batch's secrets."""
    return f"queued-{queue_id}"


def batch_name(store_id: int) -> str:
    """The file name of a stored (paused, resumed) batch's secrets."""
    return f"batch-{store_id}"


def _secret_fields(record: Any, path: FieldPath = (), keys: str = "") -> Iterator[tuple[FieldPath, str, Any]]:
    """``(attribute path, JSON key path, value)`` of every secret key under ``record``."""
    cls: type = type(record)
    for name, key, rule in rules_of(cls):
        value = getattr(record, name)
        where = f"{keys}.{key}" if keys else key
        if rule.secret:
            yield (*path, name), where, value
        elif isinstance(value, Record):
            yield from _secret_fields(value, (*path, name), where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Record):
                    yield from _secret_fields(item, (*path, name, index), f"{where}[{index}]")


def secrets_of(recipe: Recipe) -> dict[str, str]:
    """The recipe's secret values that are set, by JSON key path (``notifications.mail.pass``)."""
    return {keys: value for _, keys, value in _secret_fields(recipe)
            if isinstance(value, str) and value and value != REDACTED}


def redacted_keys(recipe: Recipe) -> list[str]:
    """The secret keys of a recipe read back from the store that had a value (``"***"``)."""
    return [keys for _, keys, value in _secret_fields(recipe) if value == REDACTED]


def _put(recipe: Recipe, wanted: dict[str, str]) -> None:
    """Set the secret keys named in ``wanted`` (JSON key paths) on ``recipe``."""
    for path, keys, _ in list(_secret_fields(recipe)):
        if keys not in wanted:
            continue
        target: Any = recipe
        for step in path[:-1]:
            target = target[step] if isinstance(step, int) else getattr(target, step)
        setattr(target, str(path[-1]), wanted[keys])


class SecretFiles:
    """One 0600 file of secrets per waiting batch, in ``folder`` (0700)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def beside(cls, store_path: Path) -> SecretFiles:
        """The folder beside the store's file (the state folder, or ``--work-dir``)."""
        return cls(Path(store_path).parent / SECRETS_FOLDER)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def keep(self, name: str, recipe: Recipe) -> str | None:
        """Write the recipe's secrets (nothing when it has none); the problem, or None."""
        found = secrets_of(recipe)
        if not found:
            return None
        target = self.path(name)
        temp = target.with_name(f".{target.name}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(temp, flags, 0o600), "w", encoding="utf-8") as out:
                json.dump(found, out)
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            return f"The batch's secrets could not be kept in {target}: {exc.strerror or exc}"
        return None

    def restore(self, name: str, recipe: Recipe) -> str | None:
        """Put the kept secrets back into ``recipe`` (read back redacted). A secret that cannot
        be found is made empty and the sentence saying so returned (None: all were found)."""
        wanted = redacted_keys(recipe)
        if not wanted:
            return None
        target = self.path(name)
        try:
            kept = json.loads(target.read_text(encoding="utf-8"))
            why = "" if isinstance(kept, dict) else "it is damaged"
        except FileNotFoundError:
            kept, why = {}, "it is missing"
        except (OSError, ValueError) as exc:
            kept, why = {}, f"it cannot be read ({exc})"
        found = {key: str(kept[key]) for key in wanted if isinstance(kept, dict) and key in kept}
        lost = [key for key in wanted if key not in found]
        _put(recipe, {**found, **dict.fromkeys(lost, "")})
        if not lost:
            return None
        return (f"The secrets kept for this batch were lost ({target}: {why or 'incomplete'}): "
                f"{', '.join(lost)} is empty now, so what needs it (the mail, the webhook) may fail")

    def remove(self, name: str) -> None:
        with contextlib.suppress(OSError):
            self.path(name).unlink()
