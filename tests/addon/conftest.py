"""Fixtures for the add-on tests: the zip that build.py makes (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.addon.helpers import build_zip


@pytest.fixture(scope="session")
def addon_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``build.py``'s zip, built and validated into a temporary folder."""
    return build_zip(tmp_path_factory.mktemp("dist"))
