import gzip
import shutil
import urllib.request

import numpy as np
import pytest

from digitnet.data import mnist
from digitnet.errors import DataError


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("DIGITNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_load_splits_a_small_file_five_sixths(tiny_mnist, clean_env):
    data = mnist.load("mnist", tiny_mnist)
    assert (len(data.train), len(data.validation), len(data.test)) == (500, 100, 100)
    assert data.train.x.shape == (500, 784) and data.train.x.dtype == np.float32
    assert 0.0 <= data.train.x.min() and data.train.x.max() <= 1.0
    assert data.train.y.dtype == np.int64
    assert data.classes == [str(d) for d in range(10)]


def test_standard_split_sizes():
    labels = np.zeros(60_000, np.int64)
    assert mnist.N_TRAIN == 50_000 and len(labels[mnist.N_TRAIN:]) == 10_000


def test_search_order_argument_then_environment(tiny_mnist, clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITNET_DATA", str(tmp_path / "missing"))
    assert mnist.locate("mnist", tiny_mnist)["train-images"].parent == tiny_mnist
    with pytest.raises(DataError, match="DIGITNET_DATA .*no such directory"):
        mnist.locate("mnist")
    monkeypatch.setenv("DIGITNET_DATA", str(tiny_mnist.parent))  # finds the mnist/ sub-folder
    assert mnist.locate("mnist")["t10k-labels"].parent == tiny_mnist


def test_uncompressed_and_dotted_names_are_found(tiny_mnist, clean_env, tmp_path):
    other = tmp_path / "raw"
    other.mkdir()
    for path in tiny_mnist.iterdir():
        name = path.name.removesuffix(".gz").replace("-idx", ".idx")
        with gzip.open(path) as src, open(other / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    assert len(mnist.load("mnist", other).test) == 100


def test_folder_without_files(tmp_path, clean_env):
    with pytest.raises(DataError, match="no mnist IDX files"):
        mnist.locate("mnist", tmp_path)


def test_offline_without_local_copy_says_how_to_point_at_files(clean_env, no_network):
    with pytest.raises(DataError, match="--data DIR or DIGITNET_DATA"):
        mnist.load("mnist")


def test_corrupt_cache_is_detected_and_refetched(clean_env, no_network, tiny_mnist):
    cache = mnist.cache_dir("mnist")
    cache.mkdir(parents=True)
    for path in tiny_mnist.iterdir():
        shutil.copy(path, cache / path.name)
    # the tiny files are not the real MNIST, so their checksums fail: the cache is
    # treated as corrupt and a download is attempted (and fails offline); the files
    # stay until a good copy replaces them (tests/test_reliability_data.py)
    with pytest.raises(DataError, match="is corrupt .* could not be downloaded"):
        mnist.locate("mnist")
    with pytest.raises(DataError, match="corrupt .*failed the SHA-256 check"):
        mnist.locate("mnist", allow_download=False)


def test_verify_uses_decompressed_content(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"whatever")
    assert mnist.verify({"t10k-labels": path}) == ["t10k-labels"]


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown data set"):
        mnist.locate("cifar")
