"""A frame's pixels, decoded by Blender: can Blender read it, is it uniformly black, any NaNs?

Runs in the frame reader (``read_frames.py``, op ``check``) and on a farm node
(``check_frames.py``), never in the Blender that renders: loading images there crashed Blender
3.4 under parallel slots (docs/blender.md, Reading frames outside the rendering Blender). The
structure of the file is ``frame_checks.py``'s job; this one lets the very Blender that wrote
the frame decode it in full (``image.pixels.foreach_get``), which catches what structure alone
cannot: a JPEG's or a PIZ/DWA EXR's damaged compressed data.

What is looked at: every pixel of an ordinary image (all its channels for NaN/infinity; red,
green and blue for black, alpha ignored; "black" is at most 1e-6 in an EXR or HDR frame, at
most 3/255 in an 8- or 16-bit one, which Blender dithers by default). A multilayer EXR gives
Blender's Python no pixels of its own (its size reads 0x0, and Python cannot pick one of its
layers): a helper scene's compositor reads each view layer's Combined pass through an Image
node, and the result is saved as a float EXR and judged. A NaN in any layer names that layer;
black is reported only when every layer is black (one layer may be a black holdout). Other
passes (depth, normals, ...) are decoded by nothing here: their data is checked whole by
``frame_checks.py`` (ZIP, ZIPS, RLE, uncompressed).

Blender 4.x and 5.x bundle numpy and use it; Debian's Blender 3.4 has none, so the same
judgement is made on the raw float bytes with the standard library. Standard library and bpy
only (plus numpy when there).
"""

from __future__ import annotations

import array
import os
import shutil
import sys
import tempfile
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
import frame_checks

BLACK_LEVEL = 1e-6          # a float frame: every red, green and blue value at or below this
BLACK_LEVEL_DITHERED = 3 / 255   # 8/16-bit frames: Blender's dither (on by default) lifts black
BLOCK_PIXELS = 65536   # pixels judged at a time for black (a bright one ends the look)
SCENE_LINEAR = frozenset({"OPEN_EXR", "OPEN_EXR_MULTILAYER", "HDR"})   # written undithered
_EXPONENT_HIGH = bytes(1 if byte & 0x7F == 0x7F else 0 for byte in range(256))
_EXPONENT_LOW = bytes(1 if byte & 0x80 else 0 for byte in range(256))


def check_pixels(path: str, *, black: bool = False, nan: bool = False,
                 structure: bool = True) -> str | None:
    """None when Blender decodes ``path`` and (as asked) it is not uniformly black and holds
    no NaN or infinite value; else a short sentence naming the problem.

    ``structure``: read the file whole first (``frame_checks.check_file``) and never hand a
    broken one to Blender: 3.4 loops forever on an EXR cut short inside its header. Pass
    False only for a file just found whole."""
    import bpy

    name = os.path.basename(path)
    problem = frame_checks.check_file(path) if structure else None
    if problem is not None:
        return problem
    if not os.path.isfile(path):
        return f"{name} is missing"
    image: Any = bpy.data.images.load(path, check_existing=False)
    try:
        width, height = image.size
        if width and height:
            level = BLACK_LEVEL if image.file_format in SCENE_LINEAR else BLACK_LEVEL_DITHERED
            return judge(_pixels(image), image.channels, name, black=black, nan=nan,
                         black_level=level)
        if image.type != "MULTILAYER":
            return f"Blender could not read {name} (it has no pixels)"
        return _check_layers(image, path, black=black, nan=nan)
    finally:
        bpy.data.images.remove(image)


def _check_layers(image: Any, path: str, *, black: bool, nan: bool) -> str | None:
    """Each view layer's Combined pass of a multilayer EXR, as the compositor gives it: NaN in
    any names that layer; black only when every layer is (one layer may be a black holdout)."""
    name = os.path.basename(path)
    try:
        width, height, layers = frame_checks.exr_layers(path)
    except (OSError, ValueError) as exc:
        return f"Blender could not read {name} ({exc})"
    scratch = tempfile.mkdtemp(prefix="renderplus-check-")
    compositor = _Compositor(image, width, height)
    try:
        blacks, judged = 0, 0
        for layer in layers or [""]:
            flat = compositor.combined(layer, os.path.join(scratch, f"layer{judged}.exr"))
            if flat is None:
                continue   # not a layer Blender knows (a stray dotted channel name)
            try:
                what = f"{name} (view layer {layer!r})" if layer else name
                values = _pixels(flat)
                if not len(values):
                    return f"Blender could not read {what} (it has no pixels)"
                problem = judge(values, flat.channels, what, black=False, nan=nan)
                if problem is not None:
                    return problem
                judged += 1
                blacks += black and not _brightest_above(values, flat.channels, BLACK_LEVEL)
            finally:
                _remove(flat)
        if not judged:
            return f"Blender could not read {name} (no view layer of it could be composited)"
        if black and blacks == judged:
            every = f"in all {judged} of its view layers" if judged > 1 else "in its view layer"
            return f"{name} is uniformly black {every}"
        return None
    finally:
        compositor.close()
        shutil.rmtree(scratch, ignore_errors=True)


class _Compositor:
    """A helper scene whose compositor reads one layer of a multilayer image (an Image node)
    into its result, saved as a float EXR: Python cannot pick a layer of a multilayer image
    otherwise. The tree is ``scene.node_tree`` up to 4.x, a node group from 5.0."""

    def __init__(self, image: Any, width: int, height: int) -> None:
        import bpy

        scene: Any = bpy.data.scenes.new("Render+ check")
        self.scene = scene
        render = scene.render
        render.resolution_x, render.resolution_y, render.resolution_percentage = width, height, 100
        render.use_compositing = True
        render.dither_intensity = 0.0
        settings = render.image_settings
        settings.file_format = "OPEN_EXR"
        settings.color_mode = "RGBA"
        settings.color_depth = "32"
        settings.exr_codec = "NONE"
        self.camera = bpy.data.objects.new("Render+ check", bpy.data.cameras.new("Render+ check"))
        scene.collection.objects.link(self.camera)
        scene.camera = self.camera   # a render needs one, though nothing is rendered
        self.group: Any = None
        tree: Any
        if hasattr(scene, "compositing_node_group"):
            self.group = tree = bpy.data.node_groups.new("Render+ check", "CompositorNodeTree")
            scene.compositing_node_group = tree
            tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
            output = tree.nodes.new("NodeGroupOutput")
        else:
            scene.use_nodes = True
            tree = scene.node_tree
            for node in list(tree.nodes):
                tree.nodes.remove(node)
            output = tree.nodes.new("CompositorNodeComposite")
        self.reader: Any = tree.nodes.new("CompositorNodeImage")
        self.reader.image = image
        tree.links.new(self.reader.outputs[0], output.inputs[0])

    def combined(self, layer: str, target: str) -> Any:
        """Layer ``layer``'s first output (Combined) composited, saved and loaded; None when
        Blender has no such layer."""
        import bpy

        if layer:
            try:
                self.reader.layer = layer
            except TypeError:
                return None
        try:
            bpy.ops.render.render(scene=self.scene.name)
        except RuntimeError:   # the compositor refused it: said as "could not be composited"
            return None
        result = bpy.data.images.get("Render Result")
        if result is None:
            return None
        try:
            result.save_render(target, scene=self.scene)
        except RuntimeError:
            return None
        return bpy.data.images.load(target, check_existing=False) if os.path.isfile(target) \
            else None

    def close(self) -> None:
        import bpy

        bpy.data.scenes.remove(self.scene)
        bpy.data.objects.remove(self.camera)
        if self.group is not None:
            bpy.data.node_groups.remove(self.group)


def _remove(image: Any) -> None:
    import bpy

    bpy.data.images.remove(image)


def judge(values: Any, channels: int, what: str, *, black: bool, nan: bool,
          black_level: float = BLACK_LEVEL) -> str | None:
    """The sentence for decoded float pixels (numpy array or ``array('f')``), or None."""
    count = len(values)
    if not count:
        return f"Blender could not read {what} (it has no pixels)"
    if nan:
        bad = _not_finite(values)
        if bad:
            return f"{what} holds {bad:,} NaN or infinite value{'s' if bad != 1 else ''}"
    if black and not _brightest_above(values, channels, black_level):
        return f"{what} is uniformly black"
    return None


def _pixels(image: Any) -> Any:
    """Every float of the image, decoded in full (numpy when Blender bundles it)."""
    count = len(image.pixels)
    try:
        import numpy
    except ImportError:
        values: Any = array.array("f", bytes(4 * count))
    else:
        values = numpy.empty(count, dtype=numpy.float32)
    image.pixels.foreach_get(values)
    return values


def _not_finite(values: Any) -> int:
    """How many values are NaN or infinite (their exponent bits all ones)."""
    if not isinstance(values, array.array):
        import numpy
        return int(values.size - numpy.count_nonzero(numpy.isfinite(values)))
    raw = values.tobytes()
    little = array.array("f", [1.0]).tobytes()[3] == 0x3F
    high, low = (raw[3::4], raw[2::4]) if little else (raw[0::4], raw[1::4])
    candidates = high.translate(_EXPONENT_HIGH)
    if b"\1" not in candidates:   # the common case: no value of 2**127 or more, nor NaN
        return 0
    both = int.from_bytes(candidates, "little") & int.from_bytes(low.translate(_EXPONENT_LOW),
                                                                 "little")
    return bin(both).count("1")


def _brightest_above(values: Any, channels: int, level: float) -> bool:
    """Is any red, green or blue value above ``level``? Looked at a block at a time, so a frame
    that is not black answers in its first block (most do)."""
    colour = min(channels, 3) if channels != 2 else 1   # grey+alpha: the grey only
    if not isinstance(values, array.array):
        return bool((values.reshape(-1, channels)[:, :colour] > level).any())
    block = BLOCK_PIXELS * channels
    for start in range(0, len(values), block):
        part = values[start:start + block]
        if any(max(part[channel::channels]) > level for channel in range(colour)):
            return True
    return False
