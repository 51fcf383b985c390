"""What checking a written frame whole costs: a 1080p PNG and 1080p multilayer EXRs.

Blender 3.4 renders the default cube once at 1920x1080 (Cycles, 1 sample: noisy, so the files
compress like real renders) with two view layers and 11 passes in all (30 channels), and saves
it as an 8-bit PNG and as multilayer EXRs (ZIP, half and full float; PIZ half). Then, each
``--count`` times:

- the structural check, ``frame_checks.check_file``, in this Python (Render+'s own): every PNG
  chunk's CRC and the inflated image data; every EXR chunk inflated (ZIP) or placed (PIZ);
- the pixel check, the frame reader's ``check`` op (``pixel_checks.py``) in a helper Blender,
  black and NaN asked (a multilayer EXR: each view layer's Combined pass, through the
  compositor), timed from the request to its answer (its own structural check skipped,
  as the engine asks once it has run the first one).

Prints the medians (and p90) in milliseconds; ``--record`` writes them to RESULTS.md.

    .venv/bin/python -m bench.bench_frame_check [--count 7] [--record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch.frame_reader import FrameReader  # noqa: E402
from renderplus.blender_scripts.frame_checks import check_file  # noqa: E402
from tests.batch.frame_fixtures import write_frames  # noqa: E402
from tests.blendfiles import BLENDER  # noqa: E402

FRAMES = {  # name: (what it is, Blender's file format, image settings)
    "frame.png": ("PNG, 8-bit RGBA", "PNG", {"color_mode": "RGBA", "color_depth": "8"}),
    "multilayer_half.exr": ("multilayer EXR, ZIP, half", "OPEN_EXR_MULTILAYER",
                            {"exr_codec": "ZIP", "color_depth": "16"}),
    "multilayer_float.exr": ("multilayer EXR, ZIP, float", "OPEN_EXR_MULTILAYER",
                             {"exr_codec": "ZIP", "color_depth": "32"}),
    "multilayer_piz.exr": ("multilayer EXR, PIZ, half", "OPEN_EXR_MULTILAYER",
                           {"exr_codec": "PIZ", "color_depth": "16"}),
}


def timed(action: object, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=7)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    blender_version = subprocess.run([BLENDER, "--version"], capture_output=True,
                                     text=True).stdout.split("\n")[0].strip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rp-bench-check-") as folder:
        started = time.perf_counter()
        write_frames(Path(folder), size=(1920, 1080), bad=False,
                     formats={name: (fmt, settings) for name, (_, fmt, settings) in FRAMES.items()})
        print(f"frames written in {time.perf_counter() - started:.1f} s", flush=True)
        reader = FrameReader(BLENDER)
        try:
            for name, (what, _fmt, _settings) in FRAMES.items():
                path = os.path.join(folder, name)
                assert check_file(path) is None, check_file(path)
                structure = timed(lambda path=path: check_file(path), args.count)

                def pixels(path: str = path) -> None:
                    answer = reader.request("check", frame=path, black=True, nan=True,
                                            structure=False)
                    assert answer["ok"] and answer["problem"] is None, answer

                pixels()   # the reader's start and its first load, apart
                decode = timed(pixels, args.count)
                rows.append(f"| {what} | {os.path.getsize(path) / 1e6:.1f} MB "
                            f"| **{statistics.median(structure):.0f}** | {p90(structure):.0f} "
                            f"| **{statistics.median(decode):.0f}** | {p90(decode):.0f} |")
                print(rows[-1], flush=True)
        finally:
            reader.close()
    load = os.getloadavg()[0]
    lines = [f"1920x1080 frames Blender ({blender_version}) wrote: the default cube, Cycles 1 "
             "sample, two view layers, 11 passes (30 channels) in the multilayer EXRs; "
             f"{args.count} runs each, milliseconds; load average at the end: {load:.2f} "
             "(2 shared cores).",
             "",
             "| frame | size | structure (Render+'s Python): median | p90 "
             "| pixels (the reader's check op): median | p90 |",
             "|---|---:|---:|---:|---:|---:|",
             *rows,
             "",
             "Structure: `frame_checks.check_file` (PNG: every chunk's CRC and the image data "
             "inflated; ZIP EXR: every chunk inflated and its size compared; PIZ EXR: every "
             "chunk's place and size only). Pixels: the frame decoded by Blender, black and "
             "NaN judged (a multilayer EXR: each of its 3 view layers' Combined pass "
             "composited by a helper scene, saved as a float EXR and loaded), timed from "
             "request to answer."]
    print("\n".join(lines))
    if args.record:
        record("Checking a frame whole (bench/bench_frame_check.py)", lines)


if __name__ == "__main__":
    main()
