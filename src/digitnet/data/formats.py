"""Data sets in the layouts users already have, as ``mnist.Dataset`` splits.

- IDX files (MNIST, Fashion-MNIST, or any IDX images/labels of 28x28): ``mnist.load``;
- a CSV file as data-science sites publish MNIST: a header ``label,pixel0,...,pixel783``
  (or ``label,1x1,...``), then one image per row, pixel values 0-255;
- a folder with one sub-folder per class (the sub-folder's name is the class), holding
  images in any format, brought to MNIST's form by ``preprocess.to_mnist``.

A CSV file or a folder is split like MNIST's training file: the last sixth is the
validation split. ``test`` may name a second CSV file or folder for the test split;
without it the test split is empty.
"""

import csv
from pathlib import Path

import numpy as np

from ..errors import DataError, ImageError
from . import mnist

#: Documents read page by page (``frontend.decode.pages``; the ``pdf`` extra).
DOCUMENT_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic",
                  ".heif", ".avif"}


def _rows(path):
    """The CSV file's rows that hold anything, each with its line number: blank lines,
    such as those at the end of many files, are skipped wherever they are."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            return [(reader.line_num, row) for row in reader if any(v.strip() for v in row)]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: not a readable CSV file ({e})") from None


def _table(path, rows, lines):
    """The rows' values as a float64 table; a value that is no number, or is NaN or
    infinite (which float() accepts), is refused naming its line."""
    try:
        table = np.array(rows, dtype=np.float64)
    except ValueError:
        raise DataError(f"{path}: values must be numbers") from None
    finite = np.isfinite(table).all(axis=1)
    if not finite.all():
        raise DataError(f"{path}: line {lines[int(np.argmin(finite))]} holds a value that is not "
                        "a finite number (NaN or infinity)")
    return table


def read_csv(path, classes=None):
    """(x float32 (n, 784) in [0, 1], labels int64 (n,), class names) from a CSV file."""
    path = Path(path)
    numbered = _rows(path)
    if numbered and not numbered[0][1][0].strip().lstrip("-").isdigit():
        numbered = numbered[1:]  # the header
    if not numbered:
        raise DataError(f"{path}: no rows")
    lines, rows = zip(*numbered)
    if any(len(r) != 785 for r in rows):
        bad = next(i for i, r in enumerate(rows) if len(r) != 785)
        raise DataError(f"{path}: line {lines[bad]} has {len(rows[bad])} values; expected a label "
                        "and 784 pixels (label,pixel0,...,pixel783)")
    table = _table(path, rows, lines)
    raw_labels, pixels = table[:, 0], table[:, 1:]
    if pixels.min() < 0 or pixels.max() > 255 or np.any(raw_labels != np.round(raw_labels)):
        raise DataError(f"{path}: pixels must be 0-255 and labels whole numbers")
    names = classes or [str(c) for c in sorted({int(v) for v in raw_labels})]
    lookup = {name: i for i, name in enumerate(names)}
    try:
        labels = np.array([lookup[str(int(v))] for v in raw_labels], dtype=np.int64)
    except KeyError as e:
        raise DataError(f"{path}: label {e.args[0]} is not one of the classes {names}") from None
    return (pixels / 255.0).astype(np.float32), labels, names


def read_pixels_csv(path):
    """Rows of 784 pixels 0-255 (a leading label column, if present, is ignored):
    float32 (n, 784) in [0, 1], for prediction."""
    path = Path(path)
    numbered = _rows(path)
    if numbered and not numbered[0][1][0].strip().lstrip("-").replace(".", "", 1).isdigit():
        numbered = numbered[1:]
    if not numbered or any(len(r) not in (784, 785) for _, r in numbered):
        raise DataError(f"{path}: expected rows of 784 pixels (optionally after a label)")
    lines, rows = zip(*numbered)
    table = _table(path, [r[-784:] for r in rows], lines)
    if table.min() < 0 or table.max() > 255:
        raise DataError(f"{path}: pixels must be 0-255")
    return (table / 255.0).astype(np.float32)


def pixel_rows(path) -> np.ndarray | None:
    """The digits of a file that holds several in MNIST's form, as float32 rows (n, 784)
    in [0, 1]: a CSV file of pixels (``read_pixels_csv``) or a ``.npy`` stack, (N, 784) or
    (N, 28, 28). None for any other file (a picture; a ``.npy`` of one digit, 28x28 or 784
    numbers, is one input)."""
    from .images import is_stack, load_mnist_stack, npy_shape

    name = str(path).lower()
    if name.endswith(".csv"):
        return read_pixels_csv(path)
    shape = npy_shape(path) if name.endswith(".npy") else None
    return load_mnist_stack(path) if shape is not None and is_stack(shape) else None


def read_folder(path, classes=None):
    """(x, labels, class names) from a folder of class sub-folders of images."""
    from .preprocess import to_mnist

    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: no such folder")
    names = classes or sorted(p.name for p in path.iterdir() if p.is_dir())
    if len(names) < 2:
        raise DataError(f"{path}: expected one sub-folder per class (at least two)")
    x, labels = [], []
    for i, name in enumerate(names):
        folder = path / name
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) \
            if folder.is_dir() else []
        for file in files:
            try:
                x.append(to_mnist(file))
            except ImageError as e:  # which of the folder's images, even for a blank one
                message = str(e)
                raise ImageError(message if message.startswith(f"{file}:") else f"{file}: {message}") \
                    from None
            labels.append(i)
    if not x:
        raise DataError(f"{path}: no images in the class sub-folders")
    return np.stack(x), np.array(labels, dtype=np.int64), names


def _read(path, classes=None):
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return read_csv(path, classes)
    if path.is_dir():
        return read_folder(path, classes)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    raise DataError(f"{path}: expected a .csv file or a folder of class sub-folders")


def is_other_format(path, name="mnist"):
    """True when ``path`` is a CSV file or a folder of class folders, not IDX files
    (in it, or in its sub-folder ``name``, as in a folder holding mnist/ and
    fashion-mnist/)."""
    if path is None:
        return False
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() == ".csv"
    return (path.is_dir() and mnist._files_in(path) is None and mnist._files_in(path / name) is None
            and any(p.is_dir() for p in path.iterdir()))


def load(name="mnist", data=None, test=None, seed=0):
    """A ``mnist.Dataset`` from IDX files (``name``, ``data`` folder), a CSV file or a
    folder of class folders (``data``), with an optional separate ``test`` source."""
    if not is_other_format(data, name):
        return mnist.load(name, data)
    x, labels, classes = _read(data)
    if len(labels) < 6:
        raise DataError(f"{data}: too few examples to split ({len(labels)})")
    order = np.random.default_rng(seed).permutation(len(labels)) if Path(data).is_dir() \
        else np.arange(len(labels))
    x, labels = x[order], labels[order]
    n_train = len(labels) - len(labels) // 6
    if test is not None:
        tx, ty, _ = _read(test, classes)
    else:
        tx, ty = np.zeros((0, 784), np.float32), np.zeros(0, np.int64)
    return mnist.Dataset(name=Path(data).name, train=mnist.Split(x[:n_train], labels[:n_train]),
                         validation=mnist.Split(x[n_train:], labels[n_train:]),
                         test=mnist.Split(tx, ty), classes=classes, source=str(data))
