"""The movie formats ``encode`` makes, each declared once: its file, its encoder, its arguments.

The encoder is FFmpeg (README, Movies: why), called with these arguments by the script that
runs inside Blender after the frames (``blender_scripts/encode_movie.py``), so a farm node
encodes exactly as this machine does. Colours: the frames reach FFmpeg display-referred (sRGB),
and every YUV format is converted and tagged as BT.709 (FFmpeg's default matrix would be
BT.601, which players read as a colour shift on HD video). H.264 and VP9 need even sizes: an odd
width or height gets one line of padding, never a scaled picture.
"""

from __future__ import annotations

from dataclasses import dataclass

BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
TO_BT709 = "scale=out_color_matrix=bt709:out_range=tv"
EVEN = "pad=ceil(iw/2)*2:ceil(ih/2)*2"


@dataclass(frozen=True)
class MovieFormat:
    """One value of ``encode.format``."""

    name: str
    label: str                 # what a person reads: "H.264 MP4"
    extension: str
    media_type: str            # its Content-Type (the server's route, the feed's enclosure)
    encoder: str               # the FFmpeg encoder it needs (``ffmpeg -encoders``)
    video: tuple[str, ...]     # FFmpeg's output options for the picture
    audio_encoder: str
    audio: tuple[str, ...]     # ... and for the sound

    def ffmpeg_options(self) -> dict[str, list[str]]:
        """What the script in Blender is given (data: the table stays here)."""
        return {"video": list(self.video), "audio": list(self.audio)}


FORMATS: dict[str, MovieFormat] = {f.name: f for f in (
    MovieFormat("h264", "H.264 MP4", ".mp4", "video/mp4", "libx264",
                ("-vf", f"{EVEN},{TO_BT709},format=yuv420p", "-c:v", "libx264", "-preset", "medium",
                 "-crf", "18", *BT709, "-movflags", "+faststart"),
                "aac", ("-c:a", "aac", "-b:a", "192k")),
    MovieFormat("prores", "ProRes 422 HQ MOV", ".mov", "video/quicktime", "prores_ks",
                ("-vf", f"{TO_BT709},format=yuv422p10le", "-c:v", "prores_ks", "-profile:v", "3",
                 "-vendor", "apl0", *BT709),
                "pcm_s16le", ("-c:a", "pcm_s16le")),
    MovieFormat("ffv1", "FFV1 MKV (lossless)", ".mkv", "video/x-matroska", "ffv1",
                ("-c:v", "ffv1", "-level", "3", "-g", "1", "-slicecrc", "1"),
                "flac", ("-c:a", "flac")),
    MovieFormat("webm", "VP9 WebM", ".webm", "video/webm", "libvpx-vp9",
                ("-vf", f"{EVEN},{TO_BT709},format=yuv420p", "-c:v", "libvpx-vp9", "-crf", "30",
                 "-b:v", "0", "-row-mt", "1", *BT709),
                "libopus", ("-c:a", "libopus", "-b:a", "128k")),
)}

FORMAT_NAMES = tuple(FORMATS)
MOVIE_EXTENSIONS = frozenset(f.extension for f in FORMATS.values())
MEDIA_TYPES = {f.extension: f.media_type for f in FORMATS.values()}   # by extension


def media_type(path: str) -> str:
    """The Content-Type of a movie file, by its extension (what a browser decodes it as)."""
    import os
    return MEDIA_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
