import gzip
import struct

import numpy as np
import pytest

from digitnet.data.idx import read_idx, write_idx
from digitnet.errors import DataError


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path, name, dtype):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian(tmp_path):
    write_idx(tmp_path / "l", np.array([7, 2], dtype=np.uint8))
    assert (tmp_path / "l").read_bytes() == b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x02"


def write_raw(path, payload, gz=False):
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)
    return path


@pytest.mark.parametrize("payload,message", [
    (b"", "bad magic"),
    (b"PK\x03\x04rest", "bad magic"),
    (b"\x00\x00\x42\x01\x00\x00\x00\x01x", "bad magic"),            # unknown type code
    (b"\x00\x00\x08\x00", "no dimensions"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "longer than"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_bad_files_raise_data_error(tmp_path, payload, message, gz):
    path = write_raw(tmp_path / "bad", payload, gz)
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_header_claiming_billions_is_refused_before_allocating(tmp_path):
    payload = b"\x00\x00\x08\x03" + struct.pack(">3I", 4_000_000_000, 28, 28)
    with pytest.raises(DataError, match="more than the limit"):
        read_idx(write_raw(tmp_path / "huge", payload))


def test_corrupt_gzip_stream(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x04abcd")
    path = write_raw(tmp_path / "x.gz", good[:-6])
    with pytest.raises(DataError):
        read_idx(path)


def test_missing_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nope")
    with pytest.raises(DataError, match="directory"):
        read_idx(tmp_path)
