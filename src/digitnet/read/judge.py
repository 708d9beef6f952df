"""The judge: is a candidate piece one whole digit, or a part of one, or several?

Small networks, averaged, learned it from numbers composed of training digits
(``benchmarks/fit_reader.py``) from the piece's 28x28 image and ``features``.
"""

from __future__ import annotations

import numpy as np

from .segment import CUT, JOINED, Lattice

_WHOLE: list = []


def features(lat: Lattice, keys, probabilities):
    """What says whether a piece is one whole digit, beyond the classifier's
    confidence: its size against the writing's, how it was made, how much ink its
    cuts sever, and its shape for the digit the classifier sees in it. One row per key."""
    rows = []
    group_ink = np.median([float((lat.small[:, g.left:g.right] * g.mask).sum()) for g in lat.groups])
    for key, p in zip(keys, probabilities):
        left, right, mask = lat.pieces[key]
        region = np.where(mask, lat.small[:, left:right], 0.0)
        ink_rows = np.flatnonzero(region.max(axis=1) > 0.25)
        h = (ink_rows[-1] + 1 - ink_rows[0]) / lat.height if len(ink_rows) else 0.0
        w = (right - left) / lat.height
        top2 = np.sort(p)[-2:]
        digit = np.zeros(10)
        digit[int(p.argmax())] = 1.0
        # ink severed by a cut at either edge: little between touching digits, a
        # stroke's worth or more through the body of one
        cut_left, cut_right = (v / lat.height for v in lat.severed.get(key, (0, 0)))
        rows.append([max(np.log(top2[1] + 1e-12), -10.0) / 10, top2[1] - top2[0], h, w,
                     float(region.sum()) / max(group_ink, 1e-6), lat.kind[key] == CUT,
                     lat.kind[key] == JOINED, cut_left, cut_right, *p, *(digit * w)])
    return np.asarray(rows, dtype=np.float64)


def log_whole(images, rows, model=None):
    """log P(whole digit | piece image, features) from ``model``, by default the shipped
    whole-digit judge (models/reader.npz, trained by ``benchmarks/fit_reader.py``); 0
    without one."""
    model = model or whole_digit_model()
    if model is None:
        return np.zeros(len(rows))
    p = model.predict_proba(np.hstack([images, rows]))
    return np.log(p[:, 1].astype(np.float64) + 1e-12)


def whole_digit_model():
    """The judge of whether a piece is one whole digit (an ensemble of small
    networks), or None."""
    if not _WHOLE:
        from importlib import resources

        from ..io import load_model

        path = resources.files("digitnet") / "models" / "reader.npz"
        _WHOLE.append(load_model(str(path)) if path.is_file() else None)
    return _WHOLE[0]
