#!/usr/bin/env python3
"""Build the installable add-on: ``dist/renderplus-<version>.zip``, wheels bundled, validated.

    python3 build.py [--source renderplus] [--out dist] [--no-validate] [--validator PATH]

1. Read ``blender_manifest.toml`` and check that ``bl_info`` in ``__init__.py`` says the same
   version and name (Blender 3.x reads ``bl_info``, 4.2+ the manifest).
2. Fetch the wheels the manifest lists, and ``LEGACY_WHEELS``, that are missing (``pip download
   <name>==<version> --only-binary=:all: --no-deps -d <source>/wheels``; the folder is
   git-ignored).
3. Zip the add-on folder under a top folder ``renderplus/``: Blender 4.2+ installs that zip as
   an extension, Blender 3.x's "Install add-on" unpacks the same folder as a legacy add-on.
   Caches, dot-files, backups and wheels the manifest does not list stay out; entries are
   sorted with fixed timestamps, so the same sources give the same zip.
4. Validate the zip with Blender's own extension validator (``blender_ext.py validate``, which
   the ``bpy`` wheel carries and plain Python runs).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
DEFAULT_SOURCE = ROOT / "renderplus"
DEFAULT_OUT = ROOT / "dist"
MANIFEST = "blender_manifest.toml"
VALIDATOR_GLOB = "*/scripts/addons_core/bl_pkg/cli/blender_ext.py"
EXCLUDED_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".zip", ".orig", ".rej")
BACKUP_BLEND = re.compile(r"\.blend\d+$")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Wheels the zip carries for legacy add-on installs (Blender 3.x-4.1 install no wheels: the
# add-on imports the one that fits its Python, ``renderplus.batch.wheel_imports``) but the
# manifest must not list: Blender 4.2+ installs every wheel listed, and these are older versions
# of listed ones. Blender Asset Tracer 1.20 is the last for Python 3.9-3.10 (Blender 3.4-4.0).
LEGACY_WHEELS = ("./wheels/blender_asset_tracer-1.20-py3-none-any.whl",)
WHEEL_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_.]+)-(?P<version>[0-9][^-]*)-")


class BuildError(Exception):
    """A problem that stops the build; the message says what to fix."""


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError as exc:  # Python 3.10
        raise BuildError("build.py needs Python 3.11+ (tomllib) to read the manifest") from exc
    path = source / MANIFEST
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise BuildError(f"{path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"{path} is not valid TOML: {exc}") from None


def read_bl_info(source: Path) -> dict[str, Any]:
    """``bl_info`` from ``__init__.py``, read without importing it (it needs Blender)."""
    path = source / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "bl_info" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return value
    raise BuildError(f"{path} has no bl_info dictionary (Blender 3.x needs it)")


def check_versions(manifest: dict[str, Any], bl_info: dict[str, Any]) -> str:
    """The version, after checking that ``bl_info`` and the manifest agree."""
    version = str(manifest.get("version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise BuildError(f"manifest version must look like 1.2.3 (got {version!r})")
    info_version = ".".join(str(part) for part in bl_info.get("version", ()))
    if info_version != version:
        raise BuildError(f"bl_info version {info_version} differs from the manifest's {version}: "
                         "keep them in step")
    if bl_info.get("name") != manifest.get("name"):
        raise BuildError(f"bl_info name {bl_info.get('name')!r} differs from the manifest's "
                         f"{manifest.get('name')!r}")
    return version


def wheel_paths(manifest: dict[str, Any], source: Path) -> list[Path]:
    """The wheels the zip carries, as paths inside the add-on folder: the manifest's, then
    ``LEGACY_WHEELS``."""
    wheels = manifest.get("wheels", [])
    if not isinstance(wheels, list) or not all(isinstance(w, str) for w in wheels):
        raise BuildError("manifest 'wheels' must be a list of paths")
    return [(source / wheel).resolve() for wheel in (*wheels, *LEGACY_WHEELS)]


def fetch_wheels(wheels: list[Path]) -> None:
    """Download the listed wheels that are not there yet, pinned to their file's version."""
    for wheel in wheels:
        if wheel.is_file():
            continue
        match = WHEEL_NAME.match(wheel.name)
        if not match:
            raise BuildError(f"cannot tell the package and version of wheel {wheel.name}")
        requirement = f"{match['name']}=={match['version']}"
        print(f"fetching {requirement} -> {wheel.parent}")
        wheel.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", requirement, "--only-binary=:all:",
             "--no-deps", "--disable-pip-version-check", "-d", str(wheel.parent)],
            capture_output=True, text=True, check=False)
        if result.returncode != 0 or not wheel.is_file():
            raise BuildError(f"could not download {requirement} as {wheel.name}:\n"
                             f"{result.stdout}{result.stderr}")


def package_files(source: Path, wheels: list[Path]) -> Iterator[Path]:
    """Files that go into the zip, sorted: everything but caches, dot-files and stray wheels."""
    listed = set(wheels)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in EXCLUDED_DIRS or part.startswith(".") for part in relative.parts):
            continue
        if not path.is_file() or path.suffix in EXCLUDED_SUFFIXES or BACKUP_BLEND.search(path.name):
            continue
        if path.suffix == ".whl" and path.resolve() not in listed:
            continue
        yield path


def write_zip(source: Path, target: Path, files: list[Path], top: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(f"{top}/{path.relative_to(source).as_posix()}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    os.replace(partial, target)


def find_validator(explicit: str | None) -> Path | None:
    """Blender's ``blender_ext.py``: given, from $BLENDER_EXT_PY, or inside an installed bpy wheel."""
    if explicit:
        return Path(explicit)
    if os.environ.get("BLENDER_EXT_PY"):
        return Path(os.environ["BLENDER_EXT_PY"])
    roots: list[Path] = []
    spec = importlib.util.find_spec("bpy")  # finds the wheel without importing Blender
    if spec is not None and spec.origin:
        roots.append(Path(spec.origin).parent)
    roots += sorted(ROOT.glob(".venv/lib/python3*/site-packages/bpy"))
    for root in roots:
        found = sorted(root.glob(VALIDATOR_GLOB))
        if found:
            return found[-1]
    return None


def validate(zip_path: Path, validator: Path) -> str:
    """Run Blender's extension validator on the zip; return its report or raise BuildError."""
    if not validator.is_file():
        raise BuildError(f"Blender's extension validator is not at {validator}")
    result = subprocess.run([sys.executable, str(validator), "validate", str(zip_path)],
                            capture_output=True, text=True, check=False)
    report = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or "error" in report.lower():
        raise BuildError(f"Blender's validator rejected {zip_path.name}:\n{report}")
    return report


def build(source: Path, out: Path, *, validate_zip: bool = True, validator: str | None = None) -> Path:
    """Build and validate the zip; return its path."""
    source = source.resolve()
    manifest = read_manifest(source)
    version = check_versions(manifest, read_bl_info(source))
    package_id = str(manifest.get("id", ""))
    if not package_id.isidentifier():
        raise BuildError(f"manifest id must be a Python identifier (got {package_id!r})")
    wheels = wheel_paths(manifest, source)
    fetch_wheels(wheels)
    files = list(package_files(source, wheels))
    target = out.resolve() / f"{package_id}-{version}.zip"
    write_zip(source, target, files, top=package_id)
    print(f"built {target} ({len(files)} files, {target.stat().st_size // 1024} KiB)")
    if validate_zip:
        found = find_validator(validator)
        if found is None:
            raise BuildError("Blender's extension validator (blender_ext.py from the bpy wheel) was "
                             "not found: install bpy, pass --validator PATH, or use --no-validate")
        print(f"validator: {validate(target, found)}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the add-on folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the zip goes")
    parser.add_argument("--no-validate", action="store_true", help="skip Blender's validator")
    parser.add_argument("--validator", help="path of Blender's blender_ext.py")
    args = parser.parse_args(argv)
    try:
        build(args.source, args.out, validate_zip=not args.no_validate, validator=args.validator)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
