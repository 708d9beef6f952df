"""A cheap path for small clean scans: many small greyscale PNGs on even paper (such
as MNIST digits saved as pictures) prepared together instead of one at a time.

``data.preprocess.ink`` spends most of its time, on a 28x28 picture, in the Python
overhead of a dozen small NumPy steps. For a picture whose paper is one even level
all round its border and whose faint pixels are all next to strokes, those steps
reduce to: flip the polarity, subtract the paper, divide by the strongest ink, zero
what is fainter than ``NOISE``. That is done here for a whole chunk of same-sized
pictures at once, with the same float32 operations, so the result is ``ink``'s to
the last bit (tests/test_batch_clean.py checks it against ``to_mnist``); the rest of
the recipe is ``preprocess.fit_mnist`` itself. Any other picture, or any doubt,
goes the usual way (None here).
"""

from __future__ import annotations

import io

import numpy as np

from ..data.preprocess import NOISE, fit_mnist

#: Pictures up to this size on each side, and this many bytes, are tried here.
SMALL = 64
SMALL_BYTES = 1 << 16
#: A faint pixel whose 3x3 neighbourhood holds less ink than this might be a speck,
#: which ``ink`` would remove (below 0.45); the margin covers rounding.
SPECK_MARGIN = 0.5


def decode(data) -> np.ndarray | None:
    """The 8-bit grey pixels of a small greyscale PNG without EXIF (a path or bytes),
    or None for anything else."""
    from PIL import Image

    try:
        if isinstance(data, str):
            with open(data, "rb") as f:
                data = f.read(SMALL_BYTES + 1)
        if not isinstance(data, bytes) or len(data) > SMALL_BYTES or not data.startswith(b"\x89PNG"):
            return None
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if image.mode != "L" or max(image.size) > SMALL or _may_turn(image.info):
                return None
            return np.asarray(image)
    except Exception:  # noqa: BLE001  (any doubt: the usual way reports it)
        return None


def _may_turn(info):
    """Whether the PNG may carry an orientation (EXIF, XMP) that ``open_image`` applies."""
    return any("exif" in str(k).lower() or "xmp" in str(k).lower() for k in info)


def prepare_clean(pictures: list[np.ndarray | None]) -> list[np.ndarray | None]:
    """784 floats in MNIST's form for each picture (8-bit grey, same-sized ones
    together) that is a clean scan, None for the others (and for None)."""
    out: list[np.ndarray | None] = [None] * len(pictures)
    shapes: dict[tuple, list[int]] = {}
    for i, grey in enumerate(pictures):
        if grey is not None and grey.ndim == 2 and min(grey.shape) >= 3:
            shapes.setdefault(grey.shape, []).append(i)
    for where in shapes.values():
        values, clean = clean_ink(np.stack([pictures[i] for i in where]))  # type: ignore[misc]
        for k, i in enumerate(where):
            if clean[k]:
                out[i] = fit_mnist(values[k])
    return out


def clean_ink(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ink``'s values for a stack (N, H, W) of 8-bit grey pictures, and which of
    them are clean scans (for the others the values mean nothing)."""
    grey = grey.astype(np.float32) / 255.0  # (as ``ink``: float32 levels, then the same steps)
    border = np.concatenate([grey[:, 0], grey[:, -1], grey[:, :, 0], grey[:, :, -1]], axis=1)
    paper = border[:, 0]
    clean = (border == paper[:, None]).all(axis=1)  # one level all round: the median is that level
    dark = paper > 0.5
    values = np.where(dark[:, None, None], 1.0 - grey, grey)
    values -= values[:, :1, :1]  # the paper's level, subtracted as ``ink`` does
    peak = values.max(axis=(1, 2))
    clean &= peak >= 0.15  # a blank picture: ``to_mnist`` says so
    values /= np.where(clean, peak, 1.0).astype(np.float32)[:, None, None]
    values[values < NOISE] = 0.0
    weak = (values > 0) & (values < SPECK_MARGIN)
    padded = np.pad(values, ((0, 0), (1, 1), (1, 1)))
    h, w = values.shape[1:]
    near = sum(padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3))
    clean &= ~(weak & (near < SPECK_MARGIN)).any(axis=(1, 2))  # no speck that ``ink`` would remove
    return values, clean
