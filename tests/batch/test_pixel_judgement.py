"""How decoded pixels are judged (``pixel_checks.judge``), on float arrays as Blender's
``image.pixels.foreach_get`` fills them: the standard-library way Blender builds without numpy
take (Debian's); no Blender needed."""

from __future__ import annotations

import array

from renderplus.blender_scripts.pixel_checks import BLACK_LEVEL, BLACK_LEVEL_DITHERED, judge


def pixels(count: int, value: float, channels: int = 4) -> array.array[float]:
    return array.array("f", [value]) * (count * channels)


def test_every_nan_and_infinity_is_counted_wherever_it_is() -> None:
    values = pixels(200_000, 0.25)
    values[7] = float("nan")
    values[len(values) - 1] = float("-inf")
    values[4 * 100_000 + 2] = float("inf")
    assert judge(values, 4, "f.exr", black=False, nan=True) == "f.exr holds 3 NaN or infinite values"
    values[4 * 100_000 + 2] = 3.0e38   # large but finite
    assert judge(values, 4, "f.exr", black=False, nan=True) == "f.exr holds 2 NaN or infinite values"


def test_a_finite_frame_passes_and_nan_is_only_looked_for_when_asked() -> None:
    values = pixels(1000, 0.5)
    assert judge(values, 4, "f.exr", black=True, nan=True) is None
    values[0] = float("nan")
    assert judge(values, 4, "f.exr", black=False, nan=False) is None
    assert judge(values, 4, "f.exr", black=False, nan=True) == "f.exr holds 1 NaN or infinite value"


def test_black_ignores_alpha_and_counts_any_bright_value_in_any_block() -> None:
    values = pixels(300_000, 0.0)
    values[3::4] = array.array("f", [1.0]) * 300_000            # opaque alpha: still black
    assert judge(values, 4, "f.png", black=True, nan=False) == "f.png is uniformly black"
    values[4 * 299_999 + 1] = 0.5                                # one green pixel, last block
    assert judge(values, 4, "f.png", black=True, nan=False) is None


def test_black_levels_allow_blenders_dither_in_8_and_16_bit_files_only() -> None:
    dithered = pixels(100, 2 / 255, channels=3)
    assert judge(dithered, 3, "f.png", black=True, nan=False,
                 black_level=BLACK_LEVEL_DITHERED) == "f.png is uniformly black"
    assert judge(dithered, 3, "f.exr", black=True, nan=False, black_level=BLACK_LEVEL) is None


def test_grey_and_alpha_judges_the_grey_only() -> None:
    values = array.array("f", [0.0, 1.0]) * 100
    assert judge(values, 2, "f.png", black=True, nan=False) == "f.png is uniformly black"


def test_no_pixels_is_a_load_failure() -> None:
    assert judge(array.array("f"), 4, "f.exr", black=True, nan=True) == \
        "Blender could not read f.exr (it has no pixels)"
