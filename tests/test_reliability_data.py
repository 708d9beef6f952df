"""Data integrity: a corrupted file in the cache is detected by its checksum and
fetched again, or reported clearly when offline. No real network: the mirrors are a
dictionary served by a stand-in for urllib."""

import gzip
import hashlib
import io
import urllib.error
import urllib.request

import numpy as np
import pytest

from digitnet.cli import main
from digitnet.data import mnist
from digitnet.data.idx import write_idx
from digitnet.errors import DataError

PARTS = {"train-images": "train-images-idx3-ubyte.gz", "train-labels": "train-labels-idx1-ubyte.gz",
         "t10k-images": "t10k-images-idx3-ubyte.gz", "t10k-labels": "t10k-labels-idx1-ubyte.gz"}


@pytest.fixture
def mirror(tiny_mnist, monkeypatch, tmp_path):
    """The tiny data set as the 'real' MNIST: its checksums replace the known ones,
    and urlopen serves its files, recording each URL asked for."""
    files = {name: (tiny_mnist / name).read_bytes() for name in PARTS.values()}
    sha = {part: hashlib.sha256(gzip.decompress(files[name])).hexdigest()
           for part, name in PARTS.items()}
    monkeypatch.setitem(mnist.DATASETS["mnist"], "sha256", sha)
    monkeypatch.delenv("DIGITNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    state = {"online": True, "asked": [], "serve": files}

    def urlopen(url, timeout=None):
        state["asked"].append(url.rsplit("/", 1)[1])
        if not state["online"]:
            raise urllib.error.URLError("network is unreachable")
        return io.BytesIO(state["serve"][url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return state


def corrupt(path, offset=-12):
    """Flip a byte of the compressed stream (not of the gzip header, which holds only
    the file name: the checksum is over the content)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_first_use_downloads_and_verifies(mirror):
    data = mnist.load("mnist")
    assert sorted(mirror["asked"]) == sorted(PARTS.values())
    assert len(data.train) == 500 and data.source == str(mnist.cache_dir("mnist"))


def test_a_corrupted_cached_file_is_detected_and_fetched_again(mirror):
    expected = mnist.load("mnist")
    cache = mnist.cache_dir("mnist")
    corrupt(cache / PARTS["train-images"])
    mirror["asked"].clear()
    data = mnist.load("mnist")
    assert mirror["asked"] == [PARTS["train-images"]]  # only the bad one
    np.testing.assert_array_equal(data.train.x, expected.train.x)
    assert not mnist.verify(mnist.locate("mnist", allow_download=False))


def test_a_corrupted_cached_file_offline_is_reported_clearly(mirror, capsys, tmp_path):
    mnist.load("mnist")
    cache = mnist.cache_dir("mnist")
    corrupt(cache / PARTS["t10k-labels"])
    mirror["online"] = False
    with pytest.raises(DataError, match="t10k-labels failed the SHA-256 check.*"
                                        "could not be downloaded.*unreachable"):
        mnist.load("mnist")
    code = main(["train", "--epochs", "1", "--out", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "corrupt" in err
    mirror["online"] = True  # back online: repaired on the next use
    assert len(mnist.load("mnist").test) == 100


def test_a_mirror_serving_bad_data_is_refused(mirror):
    mirror["serve"] = {**mirror["serve"], PARTS["train-labels"]: b"\x1f\x8b garbage"}
    with pytest.raises(DataError, match="checksum mismatch"):
        mnist.load("mnist")
    assert not (mnist.cache_dir("mnist") / PARTS["train-labels"]).exists()
    assert not [p for p in mnist.cache_dir("mnist").iterdir() if p.suffix == ".part"]


def test_an_endless_download_is_cut_off(mirror, monkeypatch):
    monkeypatch.setattr(mnist, "MAX_DOWNLOAD", 1000)
    with pytest.raises(DataError, match="more than 1,000 bytes"):
        mnist.load("mnist")


@pytest.mark.parametrize("images,labels,message", [
    (np.zeros((5, 28, 28), np.uint8), np.full(5, 10, np.uint8), "label 10 is not one"),
    (np.zeros((5, 28, 28), np.float32), np.zeros(5, np.uint8), "unsigned bytes"),
    (np.zeros((5, 14, 14), np.uint8), np.zeros(5, np.uint8), "28x28"),
    (np.zeros((5, 28, 28), np.uint8), np.zeros(4, np.uint8), "n labels"),
])
def test_data_files_that_are_not_mnist_are_refused(tmp_path, images, labels, message):
    for kind in ("train", "t10k"):
        write_idx(tmp_path / f"{kind}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{kind}-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=message):
        mnist.load("mnist", tmp_path)
