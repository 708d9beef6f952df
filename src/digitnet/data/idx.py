"""The IDX file format of MNIST: a big-endian header, then raw values.

    magic: 0x00 0x00 <type code> <number of dimensions>
    dims:  one big-endian uint32 per dimension
    data:  prod(dims) values of the given type, big-endian
"""

import gzip
import math
import os
import struct
import zlib

import numpy as np

from ..errors import DataError

_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {v.newbyteorder(">") if v.itemsize > 1 else v: k for k, v in _TYPES.items()}

#: Refuse to allocate more than this for one file (MNIST's largest is 47 MB).
MAX_BYTES = 2 << 30
#: Data is read in pieces of this size, so that memory grows only with what is really
#: in the file, never with what a (possibly lying) header claims.
CHUNK = 1 << 24


def _open(path):
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def read_idx(path, max_bytes=MAX_BYTES):
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    The header is validated before anything is allocated: magic number, type code,
    and that the dimensions describe exactly the bytes that follow.

    Raises
    ------
    DataError
        If the file is missing, truncated, too long, or not an IDX file.
    """
    name = os.fspath(path)
    try:
        with _open(path) as f:
            header = f.read(4)
            if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] not in _TYPES:
                raise DataError(f"{name}: not an IDX file (bad magic number)")
            dtype, ndim = _TYPES[header[2]], header[3]
            if ndim == 0:
                raise DataError(f"{name}: IDX header declares no dimensions")
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{name}: truncated IDX header")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            # Python integers: NumPy's int64 product would silently wrap around for
            # dimensions such as (2**31, 2**31, 4) and let a lying header through.
            expected = math.prod(dims) * dtype.itemsize
            if max(expected, math.prod(max(d, 1) for d in dims)) > max_bytes:
                raise DataError(f"{name}: IDX header claims {dims} items "
                                f"({expected:,} bytes), more than the limit of {max_bytes:,}")
            data = _read_at_most(f, expected)
            if len(data) != expected:
                raise DataError(f"{name}: truncated: header promises {expected:,} bytes "
                                f"of data, file has {len(data):,}")
            if f.read(1):
                raise DataError(f"{name}: longer than its IDX header says")
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a directory, not an IDX file") from None
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{name}: cannot read (corrupt or truncated?): {e}") from None
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_at_most(f, size):
    chunks = []
    while size > 0:
        chunk = f.read(min(size, CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_idx(path, array):
    """Write an array as an IDX file (gzip-compressed if the name ends in .gz)."""
    array = np.asarray(array)
    big = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if big not in _CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, _CODES[big], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(big, copy=False).tobytes()
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
