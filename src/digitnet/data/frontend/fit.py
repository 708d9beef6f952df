"""Step 4 of the front end: the writing's ink into MNIST's form.

MNIST digits are white on black, their ink fitted into a 20x20 box with the aspect ratio
kept, anti-aliased, then placed in a 28x28 image so that the centre of mass of the ink is
at the centre; their strokes are about an eighth of the digit's size wide.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ...errors import NoDigitError
from .light import rank_filter, shrink

#: Ink fainter than this fraction of the strongest ink is noise.
NOISE = 0.1


def stroke_width(binary):
    """Typical stroke width in pixels: twice the area over the boundary length."""
    area = np.count_nonzero(binary)
    inner = binary[1:-1, 1:-1] & binary[:-2, 1:-1] & binary[2:, 1:-1] & binary[1:-1, :-2] & binary[1:-1, 2:]
    boundary = area - np.count_nonzero(inner)
    return 2.0 * area / max(boundary, 1)



#: An MNIST-form image whose ink is at least SEVERAL_ASPECT times wider than high, with
#: an empty column inside it, holds several digits side by side (a number given to
#: ``predict``): 123 of 300 numbers of 2-4 validation digits against 1-7 in 10,000
#: single digits (MNIST's validation digits, drawn ones, photos of paper).
SEVERAL_ASPECT = 1.2


def several_digits(x: np.ndarray) -> bool:
    """Whether the 784 (or 28x28) MNIST-form ``x`` looks like several digits side by
    side rather than one."""
    ink = np.asarray(x).reshape(28, 28) > 0.2
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(cols):
        return False
    wide = cols[-1] - cols[0] + 1 >= SEVERAL_ASPECT * (rows[-1] - rows[0] + 1)
    return bool(wide and not ink[:, cols[0]:cols[-1] + 1].any(axis=0).all())


def bounding_box(values, threshold=NOISE):
    ink = values > threshold
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def fit_mnist(values: np.ndarray, photo: bool = False) -> np.ndarray:
    """Ink (H, W) in [0, 1] -> a 28x28 MNIST-style image as a row of 784 floats:
    cropped to the ink, longest side scaled to 20 px, centred by centre of mass.
    ``photo``: the ink of a photo of paper (thick strokes thinned sooner)."""
    from PIL import Image

    box = bounding_box(values)
    if box is None:
        raise NoDigitError("no digit found: the image is blank")
    top, bottom, left, right = box
    crop = values[top:bottom, left:right]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    # averaging down to about 100 px keeps thin strokes visible
    small = _normalise_strokes(shrink(crop.astype(np.float32), 100)[0], photo)
    if new_h <= small.shape[0] and new_w <= small.shape[1]:
        fitted = np.clip(lanczos(small, new_h, new_w), 0.0, None)
    else:  # (a digit of fewer than 20 pixels, made larger)
        fitted = np.clip(np.asarray(Image.fromarray(small, "F").resize(
            (new_w, new_h), Image.Resampling.LANCZOS), dtype=np.float32), 0.0, None)
    if fitted.max() > 0:
        fitted = np.clip(fitted / fitted.max(), 0.0, 1.0)
    total = fitted.sum()
    rows, cols = np.indices(fitted.shape)
    cy = (rows * fitted).sum() / total
    cx = (cols * fitted).sum() / total
    out = np.zeros((28, 28), np.float32)
    # whole-pixel shift putting the centre of mass at (14, 14), where MNIST has it
    oy = int(round(14 - cy))
    ox = int(round(14 - cx))
    oy = min(max(oy, 0), 28 - new_h)
    ox = min(max(ox, 0), 28 - new_w)
    out[oy:oy + new_h, ox:ox + new_w] = fitted
    return out.reshape(-1)


def lanczos(values: np.ndarray, h: int, w: int) -> np.ndarray:
    """Float32 ``values`` made smaller (or kept) to ``h`` x ``w`` through a Lanczos filter
    (three lobes): Pillow's ``Image.resize((w, h), LANCZOS)`` of an "F" image, the same
    to the bit, as two products with cached matrices instead of Pillow's copies and
    loops. As Pillow: each pass sums in float64 and leaves float32, and a size kept skips
    its pass; the upright pass goes first where it takes off more than twice as many rows
    as the level one takes columns (Pillow 13's order; earlier versions took the level
    pass first: then the same to within 1e-6)."""
    rows, columns = values.shape
    if 2 * (columns - w) >= rows - h:
        out = _across(values, w)
        return _across(out.T, h).T if h != rows else out
    out = _across(values.T, h).T
    return _across(out, w) if w != columns else out


def _across(values: np.ndarray, size: int) -> np.ndarray:
    """Each row of ``values`` (float32) resampled to ``size`` columns (one pass of ``lanczos``)."""
    if values.shape[1] == size:
        return values
    return (values.astype(np.float64) @ _lanczos_weights(values.shape[1], size)).astype(np.float32)


@functools.lru_cache(maxsize=512)
def _lanczos_weights(size: int, new: int) -> np.ndarray:
    """(size, new) float64: column j holds the weights of the ``size`` input pixels for
    output pixel j, as Pillow's ``precompute_coeffs`` computes them (Resample.c): the
    kernel sinc(x) sinc(x / 3) over [-3, 3), stretched by the scale, in a window
    rounded to whole pixels round each output pixel's centre, summed to one in order."""
    scale = size / new
    stretch = max(scale, 1.0)
    support = 3.0 * stretch
    centre = (np.arange(new) + 0.5) * scale
    first = np.maximum((centre - support + 0.5).astype(int), 0)  # (truncated, as C's casts)
    last = np.minimum((centre + support + 0.5).astype(int), size)
    x = np.arange(size)
    at = (x[None, :] - centre[:, None] + 0.5) * (1.0 / stretch)
    kernel = np.ones_like(at)
    for v in (at, at / 3):
        turn = v * math.pi
        nonzero = v != 0.0
        kernel[nonzero] *= np.sin(turn[nonzero]) / turn[nonzero]
    inside = (x[None, :] >= first[:, None]) & (x[None, :] < last[:, None]) & (at >= -3.0) & (at < 3.0)
    kernel[~inside] = 0.0
    total = np.cumsum(kernel, axis=1)[:, -1:]  # (added in order, as Pillow does)
    weights = np.divide(kernel, total, out=kernel.copy(), where=total != 0.0)
    weights = np.ascontiguousarray(weights.T)
    weights.flags.writeable = False
    return weights


#: MNIST strokes are about 2.5 px wide in the 20 px box: 1/8 of the digit's size.
STROKE = 1 / 8
#: Strokes wider than this many times MNIST's are thinned towards it; in a photo of
#: paper, THICK_PHOTO times, when the digit is at least PHOTO_SIZE pixels (chosen on
#: validation photos: marker strokes whose loops close; smaller digits, blurred, were
#: read worse thinned sooner).
THICK = 2.5
THICK_PHOTO = 2.0
PHOTO_SIZE = 64


def _normalise_strokes(values: np.ndarray, photo: bool = False) -> np.ndarray:
    """Thicken hairlines and thin down marker strokes towards MNIST's stroke width,
    measured relative to the digit's size (a pen on a big canvas, or a thick brush)."""
    if values.max() <= 0 or max(values.shape) < 24:
        return values
    binary = values > 0.5 * values.max()
    width = stroke_width(binary)
    target = STROKE * max(values.shape)
    size = int(round(target - width)) // 2 * 2 + 1  # odd filter size
    # (the maximum and minimum over a square, edges repeated: Pillow's MaxFilter and
    # MinFilter, to the bit)
    if width < 0.6 * target and size >= 3:
        # a hairline averaged down is faint: bring it to full strength, then widen it
        return rank_filter(np.clip(values / (0.5 * values.max()), 0, 1), min(size, 11), np.maximum)
    thick = THICK_PHOTO if photo and max(values.shape) >= PHOTO_SIZE else THICK
    if width > thick * target:
        size = int(round(width - target)) // 2 * 2 + 1
        return rank_filter(values, max(3, min(size, 9)), np.minimum)
    return values
