#!/usr/bin/env python3
"""A stand-in Blender for the add-on tests: ``--version`` and ``-E help`` answer as the version in
$FAKE_BLENDER_VERSION would (3.4 by default), and a render writes real tiny PNG frames and prints
Blender's "Saved:" lines; an output path containing "fail" fails with a long error message."""

import os
import struct
import sys
import time
import zlib

VERSION = os.environ.get("FAKE_BLENDER_VERSION", "3.4.1")
ENGINES = {"3": ["BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES"],
           "4": ["BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH", "CYCLES"],
           "5": ["BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES"]}
LONG_ERROR = ("Error: Python: Traceback: the camera override could not be applied because the object "
              "named 'Camera.001' is not in scene 'Scene' (cameras: 'Camera', 'Cam2'); the job script "
              "stopped before rendering any frame, see the log for the full output of Blender")


def png(path: str, size: int = 16) -> None:
    rows = b"".join(b"\0" + bytes((y * 16 % 256, 96, 200)) * size for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))


def main(argv: list[str]) -> int:
    if "--version" in argv:
        print(f"Blender {VERSION}\n\tbuild date: fake")
        return 0
    if "-E" in argv and argv[argv.index("-E") + 1] == "help":
        print("Blender Engine Listing:")
        for engine in ENGINES[VERSION[0]]:
            print(f"\t{engine}")
        return 0
    pattern = argv[argv.index("-o") + 1]
    if "fail" in pattern:
        print(LONG_ERROR, flush=True)
        return 1
    if "-f" in argv:
        frames = [int(argv[argv.index("-f") + 1])]
    else:
        frames = list(range(int(argv[argv.index("-s") + 1]), int(argv[argv.index("-e") + 1]) + 1))
    for frame in frames:
        print(f"Fra:{frame} Mem:12.55M (Peak 12.55M) | Time:00:00.10 | Remaining:00:00.20 | "
              f"Scene, ViewLayer | Sample 4/8", flush=True)
        time.sleep(0.2)
        hashes = pattern.count("#") or 4
        base = pattern.replace("#" * pattern.count("#"), "") if pattern.count("#") else pattern
        path = f"{base}{str(frame).zfill(hashes)}.png"
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)  # as Blender does
        png(path)
        print(f"Saved: '{path}'", flush=True)
        print(" Time: 00:00.05 (Saving: 00:00.00)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
