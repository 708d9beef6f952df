"""A cheap path for small clean scans: small pictures of one digit on an even
background (MNIST digits saved as pictures, scans cropped to the digit), prepared a
chunk at a time instead of one by one.

On a picture of a few hundred pixels ``to_mnist`` spends nearly all its time in the
Python overhead of some sixty small NumPy steps. For a picture whose border is one
level all round (what the front end treats as a drawing on a flat background, found
at full size) those steps are done here for every same-sized picture of a chunk at
once: the same float32 operations in the same order, the front end's own labelling of
pieces (``select.label``, ``select.measure``) on the pictures stacked one above the
other, its own rule for gathering them (``select._gather``), and its own last step
(``fit_mnist``). So the result is ``to_mnist``'s to the last bit
(tests/test_batch_clean.py checks it, on pictures of every kind this path takes).
Any other picture, or any doubt, goes the usual way (None here).
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np

from ..data.frontend import FLAT, FLAT_SHARE, MARGIN, WORK_FLAT, fit_mnist, select
from ..data.frontend.fit import NOISE

#: Pictures up to this size on each side, and this many bytes, are tried here.
SMALL = 64
SMALL_BYTES = 1 << 16
#: Greyscale and colour pictures (``levels`` takes their grey as Pillow gives it).
MODES = ("L", "RGB")


def decode(data) -> np.ndarray | None:
    """The 8-bit grey levels (H, W) of a small picture without orientation (a path or
    bytes), as the front end reads them; None for anything else."""
    from PIL import Image

    try:
        if isinstance(data, str):
            if data.lower().endswith(".npy") or not os.path.isfile(data):  # (a FIFO would block)
                return None
            with open(data, "rb") as f:
                data = f.read(SMALL_BYTES + 1)
        if not isinstance(data, bytes) or len(data) > SMALL_BYTES:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (a damaged file: the usual way says what is wrong)
            with Image.open(io.BytesIO(data)) as image:
                if image.mode not in MODES or max(image.size) > SMALL or min(image.size) < 3:
                    return None
                image.load()  # (a PNG's EXIF may come after its pixels)
                if _may_turn(image.info):
                    return None
                return np.asarray(image if image.mode == "L" else image.convert("L"))
    except Exception:  # noqa: BLE001  (any doubt: the usual way says what is wrong)
        return None


def _may_turn(info) -> bool:
    """Whether the picture may carry an orientation (EXIF, XMP) that ``open_image`` applies."""
    return any("exif" in str(k).lower() or "xmp" in str(k).lower() for k in info)


def prepare(pictures: list[np.ndarray | None]) -> list[np.ndarray | None]:
    """784 floats in MNIST's form, ``to_mnist``'s, for each picture (``decode``'s grey
    levels; same-sized ones are done together) that is a clean scan; None for the
    others, and for None."""
    out: list[np.ndarray | None] = [None] * len(pictures)
    shapes: dict[tuple, list[tuple[int, np.ndarray]]] = {}
    for i, grey in enumerate(pictures):
        if grey is not None:
            shapes.setdefault(grey.shape, []).append((i, grey))
    for same in shapes.values():
        for (i, _), ink in zip(same, soft_ink(np.stack([grey for _, grey in same]))):
            if ink is not None:
                out[i] = fit_mnist(ink)
    return out


def soft_ink(grey: np.ndarray) -> list[np.ndarray | None]:
    """``writing_ink``'s soft ink for each of a stack (N, H, W) of 8-bit grey pictures
    on a flat background, or None for a picture that is not one, or holds no writing."""
    n, h, w = grey.shape
    assert max(h, w) < 2 * WORK_FLAT  # the front end works on such a picture at full size
    levels = grey.astype(np.float32) / 255.0
    edges = np.concatenate([levels[:, 0], levels[:, -1], levels[:, :, 0], levels[:, :, -1]], axis=1)
    background = np.median(edges, axis=1)
    flat = np.mean(np.abs(edges - background[:, None]) < FLAT, axis=1) >= FLAT_SHARE
    strength = _contrast(levels, background)
    smooth = _box3(strength)
    t = _threshold(smooth)
    ok = flat & ~np.isnan(t)
    if not ok.any():
        return [None] * n
    t32 = t.astype(np.float32)[:, None, None]  # (the front end compares float32 pixels with
    low = np.maximum(select.HYSTERESIS * t, select.FAINTEST).astype(np.float32)[:, None, None]
    binary = (smooth > low) | (strength > t32)  # Python floats: in float32)
    ok &= ~_printed(binary)  # (a form's print round the digit: the usual way takes it out)
    picked = np.flatnonzero(ok)
    if not picked.size:
        return [None] * n
    boxes, mask = _writing(binary[picked], np.maximum(smooth, strength)[picked], t32[picked, 0, 0])
    soft = _soft(strength[picked], mask)
    out: list[np.ndarray | None] = [None] * n
    for k, i in enumerate(picked):
        if boxes[k] is None:
            continue
        top, bottom, left, right = boxes[k]
        pad = int(MARGIN * max(bottom - top, right - left)) + 2
        out[i] = soft[k, max(0, top - pad):bottom + pad, max(0, left - pad):right + pad]
    return out


def _printed(binary):
    """For each picture of a stack, whether ``select.alone_print`` finds a form's print in
    it; looked for only where a level run of the ink (grown a row up and down) is as long
    as the shortest line it takes (BOX_PIXELS)."""
    grown = binary.copy()
    grown[:, 1:] |= binary[:, :-1]
    grown[:, :-1] |= binary[:, 1:]
    # the longest run of each picture: each pixel's distance from the last gap before it
    index = np.arange(binary.shape[2])
    last_gap = np.maximum.accumulate(np.where(grown, -1, index), axis=2)
    longest = (index - last_gap).max(axis=(1, 2))
    out = np.zeros(len(binary), bool)
    for k in np.flatnonzero(longest >= select.BOX_PIXELS):
        out[k] = bool(select.alone_print(binary[k]).any())
    return out


def _contrast(levels, background):
    """``light.contrast`` against each picture's flat level (the median of its border)."""
    level = np.array([np.maximum(np.float32(max(float(b), 1e-3)), 1e-3) for b in background],
                     np.float32)[:, None, None]
    dark = (background > 0.5)[:, None, None]
    strength = np.where(dark, 1.0 - levels / level, levels - level)
    np.maximum(strength, 0.0, out=strength)
    return strength


def _box3(values):
    """``light.box3`` of each picture of a stack (the same sums, in the same order)."""
    padded = np.pad(values, ((0, 0), (1, 1), (1, 1)))
    rows = padded[:, :-2] + padded[:, 1:-1]
    rows += padded[:, 2:]
    total = rows[:, :, :-2] + rows[:, :, 1:-1]
    total += rows[:, :, 2:]
    total /= 9.0
    return total


def _threshold(smooth, bins: int = 64):
    """``select.threshold(smooth, 0)`` of each picture (no noise on a flat background):
    Otsu's threshold among the pixels above FAINTEST, no lower than it; NaN where
    fewer than 4 pixels stand out."""
    n = len(smooth)
    floor = select.FAINTEST
    above = smooth > floor
    count = above.sum(axis=(1, 2))
    lo = np.where(above, smooth, np.inf).min(axis=(1, 2)).astype(np.float64)
    hi = np.where(above, smooth, -np.inf).max(axis=(1, 2)).astype(np.float64)
    spread = count >= 4
    even = spread & (hi <= lo)  # one level: the threshold is that level
    steps = spread & ~even
    lo[~steps], hi[~steps] = 0.0, 1.0  # (values for pictures decided otherwise)
    scale = (bins / (hi - lo)).astype(np.float32)[:, None, None]
    index = ((smooth - lo.astype(np.float32)[:, None, None]) * scale).astype(np.intp)
    picture = np.broadcast_to(np.arange(n)[:, None, None], smooth.shape)
    counts = np.bincount(picture[above] * bins + np.minimum(index[above], bins - 1),
                         minlength=n * bins).reshape(n, bins)
    edges = lo[:, None] + ((hi - lo) / bins)[:, None] * np.arange(bins + 1)
    centres = (edges[:, :-1] + edges[:, 1:]) / 2
    weight = np.cumsum(counts, axis=1)
    total = weight[:, -1:]
    mean = np.cumsum(counts * centres, axis=1)
    between = (mean[:, -1:] * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1)
    otsu = edges[np.arange(n), np.argmax(between[:, :-1], axis=1) + 1]
    otsu[even] = lo[even]
    return np.where(spread, np.maximum(otsu, floor), np.nan)


def _writing(binary, strength, t32):
    """``select.writing``'s choice (without paper: a flat background has none) for each
    picture of a stack: its box (top, bottom, left, right) or None, and the mask of the
    pieces chosen (N, H, W). The pieces are labelled on the pictures stacked one above
    the other, a row of nothing between them, so that each picture's pieces, their
    order and their sums are the ones it has alone."""
    n, h, w = binary.shape
    tall = np.zeros((n, h + 1, w), bool)
    tall[:, :h] = binary
    found = select.label(tall.reshape(-1, w))
    stacked = np.zeros((n, h + 1, w), np.float32)
    stacked[:, :h] = strength
    stats = select.measure(found, stacked.reshape(-1, w))
    picture = stats.top // (h + 1)
    stats.top -= picture * (h + 1)
    stats.bottom -= picture * (h + 1)
    score = stats.mass.copy()  # (on a flat background a piece at the frame's edge counts)
    score[stats.peak <= t32[picture]] = 0.0
    starts = np.searchsorted(picture, np.arange(n + 1))
    wanted = np.zeros(found.n + 1, bool)
    boxes: list = [None] * n
    for k in range(n):
        a, b = starts[k], starts[k + 1]
        if b == a or score[a:b].max() <= 0:
            continue
        best = int(np.argmax(score[a:b]))
        part = select.Stats(*(getattr(stats, f)[a:b] for f in select.Stats.__dataclass_fields__))
        keep = part.area >= select.SPECK * part.area[best]  # (one digit, flat: faint pieces too)
        chosen, boxes[k] = select._gather(part, best, keep, select.JOIN, longest=True)
        wanted[np.array(chosen) + a + 1] = True
    return boxes, wanted[found.labels].reshape(n, h + 1, w)[:, :h]


def _soft(strength, mask):
    """``frontend._soft`` for a flat background, for each picture of a stack: its ink
    over the strongest of the writing, faint ink dropped, on the pieces grown by a pixel."""
    grown = mask.copy()
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    across = grown.copy()
    across[:, :, 1:] |= grown[:, :, :-1]
    across[:, :, :-1] |= grown[:, :, 1:]
    peak = np.where(mask, strength, 0.0).max(axis=(1, 2))
    peak = np.array([max(float(p), 1e-6) for p in peak], np.float32)[:, None, None]
    soft = strength / peak
    np.multiply(soft, soft >= NOISE, out=soft)
    return np.where(across, np.clip(soft, 0.0, 1.0), 0.0).astype(np.float32)
