"""Which Blenders this machine has, with their versions: the candidates of ``blender_bin: "auto"``.

Candidates, in this order (the order decides between two Blenders of the same version): the
listed ones (``--blender PATH`` flags, or the engine API's ``RunOptions.blenders`` the add-on
fills), then ``RENDERPLUS_BLENDERS`` (paths joined by ``os.pathsep``), then ``blender`` on PATH,
then the usual install folders of Linux, macOS and Windows. Every root is injectable
(``InstallRoots``) so that tests can build fake folder trees. A listed path that is no working
Blender is a problem said in a sentence; an installed one that does not answer is skipped.
Versions are asked once per binary file (``known_blender_version``).
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .preflight.binary import known_blender_version, version_number

BLENDERS_ENV = "RENDERPLUS_BLENDERS"
SURVEY_TIMEOUT = 30.0  # a Blender's first --version may load for a while; a hang is a problem

VersionOf = Callable[[str], "tuple[str | None, str | None]"]

# Below InstallRoots.system: Linux packages, tarballs, snap and flatpak; macOS application bundles.
SYSTEM_PATTERNS = ("usr/bin/blender", "usr/local/bin/blender", "opt/blender*/blender", "snap/bin/blender",
                   "var/lib/flatpak/exports/bin/org.blender.Blender",
                   "Applications/Blender*.app/Contents/MacOS/Blender")
HOME_PATTERNS = ("blender*/blender", ".local/share/flatpak/exports/bin/org.blender.Blender",
                 "Applications/Blender*.app/Contents/MacOS/Blender")
WINDOWS_PATTERN = os.path.join("Blender Foundation", "Blender *", "blender.exe")


@dataclass(frozen=True)
class InstallRoots:
    """Where the install folders are looked for: ``system`` holds ``usr/``, ``opt/``,
    ``Applications/``...; ``program_files`` are Windows' Program Files folders."""

    home: str
    system: str = os.sep
    program_files: tuple[str, ...] = ()

    @classmethod
    def of_this_machine(cls, env: Mapping[str, str]) -> InstallRoots:
        folders = [env[name] for name in ("ProgramFiles", "ProgramW6432") if env.get(name)]
        if os.name == "nt" and not folders:
            folders = [r"C:\Program Files"]
        return cls(home=os.path.expanduser("~"), system=os.path.abspath(os.sep),
                   program_files=tuple(dict.fromkeys(folders)))


@dataclass(frozen=True)
class FoundBlender:
    """A Blender that answered ``--version``."""

    path: str
    version: str

    @property
    def number(self) -> int:
        """304 for 3.4.1, as a .blend header stores it."""
        return version_number(self.version) or 0

    @property
    def release(self) -> tuple[int, ...]:
        """(3, 4, 1) for 3.4.1: for sorting."""
        return tuple(int(part) for part in self.version.split("."))


@dataclass(frozen=True)
class Survey:
    """The Blenders found (candidate order, one per file) and what was wrong with listed ones."""

    found: tuple[FoundBlender, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def listed_blenders(explicit: Sequence[str], env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(path, where it was listed) for the listed candidates, in order."""
    listed = [(path, "a listed Blender") for path in explicit if path]
    listed += [(path, BLENDERS_ENV) for path in env.get(BLENDERS_ENV, "").split(os.pathsep) if path.strip()]
    return listed


def installed_blenders(roots: InstallRoots, search_path: str | None) -> list[str]:
    """``blender`` on ``search_path`` (PATH), then what the usual install folders hold."""
    found = [path for path in [shutil.which("blender", path=search_path) if search_path else None] if path]
    patterns = [os.path.join(roots.system, pattern) for pattern in SYSTEM_PATTERNS]
    patterns += [os.path.join(roots.home, pattern) for pattern in HOME_PATTERNS]
    patterns += [os.path.join(folder, WINDOWS_PATTERN) for folder in roots.program_files]
    for pattern in patterns:
        found += sorted(glob.glob(pattern), key=_natural, reverse=True)  # newest folder first
    return [path for path in found if os.path.isfile(path) and os.access(path, os.X_OK)]


def _natural(path: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in _split_digits(path)]


def _split_digits(text: str) -> list[str]:
    parts: list[str] = []
    for char in text:
        if parts and char.isdigit() == parts[-1][-1].isdigit():
            parts[-1] += char
        else:
            parts.append(char)
    return parts


def listed_problem(path: str, where: str, version_of: VersionOf) -> tuple[str | None, str | None]:
    """(the executable's path, None) for a listed Blender that answers, else (None, why not)."""
    named = os.path.expanduser(path)
    if os.sep not in named and not (os.altsep and os.altsep in named):
        found = shutil.which(named)
        if found is None:
            return None, f"{path} ({where}) is not found on PATH"
        named = found
    if not os.path.exists(named):
        return None, f"{path} ({where}) does not exist"
    if os.path.isdir(named):
        return None, f"{path} ({where}) is a folder, not a Blender executable"
    if not os.access(named, os.X_OK):
        return None, f"{path} ({where}) is not executable"
    version, why = version_of(named)
    if version is None:
        return None, f"{path} ({where}) is not a working Blender: {why}"
    return named, None


def machine_places(env: Mapping[str, str]) -> tuple[InstallRoots, str]:
    """This machine's install folders and PATH: what ``survey`` searches unless told otherwise
    (tests replace it with fake folder trees)."""
    return InstallRoots.of_this_machine(env), env.get("PATH", os.defpath)


def survey(explicit: Sequence[str] = (), *, env: Mapping[str, str] | None = None,
           roots: InstallRoots | None = None, search_path: str | None = None,
           version_of: VersionOf | None = None) -> Survey:
    """Every Blender found, in candidate order, each binary file once."""
    env = os.environ if env is None else env
    machine_roots, machine_path = machine_places(env)
    roots = roots or machine_roots
    search_path = machine_path if search_path is None else search_path
    ask = version_of or (lambda path: known_blender_version(path, timeout=SURVEY_TIMEOUT))
    problems: list[str] = []
    paths: list[str] = []
    for path, where in listed_blenders(explicit, env):
        usable, why = listed_problem(path, where, ask)
        if usable is None:
            problems.append(str(why))
        else:
            paths.append(usable)
    paths += installed_blenders(roots, search_path)
    found: list[FoundBlender] = []
    seen: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        version, _ = ask(path)
        if version is not None:
            found.append(FoundBlender(path, version))
    return Survey(tuple(found), tuple(problems))
