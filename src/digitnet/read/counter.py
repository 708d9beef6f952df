"""How many digits a piece holds: a part of one, one, two, or more.

The counter, a small network, looks at a piece in a frame twice as wide as high
(``frame``), so that a piece of two touching digits looks like two digits whatever
its cuts. It learned from the pieces of numbers composed of training digits, many of
them touching as a pen makes them touch (``data.touching``; ``benchmarks/fit_counter.py``).
"""

from __future__ import annotations

import numpy as np

from ..data.preprocess import bounding_box
from .segment import Lattice, piece_ink

#: The frame a piece is shown in (rows, columns), and the box its ink is scaled into.
FRAME = (28, 56)
INNER = (24, 52)
#: The counter's classes: a part of a digit (or nothing), one digit, two, three or more.
PART, ONE, TWO, MORE = range(4)

_COUNTER: list = []


def frame(small, piece):
    """The piece's ink cropped, scaled to fit ``INNER`` (keeping its shape) and centred
    in a ``FRAME``: one row of FRAME[0] * FRAME[1] values in [0, 1]."""
    from PIL import Image

    values = piece_ink(small, piece)
    out = np.zeros(FRAME, np.float32)
    box = bounding_box(values)
    if box is None:
        return out.ravel()
    top, bottom, left, right = box
    crop = values[top:bottom, left:right].astype(np.float32)
    h, w = crop.shape
    scale = min(INNER[0] / h, INNER[1] / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    scaled = np.asarray(Image.fromarray(crop, "F").resize(size, Image.Resampling.BILINEAR))
    scaled = np.clip(scaled / max(float(scaled.max()), 1e-6), 0, 1)
    y, x = (FRAME[0] - size[1]) // 2, (FRAME[1] - size[0]) // 2
    out[y:y + size[1], x:x + size[0]] = scaled
    return out.ravel()


def shape(lat: Lattice, keys):
    """The piece's width and height relative to the writing's height: (n, 2)."""
    rows = []
    for key in keys:
        left, right, mask = lat.pieces[key]
        ink_rows = np.flatnonzero(mask.any(axis=1))
        rows.append([(right - left) / lat.height, (ink_rows[-1] + 1 - ink_rows[0]) / lat.height])
    return np.asarray(rows, np.float32)


def counter_input(frames, shapes):
    """What the counter takes: the frames, then the shapes."""
    return np.hstack([frames, shapes]).astype(np.float32)


def counter_model():
    """The shipped counter (models/count.npz), or None."""
    if not _COUNTER:
        from importlib import resources

        from ..io import load_model

        path = resources.files("digitnet") / "models" / "count.npz"
        _COUNTER.append(load_model(str(path)) if path.is_file() else None)
    return _COUNTER[0]


def log_count(lat: Lattice, keys):
    """log P(count) of each piece, (n, 4), or None without the shipped counter."""
    if counter_model() is None:
        return None
    frames = np.stack([frame(lat.small, lat.pieces[k]) for k in keys])
    return log_count_of(frames, shape(lat, keys))


def log_count_of(frames, shapes, model=None):
    """``log_count`` of pieces given their frames and shapes (by ``model``, default the
    shipped counter)."""
    p = (model or counter_model()).predict_proba(counter_input(frames, shapes))
    return np.log(p.astype(np.float64) + 1e-12)
