"""Is this stream a .blend? Decided from its first bytes while an upload is being copied.

A magic number alone lets garbage through, so a gzip upload is inflated (a few KiB of output,
chunk by chunk, never the whole file) until Blender's own ``BLENDER`` header shows. Python 3.11
has no zstd decoder and a compiled one would not load in every Blender, so a zstd upload gets its
frame header and first block header checked against RFC 8878 instead; what that cannot see (a
broken Huffman-coded payload) fails later, in the job, with Blender's own words.
"""

from __future__ import annotations

import zlib

from ..batch.preflight import BLEND_MAGIC, GZIP_MAGIC, ZSTD_MAGIC, blend_header_problem

PROBE_INPUT = 64 * 1024   # compressed bytes looked at, at most
GZIP_OUTPUT = 4 * 1024    # inflated bytes wanted from a gzip stream
ZSTD_HEAD = 64            # frame header (<= 18) + block header (3) + literals header + "BLENDER"
ZSTD_MAX_WINDOW_LOG = 31  # no zstd decoder accepts a larger window (RFC 8878 3.1.1.1.2)
ZSTD_MAX_BLOCK = 128 * 1024
NOT_A_BLEND = "a zstd file that does not hold a Blender file"


class BlendSignature:
    """Fed an upload's chunks in order; ``problem`` says what is wrong, ``decided`` when known.

    ``feed`` stops looking once the answer is known, so it is cheap to call on every chunk.
    """

    def __init__(self) -> None:
        self.decided = False
        self.problem: str | None = None
        self._head = b""
        self._inflater: zlib._Decompress | None = None
        self._inflated = b""
        self._fed = 0

    def feed(self, chunk: bytes) -> None:
        if self.decided:
            return
        part = chunk[:PROBE_INPUT - self._fed]
        self._fed += len(part)
        if self._inflater is not None:
            self._inflate(part)
        elif (held := len(self._head)) < ZSTD_HEAD and (self._head + part[:2]).startswith(GZIP_MAGIC):
            self._inflater = zlib.decompressobj(wbits=31)
            self._head += part[:ZSTD_HEAD - held]
            self._inflate(self._head[:held] + part)  # the bytes held back belong to the stream
        else:
            self._head += part[:max(0, ZSTD_HEAD - len(self._head))]
        if not self.decided and self._inflater is None and len(self._head) >= ZSTD_HEAD:
            self._decide(self._plain_or_zstd())
        if not self.decided and self._fed >= PROBE_INPUT:
            self.finish(ended=False)

    def finish(self, ended: bool = True) -> str | None:
        """The verdict once the stream has ended (or, ``ended=False``, the probe window is used up)."""
        if not self.decided:
            if self._head.startswith(GZIP_MAGIC):
                self._decide(self._gzip_verdict(ended))
            else:
                self._decide(self._plain_or_zstd())
        return self.problem

    def _decide(self, problem: str | None) -> None:
        self.decided, self.problem = True, problem

    def _plain_or_zstd(self) -> str | None:
        if self._head.startswith(ZSTD_MAGIC):
            return zstd_frame_problem(self._head)
        return blend_header_problem(self._head)

    def _inflate(self, part: bytes) -> None:
        assert self._inflater is not None
        try:
            self._inflated += self._inflater.decompress(part, GZIP_OUTPUT - len(self._inflated))
        except zlib.error as exc:
            self._decide(f"a gzip file that is not a valid gzip stream ({exc})")
            return
        if len(self._inflated) >= GZIP_OUTPUT or self._inflater.eof:
            self._decide(self._gzip_verdict(ended=False))

    def _gzip_verdict(self, ended: bool) -> str | None:
        if ended and self._inflater is not None and not self._inflater.eof:
            # Everything was inflated without reaching the stream's end: the file is cut.
            return "a gzip file cut short (its compressed stream does not end)"
        if not self._inflated.startswith(BLEND_MAGIC):
            return "a gzip file that does not hold a Blender file (no BLENDER header inside)"
        return None


def zstd_frame_problem(head: bytes) -> str | None:
    """None when ``head`` starts a plausible zstd frame whose content may begin ``BLENDER``.

    Checks the frame header descriptor, window, dictionary and content-size fields, then the first
    block's header; a raw block or raw literals show the content itself, which must be Blender's.
    """
    short = "a zstd file cut short in its frame header"
    if len(head) < 5:
        return short
    descriptor = head[4]
    if descriptor & 0x08:
        return "a zstd file with a malformed frame header (the reserved bit is set)"
    single_segment = bool(descriptor & 0x20)
    position = 5
    window = 0
    if not single_segment:
        if len(head) < 6:
            return short
        log = 10 + (head[5] >> 3)
        if log > ZSTD_MAX_WINDOW_LOG:
            return f"a zstd file with an impossible window (2^{log} bytes)"
        window = (1 << log) + ((1 << log) >> 3) * (head[5] & 7)
        position = 6
    dictionary_size = (0, 1, 2, 4)[descriptor & 3]
    content_size_size = ((1 if single_segment else 0), 2, 4, 8)[descriptor >> 6]
    end = position + dictionary_size + content_size_size
    if len(head) < end + 3:
        return short
    if int.from_bytes(head[position:position + dictionary_size], "little"):
        return "a zstd file that needs a dictionary (Blender writes none)"
    position += dictionary_size
    if content_size_size:
        content_size = int.from_bytes(head[position:end], "little") + (256 if content_size_size == 2 else 0)
        if content_size < len(BLEND_MAGIC):
            return f"a zstd file whose first frame holds only {content_size} bytes"
        if single_segment:
            window = content_size
    return _first_block_problem(head, end, min(window, ZSTD_MAX_BLOCK))


def _first_block_problem(head: bytes, position: int, max_block: int) -> str | None:
    block = int.from_bytes(head[position:position + 3], "little")
    kind, size = (block >> 1) & 3, block >> 3
    position += 3
    if kind == 3:
        return "a zstd file with a malformed block (reserved block type)"
    if size > max_block:
        return f"a zstd file with a malformed block ({size} bytes, more than the frame allows)"
    if kind == 1:  # RLE: one byte repeated
        return NOT_A_BLEND
    if kind == 0:
        return _content_problem(head[position:position + min(size, len(BLEND_MAGIC))])
    if size < 1 or len(head) <= position:
        return "a zstd file with an empty compressed block"
    literals = head[position]
    literals_kind = literals & 3
    if literals_kind == 1:  # RLE literals: the content would start with one byte repeated
        return NOT_A_BLEND
    if literals_kind == 3:
        return "a zstd file whose first block refers to a Huffman table that does not exist"
    if literals_kind == 0:  # raw literals: the content's first bytes are right here
        header_size = (1, 2, 1, 3)[(literals >> 2) & 3]
        start = position + header_size
        return _content_problem(head[start:start + len(BLEND_MAGIC)])
    return None  # Huffman-coded literals: nothing more to see without a decoder


def _content_problem(content: bytes) -> str | None:
    return None if content == BLEND_MAGIC else NOT_A_BLEND
