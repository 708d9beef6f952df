"""How many digits a piece holds, and which two when it holds two: reading touching
digits without cutting them apart.

Small networks look at a piece in a frame twice as wide as high (``frame``): the
counter says whether it is a part of a digit, one digit, two or more; the pair reader
(two networks: the left digit, the right digit) which of the 100 pairs it shows. They
learned from pieces of numbers composed of training digits, many of them touching as a pen makes them touch
(``data.touching``; ``benchmarks/fit_pairs.py``).
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

_MODELS: dict = {}


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


def model(name):
    """The shipped counter ("count") or pair reader's networks ("left", "right"), or None."""
    if name not in _MODELS:
        from importlib import resources

        from ..io import load_model

        path = resources.files("digitnet") / "models" / f"{name}.npz"
        _MODELS[name] = load_model(path) if path.is_file() else None
    return _MODELS[name]


def assess(lat: Lattice, keys):
    """(log P(count) of each piece (n, 4), the pair reader's probabilities (n, 100)),
    or None without the shipped networks."""
    if any(model(name) is None for name in ("count", "left", "right")):
        return None
    frames = np.stack([frame(lat.small, lat.pieces[k]) for k in keys])
    return assess_frames(frames, shape(lat, keys))


def assess_frames(frames, shapes):
    """``assess`` of pieces given their frames and shapes."""
    counts = model("count").predict_proba(counter_input(frames, shapes))
    # the pair reader reads the left digit and the right one, each by a network of its own
    left, right = (model(name).predict_proba(frames).astype(np.float64) for name in ("left", "right"))
    pairs = np.einsum("ni,nj->nij", left, right).reshape(len(frames), 100)
    return np.log(counts.astype(np.float64) + 1e-12), pairs
