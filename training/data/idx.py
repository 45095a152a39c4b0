"""Read the IDX format of MNIST and EMNIST (optionally gzipped), without the `emnist` package.

The `emnist` package's own ``parse_idx`` breaks under NumPy 2, so we parse the
header ourselves: two zero bytes, a type code, the number of dimensions, then
one big-endian uint32 per dimension.
"""

from __future__ import annotations

import gzip
import struct
from typing import BinaryIO

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(stream: BinaryIO) -> np.ndarray:
    """Parse an uncompressed IDX stream into a numpy array."""
    zero, type_code, ndim = struct.unpack(">HBB", stream.read(4))
    if zero != 0 or type_code not in _TYPES:
        raise ValueError("not an IDX file")
    shape = struct.unpack(">" + "I" * ndim, stream.read(4 * ndim))
    data = np.frombuffer(stream.read(), dtype=_TYPES[type_code])
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX file is truncated: expected {shape}, got {data.size} values")
    return data.reshape(shape)


def read_idx(path_or_bytes) -> np.ndarray:
    """Read an IDX file from a path or from bytes, gunzipping it when it is gzipped."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        raw = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    import io

    return parse_idx(io.BytesIO(raw))
