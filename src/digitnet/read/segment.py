"""Candidate digits of a written number: its ink, connected components, cuts and joins.

The ink is found as in ``data.preprocess`` and scaled so that the writing is
``LINE_HEIGHT`` pixels high. Its connected components are found; specks are dropped,
and components that stand over one another (the bar of a 5, the parts of a broken 4)
are merged. The candidate digits: each component whole; a component wide enough to be
touching digits, cut at every choice of its thinnest columns and at both ends of each
stroke that joins two digits as a pen does (``bridges``); close neighbours joined (a
digit written in two strokes). They form a lattice: nodes are places along the
line, each candidate digit an edge from node to node.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

import numpy as np

from ..data.frontend.fit import stroke_width
from ..data.preprocess import NOISE, Seen, bounding_box, fit_mnist, ink_seen
from ..errors import ImageError, NoDigitError
from .level import Turn, level

LINE_HEIGHT = 64
#: Pieces wider than the first, relative to the height of the writing, may be
#: touching digits and are cut; no cut piece is wider than the second.
SPLIT_ASPECT = (0.55, 1.3)
#: A piece that may be touching digits may be cut at any of its CUTS thinnest places
#: per height's worth of width, each piece at least CUT_MARGIN of the height wide.
#: (Cuts that fell like a drop of water round the strokes read validation numbers
#: worse than straight ones: touching pairs 89.0% against 90.3%.)
CUTS = 6
CUT_MARGIN = 0.1
#: A pen's connecting stroke between two digits (a ligature, "3-1"): columns each holding
#: one run of ink at most BRIDGE_THICK times the pen's width thick, BRIDGE_MIN of the
#: height long or more, up to columns with more ink or more runs. A cut there takes the whole
#: stroke out: the piece to its left ends where it starts, the one to its right starts
#: where it ends (a cut at one place would leave part of the stroke on a digit, and a 1
#: with a stroke across its middle reads as a 4 or a 7).
BRIDGE_THICK = 1.6
BRIDGE_MIN = 0.1
#: Neighbouring components closer than this (relative to the writing's height) may be
#: one digit in pieces (a 4 or a 5 written in two strokes): joining them is tried too.
JOIN_GAP = 0.15
#: Components overlapping horizontally by this much of the narrower are one digit.
MERGE_OVERLAP = 0.3
#: Components smaller than this fraction of the typical digit join their neighbour.
FRAGMENT = 0.2
#: Pieces before the first digit-high one or after the last, less than LABEL_HEIGHT as
#: high as the tallest and LABEL_GAP of its height or more away from the digits, are no
#: digits of the number: a form's printed label ("Amount:" beside the amount written).
#: Their ink is taken out of the line. (Closer, they may be a digit's part: a 5's bar.)
LABEL_HEIGHT = 0.4
LABEL_GAP = 0.2
#: A piece standing alone between the digits, under FLAT as high as the tallest and
#: lower than its top FLAT_TOP of the line's height, is a dash or a point, no digit: its
#: ink is set aside (``Lattice.aside``; ``marks`` still reads it). (Higher, a flat piece
#: may be a 5's or a 7's bar.)
FLAT = 0.3
FLAT_TOP = 0.25
#: Bounds on the work one image may ask for (each piece costs a classification and a
#: mask of its own columns): writing at most this many times wider than high, and at
#: most this many candidate pieces. Numbers of 20 digits composed of MNIST digits, all
#: touching, are up to 17 times wider than high and give up to 383 pieces; a thin line
#: 100 pixels long gave 2,340 pieces and a 10-second read before these bounds.
MAX_ASPECT = 40
MAX_PIECES = 1000

#: Marks between digits that ``read_number(..., marks=True)`` writes into the text (as
#: fractions of the height of the digits' band): a point or a comma, ink at most MARK_SIZE
#: wide and COMMA_HIGH high, centred in the lowest third of the band (a comma taller
#: than wide, reaching below the baseline), and a dash, at most DASH_THICK thick and at
#: least twice as wide, across the middle of the band; a point with another above it is a
#: colon (COLON_UP). None may stand in a digit's
#: columns, nor be a speck (smaller than MARK_MIN), nor come before the first digit or
#: after the last, but a dash ending at most MINUS_GAP of the band before the first digit
#: is a minus ("-42": ``_minus``, which takes it out of the digits' ink). The band is that
#: of the components at least DIGIT_HIGH of the tallest's height.
DIGIT_HIGH = 0.6
MARK_SIZE = 0.3
COMMA_HIGH = 0.55
DASH_THICK = 0.2
MARK_MIN = 0.06
#: A point with another above it, over its columns and no higher than COLON_UP of the
#: band above its top, is a colon ("12:30").
COLON_UP = 0.1
MINUS_GAP = 1.0

#: How a piece was made (``Lattice.kind``): BRIDGED is cut out of a component only where
#: a bridge joined it to its neighbours (on each side, a bridge or the component's edge),
#: and is judged as a component found whole would be.
WHOLE, CUT, JOINED, BRIDGED = 0, 1, 2, 3


class Piece(NamedTuple):
    """A candidate digit: its columns of ``Lattice.small`` and which pixels of
    ``small[:, left:right]`` are its ink."""
    left: int
    right: int
    mask: np.ndarray


@dataclass
class Lattice:
    """Every candidate digit of one image and the ways to chain them into a number.

    ``small`` is the ink scaled to ``LINE_HEIGHT`` rows. The nodes of the lattice are,
    left to right, the start of each group and each place where that group may be cut,
    then the end of the writing (node ``n_nodes - 1``). Each candidate digit is an edge:
    ``pieces[(i, j)]`` reads from node i to node j; ``kind[(i, j)]`` says how it was made
    (WHOLE a component as found, CUT from a wider one, BRIDGED cut from one at bridges,
    JOINED close components);
    ``severed[(i, j)]`` how much ink its cuts went through (rows at its left edge, at its
    right), for CUT pieces only."""
    small: np.ndarray
    scale: float
    origin: tuple  # (left, top) of ``small`` in the image's pixels
    height: int
    groups: list
    n_nodes: int
    pieces: dict
    kind: dict
    severed: dict
    #: How the picture's ink was turned level (``origin`` is then in the turned ink's
    #: pixels); None if it was read as it was.
    turn: Turn | None = None
    #: What kind of picture the ink was found in (a photo of paper, a form).
    seen: Seen | None = None
    #: The ink of dashes and points between the digits, taken out of ``small`` (FLAT).
    aside: np.ndarray | None = None
    #: The ink of a minus before the number (``_minus``), taken out of ``small``.
    minus: np.ndarray | None = None


def label(binary):
    """Connected components (8-neighbourhood) of a boolean image: labels, 0 = none,
    numbered in the order of each component's first pixel (row by row).

    Each row's runs of ink are joined to the runs of the row above that they touch
    (union-find over runs), so the cost grows with the number of runs, not with how
    far a component winds: a long thin stroke costs no more than a short one."""
    h, w = binary.shape
    edges = np.diff(np.pad(binary, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    run_rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]  # one past each run's last column
    parent = list(range(len(starts)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.searchsorted(run_rows, np.arange(h + 1)).tolist()
    starts_, ends_ = starts.tolist(), ends.tolist()
    for r in range(1, h):
        j, above_end = first[r - 1], first[r]
        for i in range(first[r], first[r + 1]):
            # runs above that end left of this one's start (diagonals touch) stay behind
            while j < above_end and ends_[j] < starts_[i]:
                j += 1
            k = j
            while k < above_end and starts_[k] <= ends_[i]:
                a, b = root(i), root(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    labels = np.zeros((h, w), dtype=np.int64)
    dense: dict = {}
    for i, (r, a, b) in enumerate(zip(run_rows.tolist(), starts_, ends_)):
        labels[r, a:b] = dense.setdefault(root(i), len(dense) + 1)
    return labels


def _boxes(labels) -> list[tuple[int, int, int, int, int]]:
    """Each component of ``labels`` (``label``'s) as (its label, top, bottom, left, right),
    bottom and right one past its ink, in the order of the labels; one pass over the ink."""
    rows, cols = np.nonzero(labels)
    ks, n = labels[rows, cols], int(labels.max(initial=0))
    top, left = np.full(n + 1, labels.shape[0]), np.full(n + 1, labels.shape[1])
    bottom, right = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64)
    np.minimum.at(top, ks, rows)
    np.minimum.at(left, ks, cols)
    np.maximum.at(bottom, ks, rows + 1)
    np.maximum.at(right, ks, cols + 1)
    return [(k, int(top[k]), int(bottom[k]), int(left[k]), int(right[k])) for k in range(1, n + 1)]


def _groups(binary):
    """Candidate digits as found [Piece], left to right: components, those standing
    over one another merged, fragments joined to their nearest neighbour."""
    labels = label(binary)
    n = labels.max()
    if n == 0:
        return []
    areas = np.bincount(labels.ravel())[1:]
    parts = []
    for k in range(1, n + 1):
        if areas[k - 1] < max(6, 0.01 * areas.max()):
            continue  # a speck
        cols = np.flatnonzero((labels == k).any(axis=0))
        parts.append([cols[0], cols[-1] + 1, {k}])
    parts.sort()
    merged: list = []
    for left, right, ks in parts:
        if merged:
            pl, pr, pk = merged[-1]
            overlap = min(pr, right) - max(pl, left)
            if overlap > MERGE_OVERLAP * min(pr - pl, right - left):
                merged[-1] = [min(pl, left), max(pr, right), pk | ks]
                continue
        merged.append([left, right, ks])
    _join_fragments(merged, [areas[[k - 1 for k in ks]].sum() for _, _, ks in merged])
    return [Piece(int(left), int(right), np.isin(labels[:, left:right], list(ks)))
            for left, right, ks in merged]


def _join_fragments(merged, sizes):
    """A fragment much smaller than the digits around it belongs to its nearest
    neighbour: joined in place in ``merged`` ([left, right, labels]) and ``sizes``."""
    if not merged:  # only specks
        return
    typical = np.median(sizes)
    i = 0
    while len(merged) > 1 and i < len(merged):
        if sizes[i] < FRAGMENT * typical:
            left, right, _ = merged[i]
            js = [j for j in (i - 1, i + 1) if 0 <= j < len(merged)]
            gaps = [(left - merged[j][1]) if j < i else (merged[j][0] - right) for j in js]
            j = js[int(np.argmin(gaps))]
            a, b = sorted((i, j))
            merged[a] = [min(merged[a][0], merged[b][0]), max(merged[a][1], merged[b][1]),
                         merged[a][2] | merged[b][2]]
            sizes[a] += sizes[b]
            del merged[b], sizes[b]
            i = 0
            continue
        i += 1


def scaled_ink(image):
    """The ink of ``image`` turned level (``level``), cropped and scaled to ``LINE_HEIGHT``
    rows: (small, scale, (left, top) of the crop in the level ink's pixels)."""
    return _scaled_ink(image)[:3]


def _scaled_ink(image):
    """``scaled_ink``, the ``level.Turn`` that levelled the ink (None: as it was) and
    what kind of picture it was found in (``frontend.Seen``)."""
    from PIL import Image

    values, seen = ink_seen(image)
    box = bounding_box(values)
    if box is None:
        raise NoDigitError("no digits found: the image is blank")
    values, turn = level(values, box, seen.turn)
    if turn is not None:
        box = bounding_box(values)
    top, bottom, left, right = box
    margin = 2
    top, left = max(0, top - margin), max(0, left - margin)
    bottom, right = min(values.shape[0], bottom + margin), min(values.shape[1], right + margin)
    crop = values[top:bottom, left:right]
    scale = LINE_HEIGHT / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), LINE_HEIGHT)
    if size[0] > MAX_ASPECT * LINE_HEIGHT:
        raise ImageError(f"the writing is {size[0] / LINE_HEIGHT:.0f} times as wide as it is high: "
                         "not a number of up to 20 digits")
    small = np.array(Image.fromarray(crop, "F").resize(size, Image.Resampling.BOX), dtype=np.float32)
    small /= max(float(small.max()), 1e-6)
    return small, scale, (left, top), turn, seen


def lattice(image) -> Lattice:
    """Find the candidate digits of ``image``: connected components, cuts of wide ones
    at their thinnest places into as many pieces as fit, and joins of close neighbours."""
    small, scale, origin, turn, seen = _scaled_ink(image)
    minus = _minus(small)
    if minus is not None:  # (its ink is no digit's part; ``marks`` reads it)
        small[minus] = 0.0
    binary = small > 0.25
    groups = _groups(binary)
    if not groups:
        raise NoDigitError("no digits found: the image is blank")
    heights = [int(np.ptp(np.flatnonzero(g.mask.any(axis=1)))) + 1 for g in groups]
    height = max(heights)
    high = [i for i, h in enumerate(heights) if h >= LABEL_HEIGHT * height]
    first, last = high[0], high[-1]
    gap = LABEL_GAP * height
    if first > 0 and groups[first].left - groups[first - 1].right < gap:
        first = 0  # (close to the digits: a part of one)
    if last < len(groups) - 1 and groups[last + 1].left - groups[last].right < gap:
        last = len(groups) - 1
    if (first, last) != (0, len(groups) - 1):  # a label before the number or after it: out
        for g in groups[:first] + groups[last + 1:]:
            small[:, g.left:g.right][g.mask] = 0.0
        groups = groups[first:last + 1]
        binary = small > 0.25  # (the pen's width is the digits' alone)
    groups, aside = _set_aside(small, groups, height)
    if aside is not None:
        binary = small > 0.25
    # the lattice's nodes, left to right: each group's start, then each place where
    # that group may be cut; the last node is the end of the writing
    pen = stroke_width(binary)  # the pen's width in pixels
    places = [_places(small, g, height, pen) if g.right - g.left > SPLIT_ASPECT[0] * height else []
              for g in groups]
    first = np.cumsum([0] + [1 + len(p) for p in places]).tolist()  # each group's node
    lat = Lattice(small, scale, origin, height, groups, first[-1] + 1, {}, {}, {}, turn, seen, aside, minus)
    for i, group in enumerate(groups):
        lat.pieces[(first[i], first[i + 1])] = group
        lat.kind[(first[i], first[i + 1])] = WHOLE
        if places[i]:
            _add_cuts(lat, group, places[i], first[i], first[i + 1])
        _add_joins(lat, groups, i, first)
    return lat


def _minus(small):
    """The ink of a minus written before the number ("-42"), or None: the leftmost
    component of ``small`` (specks aside), where it is a dash across the middle of the
    band of the digit-high ones (DASH_THICK, DIGIT_HIGH) and ends before any other begins,
    at most MINUS_GAP of the band before it."""
    labels = label(small > 0.25)
    areas = np.bincount(labels.ravel())
    least = max(6, 0.01 * areas[1:].max(initial=0))
    found = sorted((left, right, t, b, k) for k, t, b, left, right in _boxes(labels) if areas[k] >= least)
    if len(found) < 2:
        return None
    tallest = max(b[3] - b[2] for b in found)
    digits = [b for b in found if b[3] - b[2] >= DIGIT_HIGH * tallest]
    left, right, t, b, k = found[0]
    if found[0] in digits:
        return None
    top, base = float(np.median([d[2] for d in digits])), float(np.median([d[3] for d in digits]))
    band, after = base - top, min(other[0] for other in found[1:])
    if (b - t <= DASH_THICK * band and right - left >= 2 * (b - t)
            and top + 0.25 * band <= (t + b) / 2 <= top + 0.75 * band
            and 0 <= after - right <= MINUS_GAP * band):
        return labels == k
    return None


def _set_aside(small, groups, height):
    """``groups`` less the dashes and points standing alone between digits (FLAT), whose
    ink goes from ``small`` to the mask returned (None if there are none)."""
    rows = [np.flatnonzero(g.mask.any(axis=1)) for g in groups]
    top = min(int(r[0]) for r in rows)
    flat = [0 < i < len(groups) - 1 and r[-1] - r[0] + 1 < FLAT * height and r[0] >= top + FLAT_TOP * height
            for i, r in enumerate(rows)]
    if not any(flat):
        return groups, None
    aside = np.zeros(small.shape, bool)
    for g, f in zip(groups, flat):
        if f:
            aside[:, g.left:g.right] |= g.mask
    small[aside] = 0.0
    return [g for g, f in zip(groups, flat) if not f], aside


class MarkPiece(NamedTuple):
    """A point, comma, colon or dash between digits (``marks``): its text and its ink, as a
    Piece's: columns of ``Lattice.small`` and its pixels there."""
    text: str
    left: int
    right: int
    mask: np.ndarray


def marks(lat) -> list[MarkPiece]:
    """The points, commas, colons and dashes written between the digits of ``lat``, and a
    minus before them (``_minus``), left to right (see MARK_SIZE). The digits are read
    without regard to them."""
    binary = lat.small > 0.25
    labels = label(binary if lat.aside is None else binary | lat.aside)
    pieces = _boxes(labels)
    digits = [b for b in pieces if b[2] - b[1] >= DIGIT_HIGH * lat.height]
    if not digits:
        return []
    top = float(np.median([b[1] for b in digits]))
    base = float(np.median([b[2] for b in digits]))
    band = base - top
    between = [(k, t, b, left, right) for k, t, b, left, right in pieces
               if b - t < DIGIT_HIGH * lat.height and max(b - t, right - left) >= MARK_MIN * band
               and not any(d[3] <= (left + right) / 2 < d[4] for d in digits)  # in a digit's columns
               and any(d[4] <= (left + right) / 2 for d in digits)
               and any(d[3] > (left + right) / 2 for d in digits)]
    points = [m for m in between if max(m[2] - m[1], m[4] - m[3]) <= MARK_SIZE * band]
    found = []
    for piece in between:
        k, t, b, left, right = piece
        h, w, centre = b - t, right - left, (t + b) / 2
        text, ink = None, [k]
        if h <= COMMA_HIGH * band and w <= MARK_SIZE * band and centre >= top + 2 / 3 * band:
            if h > 1.3 * w and b > base + 0.08 * band:
                text = ","
            elif h <= MARK_SIZE * band:
                above = _point_above(points, piece, top, band)
                text, ink = (".", ink) if above is None else (":", ink + [above[0]])
                left, right = (left, right) if above is None else (min(left, above[3]), max(right, above[4]))
        elif (h <= DASH_THICK * band and w >= 2 * h
              and top + 0.25 * band <= centre <= top + 0.75 * band):
            text = "-"
        if text is not None:
            found.append(MarkPiece(text, int(left), int(right), np.isin(labels[:, left:right], ink)))
    if lat.minus is not None:
        cols = np.flatnonzero(lat.minus.any(axis=0))
        left, right = int(cols[0]), int(cols[-1]) + 1
        found.append(MarkPiece("-", left, right, lat.minus[:, left:right]))
    return sorted(found, key=lambda m: m.left)


def _point_above(points, point, top, band):
    """The point above ``point`` that makes a colon with it (COLON_UP): one in the upper
    two thirds of the band, its centre over ``point``'s columns; None if there is none."""
    _, t, _, left, right = point
    slack = (right - left) / 2
    for other in points:
        _, ot, ob, ol, orr = other
        if (ob <= t and left - slack <= (ol + orr) / 2 <= right + slack  # above it, over it
                and top - COLON_UP * band <= (ot + ob) / 2 < top + 2 / 3 * band):
            return other
    return None


def _add_cuts(lat, group, places, start, end):
    """Add to ``lat`` each piece of ``group`` between two of its edges (its left edge,
    its cut ``places``, its right edge) as wide as a digit can be; cuts go straight down.
    A place is (where the piece to its left ends, where the one to its right starts):
    the same column, or either end of a bridge."""
    width = group.right - group.left
    columns = [(0, 0), *places, (width, width)]
    for a, b in combinations(range(len(columns)), 2):
        if (a, b) == (0, len(columns) - 1):
            continue  # the whole component
        left, right = columns[a][1], columns[b][0]
        if not CUT_MARGIN * lat.height <= right - left <= SPLIT_ASPECT[1] * lat.height:
            continue
        bridged = (columns[a][0] < left, right < columns[b][1])
        piece = _between(group, left, right, bridged[0])
        if piece is None:
            continue
        if len(lat.pieces) >= MAX_PIECES:
            raise ImageError(f"more than {MAX_PIECES} ways to cut this writing into "
                             "digits: not a number of up to 20 digits")
        key = (start + a, end if b == len(columns) - 1 else start + b)
        lat.pieces[key] = piece[0]
        if (a == 0 or bridged[0]) and (b == len(columns) - 1 or bridged[1]):
            lat.kind[key] = BRIDGED
        else:
            lat.kind[key], lat.severed[key] = CUT, piece[1]


def _add_joins(lat, groups, i, first):
    """Add to ``lat`` group ``i`` joined with the next one or two, where close."""
    gl, joined_right, joined_mask = groups[i]
    for j in range(i + 1, min(i + 3, len(groups))):
        nl, nr, nmask = groups[j]
        if nl - joined_right >= JOIN_GAP * lat.height:
            break
        joined_mask = _union(gl, joined_right, joined_mask, nl, nr, nmask)
        joined_right = max(joined_right, nr)
        key = (first[i], first[j + 1])
        lat.pieces[key], lat.kind[key] = Piece(gl, joined_right, joined_mask), JOINED


def _between(group, a, b, bridged=False):
    """The piece of ``group`` between its columns ``a`` and ``b`` (counted from its
    left edge), with the rows of ink cut at either side (none at the group's own
    edges; ``bridged``: the cut on the left went through the bridge that ends at ``a``):
    (Piece, (left rows, right rows)), or None if empty."""
    inside = group.mask[:, a:b]
    used = np.flatnonzero(inside.any(axis=0))
    if not len(used):
        return None
    width = group.mask.shape[1]
    cut = (int(group.mask[:, a - bridged].sum()) if a > 0 else 0,
           int(group.mask[:, b].sum()) if b < width else 0)
    left, right = int(used[0]), int(used[-1]) + 1
    # a copy, so that the piece does not keep the whole component's columns alive
    mask = inside[:, left:right].copy()
    return Piece(group.left + a + left, group.left + a + right, mask), cut


def _union(left, right, mask, other_left, other_right, other):
    """The mask of two pieces together, over the columns from ``left`` to the
    further right edge of the two (``other_left`` is not left of ``left``)."""
    joined = np.zeros((len(mask), max(right, other_right) - left), dtype=bool)
    joined[:, :right - left] = mask
    joined[:, other_left - left:other_right - left] |= other
    return joined


def _places(small, group, height, pen):
    """Where ``group`` may be cut: (left piece's end, right piece's start) columns, left
    to right; its thinnest columns (``_cut_places``), and its bridges (``bridges``)."""
    profile = (small[:, group.left:group.right] * group.mask).sum(axis=0)
    return sorted([(c, c) for c in _cut_places(profile, height)] + bridges(group.mask, height, pen))


def bridges(mask, height, pen):
    """The (start, end) columns of each ligature-like stroke of a component's ``mask``
    (``BRIDGE_THICK``, ``BRIDGE_MIN``), at least ``CUT_MARGIN`` of the height from
    either edge."""
    starts = mask.copy()
    starts[1:] &= ~mask[:-1]
    thin = (starts.sum(axis=0) == 1) & (mask.sum(axis=0) <= BRIDGE_THICK * pen)
    edges = np.diff(np.concatenate(([0], thin.astype(np.int8), [0])))
    margin = CUT_MARGIN * height
    return [(int(a), int(b)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
            if b - a >= BRIDGE_MIN * height and a >= margin and b <= len(thin) - margin]


def _cut_places(profile, height):
    """Columns where a piece may be touching digits: the thinnest local minima of its
    ink profile, CUTS for each height's worth of width, leaving each side at least a
    narrow digit's width."""
    width = len(profile)
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    margin = int(CUT_MARGIN * height)
    lo, hi = max(1, margin), min(width - 1, width - margin)
    if hi <= lo:
        return [width // 2]
    inner = smooth[lo:hi]
    minima = [lo + i for i in range(len(inner))
              if (i == 0 or inner[i] <= inner[i - 1]) and (i == len(inner) - 1 or inner[i] <= inner[i + 1])]
    minima.sort(key=lambda c: smooth[c])
    chosen: list = []
    for c in minima:
        if all(abs(c - other) > 2 for other in chosen):
            chosen.append(c)
        if len(chosen) >= CUTS * max(1, round(width / height)):
            break
    return sorted(chosen) or [width // 2]


def piece_ink(small, piece):
    """The piece's ink, with the faint anti-aliased edge around the strokes (one
    pixel beyond the mask): (LINE_HEIGHT, right - left) values."""
    left, right, mask = piece
    edge = mask.copy()
    edge[1:] |= mask[:-1]
    edge[:-1] |= mask[1:]
    edge[:, 1:] |= mask[:, :-1]
    edge[:, :-1] |= mask[:, 1:]
    return np.where(edge, small[:, left:right], 0.0)


def piece_image(small, piece):
    """The piece as the classifier expects it: its ink (``piece_ink``) in MNIST form
    (784 values)."""
    return ink_image(piece_ink(small, piece))


def ink_image(values):
    """A piece's ink (``piece_ink``) in MNIST form (784 values)."""
    if bounding_box(values, NOISE) is None:
        return np.zeros(784, np.float32)
    return fit_mnist(values)
