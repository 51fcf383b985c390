"""The open file's scenes, cameras, worlds and view layers as the facts the check rules read.

``--check`` learns what a .blend holds from a Blender probe; the add-on has the file open, so
it reads ``bpy.data`` instead, and both are judged by the same rules (``batch/preflight/rules``).
The panel checks its job on every redraw, so nothing is copied up front: a name is looked up
(``.get``) when a rule asks for it, and a collection is listed only for a message.

No ``bpy`` import: the caller hands in ``bpy.data`` (or a stand-in with the same ``.get`` and
iteration) and the scene a job without one renders.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from ..batch.preflight import FileFacts, SceneFacts


class _Names(Collection[str]):
    """The names of a bpy collection's items that ``keep`` accepts, looked up by name."""

    def __init__(self, items: Any, keep: Callable[[Any], bool] = lambda item: True) -> None:
        self._items, self._keep = items, keep

    def __contains__(self, name: object) -> bool:
        item = self._items.get(name) if isinstance(name, str) else None
        return item is not None and self._keep(item)

    def __iter__(self) -> Iterator[str]:
        return (str(item.name) for item in self._items if self._keep(item))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _is_camera(item: Any) -> bool:
    return bool(item.type == "CAMERA")


class _Scenes(Mapping[str, SceneFacts]):
    """``data.scenes`` by name, each scene's facts read when asked for."""

    def __init__(self, scenes: Any) -> None:
        self._scenes = scenes

    def __getitem__(self, name: str) -> SceneFacts:
        scene = self._scenes.get(name)
        if scene is None:
            raise KeyError(name)
        return scene_facts(scene)

    def __iter__(self) -> Iterator[str]:
        return (str(scene.name) for scene in self._scenes)

    def __len__(self) -> int:
        return len(self._scenes)


def scene_facts(scene: Any) -> SceneFacts:
    """One scene of the open file: its camera objects, active camera, view layers, output, engine."""
    return SceneFacts(cameras=_Names(scene.objects, _is_camera),
                      camera=str(scene.camera.name) if scene.camera is not None else None,
                      layers=_Names(scene.view_layers), output=str(scene.render.filepath),
                      engine=str(scene.render.engine))


def file_facts(data: Any, default_scene: Any, blender: str = "") -> FileFacts:
    """What ``data`` (``bpy.data``) holds; ``default_scene``: the scene a job without one renders."""
    active = str(default_scene.name) if default_scene is not None else ""
    return FileFacts(blender=blender, active_scene=active, scenes=_Scenes(data.scenes),
                     worlds=_Names(data.worlds), engines=[])
