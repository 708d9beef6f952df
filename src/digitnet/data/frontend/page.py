"""Paper on a desk: the sheet found, and the desk round it painted over with paper.

A phone photo of a sticky note or a sheet of paper often shows the desk round it,
darker than the paper and often grained. Left as it is, the desk is the picture's
background and the paper a light shape on it: the writing is looked for in the wrong
polarity, or the desk's grain is taken for ink. ``sheet`` finds the paper: the largest
bright piece of the picture (Otsu's threshold), holes filled, that

- covers PAGE_AREA of the frame or more, and at most PAGE_BORDER of its border (the
  desk holds the rest: a photo of paper that fills the frame is left alone);
- is bright nearly all over (PAGE_SOLID of it: a chalk digit's filled loops are not),
  but holds writing: dark holes, PAGE_INK of it or more (the lit part of a shadowed page
  holds none: the writing in the shadow is not enclosed by it);
- is convex (it fills PAGE_CONVEX of its rows' spans, and of its columns') and shaped
  like a sheet: PAGE_RECT of the smallest rectangle round it or more (notes 0.96 or
  more, chalk blobs 0.80 or less, an ellipse 0.79);
- is brighter than the desk by PAGE_CONTRAST (medians), and ends in a step: across its
  edge (EDGE_BAND pixels each way) the brightness changes by PAGE_EDGE of that contrast
  or more (a vignette's bright middle fades out; a sheet's edge does not).

Where that piece is no sheet, the same is asked of what is brighter than a second
threshold, Otsu's among the bright pixels: a hand holding the note, brighter than the
room and darker than the paper, joins the note's piece at the first and not at the
second (the writing is still what is darker than the first).

``on_paper`` then paints everything outside the sheet (and its edge, PAGE_INSET
pixels in) with the paper's own level: a plane fitted to the sheet (``paper_plane``),
with noise as strong as the sheet's. The picture is then a photo of paper like any
other. (Chosen on ``benchmarks/bench_desk.py``'s validation notes and on the validation
pictures of every ``benchmarks/realworld.py`` family, none of which may be taken for a
sheet; the test sheets, on other desks and seen askew, were never tuned on:
BENCHMARKS.md, "Paper on a desk".)
"""

from __future__ import annotations

import numpy as np

from . import light, select

#: The size the picture is looked at (its longer side, about), and the thresholds above.
PAGE_SIDE = 160
PAGE_AREA = 0.08
PAGE_BORDER = 0.35
PAGE_SOLID = 0.82
PAGE_INK = 0.002
PAGE_CONVEX = 0.95
PAGE_RECT = 0.85
PAGE_CONTRAST = 0.15
PAGE_EDGE = 0.75
EDGE_BAND = 3
PAGE_INSET = 2
#: The paper's level: a plane refitted PAPER_FITS times to the pixels within
#: PAPER_TOLERANCE (or four times the noise) of it, the ink and the lines left out.
PAPER_FITS = 6
PAPER_TOLERANCE = 0.08


def sheet(grey: np.ndarray):
    """The sheet of paper lying on a darker desk in ``grey`` (H, W) as a mask of the
    picture looked at ``PAGE_SIDE`` pixels, and that picture's factor; None if there is no
    such sheet (see the module's docstring)."""
    small, factor = light.shrink(grey, PAGE_SIDE)
    h, w = small.shape
    if min(h, w) < 4 * EDGE_BAND:
        return None
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    cut = select.otsu(small.ravel())
    if np.mean(border > cut) > PAGE_BORDER:  # (most photos and drawings: done here)
        return None
    region = _sheet_at(small, cut, cut)
    if region is None and np.any(small > cut):  # something bright but darker than the
        region = _sheet_at(small, select.otsu(small[small > cut]), cut)  # paper: a hand
    return None if region is None else (region, factor)


def _sheet_at(small: np.ndarray, cut: float, dark: float):
    """The sheet in ``small`` as what is brighter than ``cut`` shows it, or None; its
    writing is what is darker than ``dark`` (the picture's own Otsu threshold)."""
    h, w = small.shape
    pieces = select.label(small > cut)
    if not pieces.n:
        return None
    areas = np.bincount(pieces.labels.ravel(), minlength=pieces.n + 1)
    areas[0] = 0
    bright = pieces.labels == int(np.argmax(areas))
    region = select.filled(bright)
    area = int(region.sum())
    edge = np.concatenate([region[0], region[-1], region[:, 0], region[:, -1]])
    if (area < PAGE_AREA * h * w or np.mean(edge) > PAGE_BORDER
            or not PAGE_SOLID * area <= (region & (small > dark)).sum() <= (1 - PAGE_INK) * area
            or not _convex(region) or _rectangular(region) < PAGE_RECT):
        return None
    desk = ~select._grown(region, EDGE_BAND)
    if not desk.any():
        return None
    contrast = float(np.median(small[bright]) - np.median(small[desk]))
    inner = region & ~_shrunk(region, EDGE_BAND)
    outer = select._grown(region, EDGE_BAND) & ~region
    step = float(np.median(small[inner & bright]) - np.median(small[outer])) if inner.any() else 0.0
    if contrast < PAGE_CONTRAST or step < PAGE_EDGE * contrast:
        return None
    return region


def on_paper(grey: np.ndarray, found) -> np.ndarray:
    """``grey`` with everything outside the sheet ``found`` (``sheet``), and its edge,
    painted with the paper's level and noise."""
    region, factor = found
    h, w = grey.shape
    keep = _shrunk(region, PAGE_INSET)
    if factor > 1:
        keep = np.repeat(np.repeat(keep, factor, axis=0), factor, axis=1)
    keep = np.pad(keep, ((0, max(0, h - keep.shape[0])), (0, max(0, w - keep.shape[1]))))[:h, :w]
    rows, cols = np.nonzero(keep)
    if rows.size < 3:
        return grey
    pick = np.random.default_rng(0).choice(rows.size, min(rows.size, 20_000), replace=False)
    rows, cols = rows[pick], cols[pick]
    steps = np.diff(grey, axis=1)[keep[:, 1:] & keep[:, :-1]]  # (the noise: neighbours' steps)
    sigma = 1.4826 * float(np.median(np.abs(steps))) / np.sqrt(2) if steps.size else 0.0
    plane = paper_plane(grey[rows, cols], rows / h, cols / w, sigma).astype(np.float32)
    level = (plane[0] + plane[1] * (np.arange(h, dtype=np.float32) / h)[:, None]
             + plane[2] * (np.arange(w, dtype=np.float32) / w)[None, :])
    noise = np.random.default_rng(0).standard_normal((h, w), dtype=np.float32) * np.float32(sigma)
    paper = np.clip(level + noise, 0, 1)
    return np.where(keep, grey, paper).astype(grey.dtype, copy=False)


def paper_plane(values, rows, cols, sigma: float) -> np.ndarray:
    """The paper's level under ``values`` at (``rows``, ``cols``) (fractions of the
    picture's height and width) as a plane (a, b, c): a + b * row + c * col, fitted
    PAPER_FITS times to the values within PAPER_TOLERANCE or 4 ``sigma`` of it (the
    strokes left out), starting from their median."""
    values = np.asarray(values, np.float64)
    design = np.stack([np.ones_like(rows, dtype=np.float64), rows, cols], axis=1)
    plane = np.array([np.median(values), 0.0, 0.0])
    for _ in range(PAPER_FITS):
        paper = np.abs(values - design @ plane) <= max(4 * sigma, PAPER_TOLERANCE)
        if paper.sum() < 3:
            break
        plane = np.linalg.lstsq(design[paper], values[paper], rcond=None)[0]
    return plane


def _shrunk(mask: np.ndarray, size: int) -> np.ndarray:
    """``mask`` shrunk by ``size`` pixels each way (the frame's border counts as inside)."""
    return ~select._grown(~mask, size)


def _rectangular(region: np.ndarray) -> float:
    """``region``'s area over that of the smallest rectangle round it, turned by any whole
    degree: about 1 for a sheet seen from above, 0.9 askew, pi / 4 for an ellipse."""
    rows, cols = np.nonzero(region ^ _shrunk(region, 1))  # its outline
    angles = np.deg2rad(np.arange(90))
    u = cols[:, None] * np.cos(angles) + rows[:, None] * np.sin(angles)
    v = rows[:, None] * np.cos(angles) - cols[:, None] * np.sin(angles)
    boxes = (np.ptp(u, axis=0) + 1) * (np.ptp(v, axis=0) + 1)
    return float(region.sum() / boxes.min())


def _convex(region: np.ndarray) -> bool:
    """Whether ``region`` fills PAGE_CONVEX of the span of each of its rows, and of its
    columns, taken together (notches of up to EDGE_BAND pixels closed first: a slanted
    edge's steps, in noise): a sheet, or one with a finger over its edge."""
    closed = _shrunk(select._grown(region, EDGE_BAND), EDGE_BAND)
    area = closed.sum()
    for lines in (closed, closed.T):
        used = lines.any(axis=1)
        first = np.argmax(lines, axis=1)
        last = lines.shape[1] - np.argmax(lines[:, ::-1], axis=1)
        if area < PAGE_CONVEX * (last - first)[used].sum():
            return False
    return True
