"""Which view layer of the current frame is rendering, for progress within a frame.

A frame of a scene with several view layers renders each layer in turn, its samples starting
again at 0 each time. The ready marker lists the layers; Cycles 2.8x-4.x status lines name the
one rendering (``Scene, ViewLayer``), EEVEE's and 5.x's do not: there a sample count that drops
within a frame (or ``Finished`` before it) starts the next layer. Each layer weighs the same.
"""

from __future__ import annotations

from typing import Final

from .lines import Event

_MAX_CACHED_FIELDS: Final = 256  # a handful of distinct fields per job; never grow unbounded


class LayerTracker:
    """The layers of one job (from the ready marker) and the one the current frame is on."""

    __slots__ = ("_field_index", "_finished", "_last_samples", "_scene", "count", "index", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.count = 0                         # len(names) when several, else 0 (nothing to follow)
        self.index = 0                         # the layer rendering in the current frame
        self._scene: str | None = None
        self._field_index: dict[str, int | None] = {}  # scene_layer field -> layer index
        self._last_samples: int | None = None  # last sample count seen in that layer
        self._finished = False                 # a Finished line closed that layer

    def configure(self, scene: object, layers: object) -> None:
        """Take the ready marker's ``scene`` and ``layers``."""
        self._scene = scene if isinstance(scene, str) else None
        if isinstance(layers, list) and all(isinstance(name, str) for name in layers):
            self.names = list(layers)
            self.count = len(layers) if len(layers) > 1 else 0
        self._field_index = {}

    def new_frame(self) -> None:
        self.index = 0
        self._last_samples = None
        self._finished = False

    def finished(self) -> float:
        """The current layer printed ``Finished``: the share of the frame now done."""
        self._finished = True
        return (self.index + 1) / self.count

    def follow(self, event: Event) -> float:
        """Move to the layer ``event`` belongs to; the share of the frame the layers before it
        make (0.0 when nothing changed)."""
        index: int | None = None
        scene_layer = event.scene_layer
        if scene_layer is not None:
            index = self._field_index.get(scene_layer, -1)
            if index == -1:
                index = self._resolve(scene_layer)
        samples = event.samples_done
        if index is None:
            if samples is None or event.tiles_todo is not None:
                return 0.0  # no layer name and no plain sample count: nothing says a layer changed
            last = self._last_samples
            dropped = last is not None and samples < last
            moved_on = (self._finished or dropped) and self.index < self.count - 1
            index = self.index + 1 if moved_on else self.index
        if samples is not None:
            self._last_samples = samples
        if index == self.index:
            return 0.0
        self.index = index
        self._finished = False
        return index / self.count

    def _resolve(self, scene_layer: str) -> int | None:
        """The index of the layer a ``Scene, ViewLayer[, view]`` field names, or None."""
        scene = self._scene
        if scene is not None:
            prefix = scene + ", "
            name = scene_layer[len(prefix):] if scene_layer.startswith(prefix) else None
        else:
            name = scene_layer.partition(", ")[2] or None
        index: int | None = None
        if name is not None:
            names = self.names
            if name in names:
                index = names.index(name)
            else:
                base = name.rpartition(", ")[0]  # multiview: ``Scene, ViewLayer, left``
                if base in names:
                    index = names.index(base)
        if len(self._field_index) < _MAX_CACHED_FIELDS:
            self._field_index[scene_layer] = index
        return index
