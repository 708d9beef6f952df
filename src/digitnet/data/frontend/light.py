"""Step 2 of the front end: the paper (or board) and its lighting, estimated and flattened.

The lighting is estimated on a coarse copy of the picture, about ``COARSE`` pixels on its
long side. Which way the ink goes (dark on light, or light on dark) is decided against a
median of the neighbourhood, which follows shadows and vignetting whatever the ink; the
paper's level under the ink is then a morphological closing (for dark ink: a maximum then a
minimum over ``CLOSING`` pixels, wider than any stroke), which keeps the edge of a shadow
where it is. Dark ink becomes its relative darkness, 1 - level / paper, the same under
dim light as under bright; light ink its brightness above the board. A lamp's reflection
on the paper (``glare``: a spot above the page's lighting) is light added: it is taken
off, in linear light, before the ink's darkness is measured.
"""

from __future__ import annotations

import numpy as np

COARSE = 64
#: Wider than a stroke at the coarse scale (a stroke is up to a tenth of the frame).
CLOSING = 11
#: Light ink is written on a dark surface (a board, dark paper): where the picture's
#: strongest lighter departure lies on a surface this light or lighter (its
#: neighbourhood's median level) and is lighter than the surface anywhere (the medians'
#: highest) by GLARE_ABOVE (log brightness) or more, it is a glare (a lamp reflected by
#: glossy paper), and the ink is dark. (A shadow's lit side is no lighter than the
#: paper beyond it.)
LIGHT_SURFACE = 0.5
GLARE_ABOVE = 0.05
#: A glare on dark ink's paper: where the paper's level stands above the page's lighting
#: (the level opened over GLARE_SPAN of the frame: lighting does not change within a
#: patch that small) by GLARE or more in linear light (levels to the power GAMMA), in a
#: spot (what stands above it by GLARE / 2 covers at most GLARE_AREA of the frame and
#: GLARE_EDGE of each side: a shadow's lit side is no spot) lighter than the paper at the
#: frame's border (its 90th percentile) by GLARE, the light it adds is taken off every
#: pixel there, in linear light, before the ink's darkness is measured: the ink under a
#: lamp's reflection is as much lighter as its paper.
GLARE = 0.1
GLARE_SPAN = 0.2
GLARE_AREA = 0.04
GLARE_EDGE = 0.1
GAMMA = 2.2


def shrink(values: np.ndarray, long_side: int) -> tuple[np.ndarray, int]:
    """``values`` box-averaged by a whole factor so that its long side is at most about
    ``long_side``; returns (values, factor)."""
    from PIL import Image

    factor = shrink_factor(values.shape, long_side)
    if factor == 1:
        return values, 1
    if min(values.shape) >= factor:
        return reduce(values.astype(np.float32, copy=False), factor), factor
    small = Image.fromarray(values.astype(np.float32, copy=False), "F").reduce(factor)
    return np.asarray(small, dtype=np.float32), factor


def shrink_factor(shape: tuple, long_side: int) -> int:
    """The whole factor by which ``shrink`` reduces a picture of ``shape``."""
    return max(1, max(shape) // long_side)


def reduce(values: np.ndarray, f: int) -> np.ndarray:
    """Pillow's ``Image.reduce(f)`` of float32 ``values`` (H, W), both at least ``f``, the
    same to the bit, without the copies in and out of Pillow: each f x f box's mean, the
    boxes of the last row and column as wide as what is left. Like Pillow, pixels are
    added in float32 four at a time (two rows by two columns), those sums in float64."""
    h, w = values.shape
    hb, wb = h // f, w // f
    blocks = values[:hb * f, :wb * f].reshape(hb, f, wb, f)
    out = np.empty((-(-h // f), -(-w // f)), np.float32)
    if f == 2:  # (one sum of four a box: a quarter of it, in float32, is the same)
        core = out[:hb, :wb]  # ((a + b) + c) + d, in place
        np.add(blocks[:, 0, :, 0], blocks[:, 0, :, 1], out=core)
        core += blocks[:, 1, :, 0]
        core += blocks[:, 1, :, 1]
        core *= np.float32(0.25)
        return _partial(values, f, out)
    total = np.zeros((hb, wb))
    for y in range(0, f - 1, 2):
        row, below = blocks[:, y], blocks[:, y + 1]
        for x in range(0, f - 1, 2):
            total += ((row[..., x] + row[..., x + 1]) + below[..., x]) + below[..., x + 1]
        if f % 2:
            total += row[..., f - 1] + below[..., f - 1]
    if f % 2:
        row = blocks[:, f - 1]
        for x in range(0, f - 1, 2):
            total += row[..., x] + row[..., x + 1]
        total += row[..., f - 1]
    out[:hb, :wb] = total * (1.0 / (f * f))
    return _partial(values, f, out)


def _partial(values: np.ndarray, f: int, out: np.ndarray) -> np.ndarray:
    """``out`` with the boxes of the last row and column, narrower than ``f``, filled in
    as Pillow does: their pixels added in float64."""
    h, w = values.shape
    hb, wb = h // f, w // f
    if w % f:
        part = values[:hb * f, wb * f:].astype(np.float64).reshape(hb, -1)
        out[:hb, wb] = part.sum(axis=1) * (1.0 / (f * (w % f)))
    if h % f:
        bottom = values[hb * f:, :wb * f].astype(np.float64).reshape(h % f, wb, f)
        out[hb, :wb] = bottom.transpose(1, 0, 2).reshape(wb, -1).sum(axis=1) * (1.0 / (f * (h % f)))
    if h % f and w % f:
        out[hb, wb] = values[hb * f:, wb * f:].astype(np.float64).sum() * (1.0 / ((h % f) * (w % f)))
    return out


def rank_filter(values: np.ndarray, size: int, op) -> np.ndarray:
    """Minimum (``op=np.minimum``) or maximum over each pixel's size x size neighbourhood,
    the edges repeated beyond the border; separable, in ``size`` steps per direction."""
    r = size // 2
    padded = np.pad(values, r, mode="edge")
    h, w = values.shape
    rows = padded[:h].copy()
    for i in range(1, size):
        op(rows, padded[i:i + h], out=rows)
    out = rows[:, :w].copy()
    for j in range(1, size):
        op(out, rows[:, j:j + w], out=out)
    return out


def dark_ink(coarse: np.ndarray) -> bool:
    """Whether the ink is darker than the paper: in log brightness (so that ink in a
    shadow stands out as much as in the light), the picture's strongest departure from the
    median of its neighbourhood (a third of the frame) is darker than it is lighter.

    A shadow's hard edge departs from the median on both sides of it, lighter on the lit
    side, and could pass for light ink; so when the lighter departures are the stronger,
    only departures that are also narrow strokes count: lighter than the opening, darker
    than the closing (over CLOSING pixels; both follow a step, not a stroke). Nor does
    a lighter departure on light paper (LIGHT_SURFACE): a glare."""
    from numpy.lib.stride_tricks import sliding_window_view

    logs = np.log(coarse + 0.03)
    small, _ = shrink(logs, 24)
    size = max(3, (max(small.shape) // 3) | 1)
    padded = np.pad(small, size // 2, mode="edge")
    median = np.median(sliding_window_view(padded, (size, size)), axis=(2, 3)).astype(np.float32)
    surface = stretch(median, logs.shape)
    departure = logs - surface
    low, high = np.quantile(departure, (0.002, 0.998))
    if -low >= high:
        return True
    # (on light paper nothing written is lighter than the paper: a lamp's reflection is,
    # lighter than the paper anywhere; a shadow's lit side is not)
    brightest = int(np.argmax(departure))
    if (np.exp(surface.flat[brightest]) - 0.03 >= LIGHT_SURFACE
            and logs.flat[brightest] >= surface.max() + GLARE_ABOVE):
        return True
    # (only then: where dark ink wins outright, as on most photos, nothing changes)
    size = max(3, int(round(CLOSING * max(logs.shape) / COARSE)) | 1)
    r = size // 2 + 1
    padded = np.pad(logs, r, mode="edge")
    closing = rank_filter(rank_filter(padded, size, np.maximum), size, np.minimum)[r:-r, r:-r]
    opening = rank_filter(rank_filter(padded, size, np.minimum), size, np.maximum)[r:-r, r:-r]
    narrow = np.where(departure < 0, np.maximum(departure, logs - closing),
                      np.minimum(departure, logs - opening))
    low, high = np.quantile(narrow, (0.002, 0.998))
    return bool(-low >= high)


def stretch(values: np.ndarray, shape, box=None) -> np.ndarray:
    """``values`` resized (bilinear) to ``shape`` (h, w), or its part ``box`` (left, top,
    right, bottom, in ``values``'s pixels, fractions allowed) resized to ``shape``."""
    from PIL import Image

    if values.shape == tuple(shape) and box is None:
        return values
    image = Image.fromarray(values.astype(np.float32, copy=False), "F")
    return np.asarray(image.resize((shape[1], shape[0]), Image.Resampling.BILINEAR, box=box),
                      dtype=np.float32)


def paper(coarse: np.ndarray, dark: bool) -> np.ndarray:
    """The paper's (or board's) level under the ink, at the coarse scale: a closing for
    dark ink, an opening for light, over CLOSING pixels (fewer for tiny pictures)."""
    size = max(3, int(round(CLOSING * max(coarse.shape) / COARSE)) | 1)
    first, second = (np.maximum, np.minimum) if dark else (np.minimum, np.maximum)
    # both filters on the picture extended by its edge, so that the closing is exact up to
    # the border too (extended between them, it overestimates light falling off there)
    r = size // 2 + 1
    level = rank_filter(rank_filter(np.pad(coarse, r, mode="edge"), size, first), size, second)
    return box3(level)[r:-r, r:-r]


def glare(level: np.ndarray) -> np.ndarray | None:
    """The light a glare adds to the paper's ``level`` (coarse, dark ink), in linear
    light: the level above its opening over GLARE_SPAN of the frame; None where no spot
    stands GLARE above it (no glare: the picture is left as it is)."""
    size = max(3, int(round(GLARE_SPAN * max(level.shape))) | 1)
    r = size // 2 + 1
    padded = np.pad(level, r, mode="edge")
    lighting = rank_filter(rank_filter(padded, size, np.minimum), size, np.maximum)[r:-r, r:-r]
    added = level ** GAMMA - lighting ** GAMMA
    if float(added.max()) < GLARE:
        return None
    spot = added >= GLARE / 2
    sides = (spot[0], spot[-1], spot[:, 0], spot[:, -1])
    if spot.mean() > GLARE_AREA or max(side.mean() for side in sides) > GLARE_EDGE:
        return None
    # (lighter than the paper at the frame's border: in a crop tight round thick strokes
    # the paper between them is all the paper there is, and no lighter than the border's)
    border = np.concatenate([level[0], level[-1], level[:, 0], level[:, -1]])
    if float(level.max()) ** GAMMA < float(np.quantile(border, 0.9)) ** GAMMA + GLARE:
        return None
    return added


def contrast(grey: np.ndarray, level: np.ndarray, dark: bool, added: np.ndarray | None = None
             ) -> np.ndarray:
    """Ink strength (H, W) >= 0: relative darkness under the paper's level for dark ink,
    brightness above the board's for light ink. ``added``: a glare's light (``glare``,
    stretched to ``grey``'s shape), taken off the picture and the paper first."""
    if added is not None:
        grey, level = _unlit(grey, added), _unlit(level, added)
    if dark:
        out = grey / np.maximum(level, 1e-3)
        np.subtract(1.0, out, out=out)
    else:
        out = grey - level
    np.maximum(out, 0.0, out=out)
    return out


def _unlit(values: np.ndarray, added: np.ndarray) -> np.ndarray:
    """Levels with the light ``added`` (linear) taken off."""
    return (np.maximum(values ** GAMMA - added, 0.0) ** (1 / GAMMA)).astype(np.float32)


def median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D float array without NaNs, without its generality (the
    middle value, or the mean of the middle two in the array's precision)."""
    n = len(values)
    middle = np.partition(values, ((n - 1) // 2, n // 2))
    return float((middle[(n - 1) // 2] + middle[n // 2]) / values.dtype.type(2))


def noise(values: np.ndarray) -> float:
    """The noise's standard deviation, robustly: 1.4826 x the median absolute deviation
    of the differences between horizontal neighbours, over 1/sqrt(2)."""
    step = max(1, int(np.sqrt(values.size / 20_000)))  # a sample of at most ~20,000 pixels
    sample = values[::step, ::step]
    diff = np.abs(np.diff(sample, axis=1)).ravel() if sample.shape[1] > 1 else np.zeros(1)
    return float(1.4826 * np.median(diff) / np.sqrt(2))


def box3(values: np.ndarray) -> np.ndarray:
    """Mean over each pixel's 3x3 neighbourhood (zeros beyond the border)."""
    # sums in place of a padded copy: each pixel's (up + here) + down, then (left + here)
    # + right, the same additions in the same order as over a zero-padded copy
    rows = values.copy()
    rows[1:] += values[:-1]
    rows[:-1] += values[1:]
    total = rows.copy()
    total[:, 1:] += rows[:, :-1]
    total[:, :-1] += rows[:, 1:]
    total /= 9.0
    return total
