"""Gzip bombs built in a blink: gigabytes of one letter that compress to a few megabytes.

Deflate with a full flush after each block forgets its history, so every 1 MiB block of the same
byte compresses to the same bytes: the bomb is one compressed block repeated, never the data itself.
The gzip trailer (CRC and size) is left wrong on purpose: a reader that respects its cap stops long
before it; one that read to the end would answer 400 (corrupt gzip), not the 413 a test expects.
"""

from __future__ import annotations

import zlib

MiB = 1024 * 1024


def gzip_bomb(uncompressed_mib: int, *, line: bytes | None = None, fill: bytes = b"a", prefix: bytes = b"") -> bytes:
    """gzip of about `uncompressed_mib` MiB of `fill` repeated (`line` ending each 1 MiB block, if given)."""
    end = line or b""
    block = fill * ((MiB - len(end)) // len(fill)) + end
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip header
    first = c.compress(prefix + block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush(zlib.Z_FINISH)  # final empty block + trailer for two blocks: wrong for the whole, as said
    return first + again * (uncompressed_mib - 1) + end
