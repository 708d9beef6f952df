"""Find, fetch, verify and load MNIST-style data sets.

Where the files are looked for, in order:

1. the ``data_dir`` argument (the CLI's ``--data DIR``);
2. the ``DIGITNET_DATA`` environment variable;
3. the user cache directory (``$XDG_CACHE_HOME/digitnet/<name>``, by default
   ``~/.cache/digitnet/<name>``);
4. a download from the usual public mirrors into that cache, verified by the
   SHA-256 of the decompressed content.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .idx import read_idx

PARTS = ("train-images", "train-labels", "t10k-images", "t10k-labels")
_SUFFIX = {"train-images": "idx3-ubyte", "train-labels": "idx1-ubyte",
           "t10k-images": "idx3-ubyte", "t10k-labels": "idx1-ubyte"}

DATASETS: dict[str, dict[str, Any]] = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        "sha256": {
            "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        "classes": [str(d) for d in range(10)],
    },
    "fashion-mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "sha256": {
            "train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        "classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                    "Shirt", "Sneaker", "Bag", "Ankle boot"],
    },
}

#: ``--dataset idx``: any IDX files of 28x28 images named like MNIST's, classes 0 to N-1.
GENERIC = "idx"

#: Images of the training file used for training; the rest (10,000) is validation.
N_TRAIN = 50_000
#: A download larger than this is not a data file we know (MNIST's largest is 10 MB).
MAX_DOWNLOAD = 100 << 20


@dataclass
class Split:
    """Images as float32 rows in [0, 1] of shape (n, 784), labels as int64 (n,)."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self):
        return len(self.y)


@dataclass
class Dataset:
    name: str
    train: Split
    validation: Split
    test: Split
    classes: list
    source: str


def cache_dir(name="mnist"):
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digitnet" / name


def _find(directory, part):
    """The file for ``part`` in ``directory`` under any of its usual names."""
    suffix = _SUFFIX[part]
    for stem in (f"{part}-{suffix}", f"{part}.{suffix}"):
        for ext in (".gz", ""):
            path = Path(directory) / (stem + ext)
            if path.is_file():
                return path
    return None


def _files_in(directory):
    found = {part: _find(directory, part) for part in PARTS}
    return found if all(found.values()) else None


def _sha256_of_content(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(files, name="mnist"):
    """Return the parts whose decompressed content does not match the known SHA-256."""
    expected = DATASETS[name]["sha256"]
    bad = []
    for part, path in files.items():
        try:
            if _sha256_of_content(path) != expected[part]:
                bad.append(part)
        except (OSError, EOFError, zlib.error):
            bad.append(part)
    return bad


def _fetch(url, out, timeout):
    import urllib.request  # here, not at the top: it imports ssl and http.client, which only a download needs

    with urllib.request.urlopen(url, timeout=timeout) as response:
        size = 0
        while chunk := response.read(1 << 20):
            size += len(chunk)
            if size > MAX_DOWNLOAD:
                raise DataError(f"more than {MAX_DOWNLOAD:,} bytes: not the file expected")
            out.write(chunk)


def download(name="mnist", directory=None, timeout=30, why="is not on this machine"):
    """Fetch the four files into ``directory`` (the cache by default), verifying each
    by the SHA-256 of its decompressed content; a file already there that passes the
    check is kept, one that fails it is replaced. Returns the directory."""
    import http.client

    spec = DATASETS[name]
    directory = Path(directory or cache_dir(name))
    directory.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        target = directory / f"{part}-{_SUFFIX[part]}.gz"
        if target.is_file() and not verify({part: target}, name):
            continue
        errors = []
        for mirror in spec["mirrors"]:
            url = mirror + target.name
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    _fetch(url, out, timeout)
                if verify({part: Path(tmp)}, name):
                    raise DataError("checksum mismatch")
                os.replace(tmp, target)
                break
            except (OSError, DataError, ValueError, http.client.HTTPException) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            raise DataError(
                f"{name} {why} and could not be downloaded "
                f"({errors[-1]}); point digitnet at a folder holding the four IDX files "
                f"with --data DIR or DIGITNET_DATA=DIR")
    return directory


def locate(name="mnist", data_dir=None, allow_download=True):
    """Find the folder holding the data set's four files (see the module docstring)."""
    if name not in DATASETS and name != GENERIC:
        raise DataError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}, {GENERIC}")
    for origin, directory in (("--data", data_dir), ("DIGITNET_DATA", os.environ.get("DIGITNET_DATA"))):
        if directory:
            directory = Path(directory)
            if directory.exists() and not directory.is_dir():
                raise DataError(f"{origin} {directory}: is a file, not a folder of IDX files "
                                f"(a CSV file must be named .csv, uncompressed)")
            if not directory.is_dir():
                raise DataError(f"{origin} {directory}: no such directory")
            if (files := _files_in(directory)) or (files := _files_in(directory / name)):
                return files
            raise DataError(f"{origin} {directory}: no {name} IDX files there "
                            f"(expected {', '.join(f'{p}-{_SUFFIX[p]}.gz' for p in PARTS)})")
    if name == GENERIC:
        raise DataError("--dataset idx reads your own IDX files: pass --data DIR")
    cached = _files_in(cache_dir(name))
    bad = verify(cached, name) if cached else []
    if cached and not bad:
        return cached
    if bad and not allow_download:
        raise DataError(f"cached {name} files are corrupt ({', '.join(bad)} failed the "
                        f"SHA-256 check) in {cache_dir(name)}; delete them or pass --data DIR")
    if not allow_download:
        raise DataError(f"{name} not found; pass --data DIR or set DIGITNET_DATA=DIR")
    why = (f"is corrupt in {cache_dir(name)} ({', '.join(bad)} failed the SHA-256 check)"
           if bad else "is not on this machine")
    return _files_in(download(name, why=why))


def load(name: str = "mnist", data_dir: str | os.PathLike | None = None,
         allow_download: bool = True, n_train: int | None = None) -> Dataset:
    """Load a data set split as training (first ``n_train`` of the training file),
    validation (the rest of it) and test (the t10k files).

    ``n_train`` defaults to 50,000 for the full 60,000-image file (the standard
    split), and to five sixths of a smaller file."""
    files = locate(name, data_dir, allow_download)
    if name != GENERIC:
        _check_not_another(files, name)
    arrays = {part: read_idx(path) for part, path in files.items()}
    if name == GENERIC:  # classes are the labels found, 0 to the largest
        largest = max(int(arrays[f"{k}-labels"].max(initial=0)) for k in ("train", "t10k"))
        classes = [str(c) for c in range(largest + 1)]
    else:
        classes = DATASETS[name]["classes"]
    n_classes = len(classes)
    for kind in ("train", "t10k"):
        images, labels = arrays[f"{kind}-images"], arrays[f"{kind}-labels"]
        if images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{files[f'{kind}-images']}: expected 28x28 images (n, 28, 28) "
                            f"and n labels, got {images.shape} and {labels.shape}")
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise DataError(f"{files[f'{kind}-images']}: expected unsigned bytes (IDX type "
                            f"0x08), got images {images.dtype} and labels {labels.dtype}")
        if kind == "train" and not len(images):
            raise DataError(f"{files['train-images']}: holds no images")
        if labels.size and labels.max() >= n_classes:
            raise DataError(f"{files[f'{kind}-labels']}: label {labels.max()} is not one of "
                            f"the {n_classes} classes of {name}")
    train_x = to_float(arrays["train-images"])
    train_y = arrays["train-labels"].astype(np.int64)
    if n_train is None:
        n_train = N_TRAIN if len(train_y) == 60_000 else len(train_y) - len(train_y) // 6
    if not 0 < n_train < len(train_y):
        raise DataError(f"cannot split {len(train_y)} training images at {n_train}")
    return Dataset(
        name=name,
        train=Split(train_x[:n_train], train_y[:n_train]),
        validation=Split(train_x[n_train:], train_y[n_train:]),
        test=Split(to_float(arrays["t10k-images"]), arrays["t10k-labels"].astype(np.int64)),
        classes=classes,
        source=str(Path(files["train-images"]).parent),
    )


def _check_not_another(files, name):
    """MNIST and Fashion-MNIST share their file names: refuse one for the other
    (the labels file is small, so its checksum costs nothing)."""
    try:
        digest = _sha256_of_content(files["train-labels"])
    except (OSError, EOFError, gzip.BadGzipFile):
        return  # read_idx explains what is wrong with the file
    for other, spec in DATASETS.items():
        if other != name and spec["sha256"]["train-labels"] == digest:
            raise DataError(f"{Path(files['train-labels']).parent} holds {other}, not {name}; "
                            f"point --data at the {name} files")


def to_float(images, dtype=np.float32):
    """uint8 images (n, 28, 28) -> rows (n, 784) of floats in [0, 1]."""
    out = images.reshape(len(images), math.prod(images.shape[1:])).astype(dtype)
    out *= 1.0 / 255.0
    return out
