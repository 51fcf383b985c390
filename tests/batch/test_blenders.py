"""Finding Blenders for "auto" and choosing one per file: fake executables in fake folder trees."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from renderplus.batch.blend_version import SavedVersion
from renderplus.batch.blender_choice import choose_for_file
from renderplus.batch.blenders import BLENDERS_ENV, FoundBlender, InstallRoots, Survey, survey
from renderplus.batch.preflight.binary import known_blender_version, version_if_known


def fake_blender(path: Path, version: str, *, hang: bool = False, count: Path | None = None) -> Path:
    """A shell script that answers ``--version`` as Blender ``version`` does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["#!/bin/sh"]
    if count is not None:
        lines.append(f"echo asked >> '{count}'")
    lines.append("exec sleep 30" if hang else f"echo 'Blender {version}'; echo '\tbuild date: 2024'")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def nowhere(tmp_path: Path) -> InstallRoots:
    return InstallRoots(home=str(tmp_path / "nohome"), system=str(tmp_path / "nosystem"))


def look(tmp_path: Path, explicit: tuple[str, ...] = (), env: dict[str, str] | None = None,
         roots: InstallRoots | None = None) -> Survey:
    return survey(explicit, env=env or {}, roots=roots or nowhere(tmp_path), search_path="",
                  version_of=lambda path: known_blender_version(path, timeout=2.0))


def test_listed_and_environment_blenders_come_first_in_order(tmp_path: Path) -> None:
    a = fake_blender(tmp_path / "a" / "blender", "4.3.2")
    b = fake_blender(tmp_path / "b" / "blender", "3.4.1")
    c = fake_blender(tmp_path / "c" / "blender", "5.2.2")
    found = look(tmp_path, (str(a),), {BLENDERS_ENV: os.pathsep.join([str(b), str(c)])})
    assert [(f.path, f.version) for f in found.found] == [(str(a), "4.3.2"), (str(b), "3.4.1"),
                                                          (str(c), "5.2.2")]
    assert found.problems == ()


def test_linux_install_folders_are_searched(tmp_path: Path) -> None:
    system, home = tmp_path / "root", tmp_path / "home"
    opt = fake_blender(system / "opt" / "blender-4.2.3-linux-x64" / "blender", "4.2.3")
    usr = fake_blender(system / "usr" / "bin" / "blender", "3.4.1")
    mine = fake_blender(home / "blender-5.0" / "blender", "5.0.1")
    snap = fake_blender(system / "snap" / "bin" / "blender", "4.5.0")
    flat = fake_blender(home / ".local/share/flatpak/exports/bin/org.blender.Blender", "4.4.0")
    found = look(tmp_path, roots=InstallRoots(home=str(home), system=str(system)))
    assert {f.path for f in found.found} == {str(opt), str(usr), str(mine), str(snap), str(flat)}


def test_macos_application_bundles_are_searched(tmp_path: Path) -> None:
    system, home = tmp_path / "mac", tmp_path / "home"
    app = fake_blender(system / "Applications/Blender.app/Contents/MacOS/Blender", "4.3.2")
    old = fake_blender(home / "Applications/Blender 3.6.app/Contents/MacOS/Blender", "3.6.5")
    found = look(tmp_path, roots=InstallRoots(home=str(home), system=str(system)))
    assert [(f.path, f.version) for f in found.found] == [(str(app), "4.3.2"), (str(old), "3.6.5")]


def test_windows_program_files_are_searched(tmp_path: Path) -> None:
    files = tmp_path / "Program Files"
    new = fake_blender(files / "Blender Foundation" / "Blender 4.10" / "blender.exe", "4.10.0")
    old = fake_blender(files / "Blender Foundation" / "Blender 4.2" / "blender.exe", "4.2.3")
    roots = InstallRoots(home=str(tmp_path / "nohome"), system=str(tmp_path / "nosys"),
                         program_files=(str(files),))
    found = look(tmp_path, roots=roots)
    assert [f.path for f in found.found] == [str(new), str(old)]  # newest folder first


def test_the_same_file_twice_counts_once(tmp_path: Path) -> None:
    a = fake_blender(tmp_path / "a" / "blender", "4.3.2")
    (tmp_path / "link").symlink_to(a)
    found = look(tmp_path, (str(a), str(tmp_path / "link")))
    assert [f.path for f in found.found] == [str(a)]


def test_bad_listed_paths_are_each_a_sentence(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    liar = tmp_path / "liar"
    liar.write_text("#!/bin/sh\necho hello\n")
    liar.chmod(0o755)
    hang = fake_blender(tmp_path / "hang" / "blender", "4.3.2", hang=True)
    found = survey((str(text), str(liar), str(tmp_path / "gone"), str(hang), str(tmp_path)),
                   env={}, roots=nowhere(tmp_path), search_path="",
                   version_of=lambda path: known_blender_version(path, timeout=0.5))
    assert found.found == ()
    assert found.problems == (
        f"{text} (a listed Blender) is not executable",
        f"{liar} (a listed Blender) is not a working Blender: {liar} --version failed (exit code 0): hello",
        f"{tmp_path / 'gone'} (a listed Blender) does not exist",
        f"{hang} (a listed Blender) is not a working Blender: {hang} --version did not answer within 0.5 s",
        f"{tmp_path} (a listed Blender) is a folder, not a Blender executable")


def test_a_version_is_asked_once_per_binary_file(tmp_path: Path) -> None:
    count = tmp_path / "count"
    blender = fake_blender(tmp_path / "once" / "blender", "4.3.2", count=count)
    assert version_if_known(str(blender)) is None
    for _ in range(3):
        look(tmp_path, (str(blender),))
    assert count.read_text().count("asked") == 1
    assert version_if_known(str(blender)) == "4.3.2"
    fake_blender(blender, "4.3.3", count=count)  # replaced: asked again
    os.utime(blender, ns=(1, 1))
    assert look(tmp_path, (str(blender),)).found[0].version == "4.3.3"


def blenders(*versions: str) -> Survey:
    return Survey(tuple(FoundBlender(f"/b/{v}/blender", v) for v in versions))


@pytest.mark.parametrize(("saved", "have", "chosen"), [
    (304, ("4.3.2", "3.4.1", "5.2.2"), "3.4.1"),   # the file's own version
    (402, ("3.4.1", "4.3.2", "5.2.2"), "4.3.2"),   # else the oldest newer one
    (300, ("3.4.1", "3.6.0"), "3.4.1"),
])
def test_the_choice_follows_the_rule_without_warning(saved: int, have: tuple[str, ...], chosen: str) -> None:
    choice = choose_for_file("/s/shot.blend", SavedVersion(saved), blenders(*have))
    assert choice.blender is not None and choice.blender.version == chosen
    assert choice.warnings == () and choice.problem is None


def test_only_older_blenders_of_the_series_render_with_a_warning() -> None:
    choice = choose_for_file("/s/shot.blend", SavedVersion(405), blenders("3.4.1", "4.3.2"))
    assert choice.blender == FoundBlender("/b/4.3.2/blender", "4.3.2")
    assert choice.warnings == ("/s/shot.blend was saved by Blender 4.5, newer than every Blender found "
                               "(3.4.1, 4.3.2): using the newest older one, 4.3.2 (/b/4.3.2/blender), "
                               "which may lose what 4.5 added",)


def test_a_file_of_a_newer_major_version_is_refused() -> None:
    choice = choose_for_file("/s/shot.blend", SavedVersion(500), blenders("3.4.1", "4.3.2"))
    assert choice.blender is None
    assert choice.problem == ("/s/shot.blend was saved by Blender 5.0, newer than every Blender found "
                              "(3.4.1, 4.3.2), and Blender cannot open files of a newer major version: "
                              "install Blender 5.0 or newer, or name it with --blender PATH")


def test_two_blenders_of_one_version_the_first_is_used_and_said() -> None:
    found = Survey((FoundBlender("/one/blender", "4.3.2"), FoundBlender("/two/blender", "4.3.2")))
    choice = choose_for_file("/s/shot.blend", SavedVersion(403), found)
    assert choice.blender == FoundBlender("/one/blender", "4.3.2")
    assert choice.warnings == ("Blender 4.3.2 was found more than once (/one/blender, /two/blender): "
                               "using /one/blender, the first in the candidate order",)


def test_no_blender_an_unreadable_file_and_a_bad_listed_path_are_problems() -> None:
    nothing = choose_for_file("/s/shot.blend", SavedVersion(304), Survey())
    assert nothing.problem is not None and nothing.problem.startswith(
        "\"auto\" found no Blender to render /s/shot.blend")
    broken = choose_for_file("/s/shot.blend", SavedVersion(None, problem="/s/shot.blend is an empty file"),
                             blenders("3.4.1"))
    assert broken.problem == "\"auto\" cannot choose a Blender: /s/shot.blend is an empty file"
    listed = choose_for_file("/s/shot.blend", SavedVersion(304),
                             Survey(blenders("3.4.1").found, ("/x (a listed Blender) does not exist",)))
    assert listed.problem == "/x (a listed Blender) does not exist"


def test_an_unknown_version_takes_the_newest_with_a_warning() -> None:
    saved = SavedVersion(None, unknown="the Blender version that saved /s/z.blend is unknown: no zstd")
    choice = choose_for_file("/s/z.blend", saved, blenders("3.4.1", "5.2.2", "4.3.2"))
    assert choice.blender is not None and choice.blender.version == "5.2.2"
    assert choice.warnings == ("the Blender version that saved /s/z.blend is unknown: no zstd: using the "
                               "newest Blender found, 5.2.2 (/b/5.2.2/blender)",)
