"""How many digits a piece holds (a part of one, one, two, or more), and which two when
it holds two: reading touching digits without cutting them apart.

The pair reader, a small CNN, looks at a piece in a frame twice as wide as high
(``frame``), so that a piece of two touching digits looks like two digits whatever its
cuts. It has three heads: the count, the left digit and the right digit of a piece of
two. It learned from the pieces of numbers composed of training digits, many of them
touching as a pen makes them touch (``data.touching``; ``benchmarks/fit_pairs.py``).
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
#: The pair reader's outputs (logits): the count, the left digit, the right digit.
HEADS = (slice(0, 4), slice(4, 14), slice(14, 24))

_COUNTER: list = []


def frame(small, piece, height):
    """The piece's ink cropped, scaled so that the writing's ``height`` fills ``INNER``'s
    height (less, to fit a wide piece into ``INNER``; keeping its shape) and centred in a
    ``FRAME``: one row of FRAME[0] * FRAME[1] values in [0, 1]. Its size in the frame
    shows how wide and high it is against the writing (a wide 7 is not two digits)."""
    return ink_frame(piece_ink(small, piece), height)


def ink_frame(values, height):
    """``frame`` of a piece's ink (``segment.piece_ink``)."""
    from PIL import Image

    out = np.zeros(FRAME, np.float32)
    box = bounding_box(values)
    if box is None:
        return out.ravel()
    top, bottom, left, right = box
    crop = values[top:bottom, left:right].astype(np.float32)
    h, w = crop.shape
    scale = min(INNER[0] / max(height, h), INNER[1] / w)
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


def counter_model():
    """The shipped pair reader (models/count.npz), or None."""
    if not _COUNTER:
        from importlib import resources

        from ..io import load_model

        path = resources.files("digitnet") / "models" / "count.npz"
        _COUNTER.append(load_model(str(path)) if path.is_file() else None)
    return _COUNTER[0]


def assess(lat: Lattice, keys):
    """(log P(count) (n, 4), P(pair) (n, 100): P(two digits, the left a, the right b)
    at 10 a + b) of each piece, or None without the shipped pair reader."""
    if counter_model() is None:
        return None
    return assess_frames(np.stack([frame(lat.small, lat.pieces[k], lat.height) for k in keys]))


def assess_frames(frames, model=None):
    """``assess`` of pieces given their frames (by ``model``, default the shipped one)."""
    z = (model or counter_model()).predict_proba(np.asarray(frames, np.float32)).astype(np.float64)
    count, left, right = (_log_softmax(z[:, head]) for head in HEADS)
    pair = np.exp(count[:, TWO, None, None] + left[:, :, None] + right[:, None, :])
    return count, pair.reshape(len(z), 100)


def several(log_count) -> np.ndarray:
    """P(two digits or more) of each piece, from its log P(count) (``assess``; (n, 4), or
    one piece's (4,))."""
    return np.exp(np.asarray(log_count)[..., TWO:]).sum(axis=-1)


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def pair_reader(rng=None):
    """A new pair reader: a small CNN on a piece's frame with the three ``HEADS`` (two
    3x3 convolutions of 16 and 32 channels, each followed by a 2x2 pool, then 128 hidden
    neurons). Its output activation is the identity: ``predict_proba`` gives the logits,
    ``assess`` turns each head into probabilities."""
    from ..nn import layers as L
    from ..nn import losses
    from ..nn.conv import Conv2D, Flatten, MaxPool2D, Reshape
    from ..nn.network import Network

    rng = np.random.default_rng(0) if rng is None else rng
    layers = [Reshape((1, *FRAME)), Conv2D(1, 16, 3, 1, 1, "he", rng), L.ReLU(), MaxPool2D(2),
              Conv2D(16, 32, 3, 1, 1, "he", rng), L.ReLU(), MaxPool2D(2), Flatten(),
              L.Linear(32 * (FRAME[0] // 4) * (FRAME[1] // 4), 128, "he", rng), L.ReLU(),
              L.Linear(128, HEADS[-1].stop, "he", rng)]
    return Network(layers, losses.QuadraticCost("identity"), (FRAME[0] * FRAME[1],))
