"""Read a written number, such as "504192", from one image.

As tutorial 1 suggests: split the image into candidate digits, and let the
classifier judge the splits.

1. The ink is found as in ``data.preprocess`` and scaled so that the writing is
   about 64 pixels high.
2. Its connected components are found; specks are dropped, and components that
   stand over one another (the bar of a 5, the parts of a broken 4) are merged.
3. The candidate digits: each component whole; a component wide enough to be
   touching digits, cut at every choice of its thinnest columns; close neighbours
   joined (a digit written in two strokes).
4. Every candidate is classified by the digit model and judged by a few small networks,
   averaged: is this piece one whole digit, or a part, or several? (They learned that
   from numbers composed of training digits: ``benchmarks/fit_reader.py``.)
5. The reading that chains candidates from left to right with the largest sum of
   log P(digit) + log P(whole) + DIGIT_BONUS, less CUT_COST for each piece cut out of
   a component, wins (dynamic programming).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from .data.preprocess import NOISE, bounding_box, fit_mnist, ink
from .errors import ImageError

LINE_HEIGHT = 64
#: Pieces wider than the first, relative to the height of the writing, may be
#: touching digits and are cut; no cut piece is wider than the second.
SPLIT_ASPECT = (0.55, 1.3)
#: Added to each digit's score: favours readings with more digits. CUT_COST is taken
#: from each piece cut out of a component: a cut must earn its place, so that a lone 9
#: is not read as the 0 of its loop and the 1 of its stem (nor a 2 as 22). Chosen on
#: numbers composed of validation digits, read with the ensemble trained without them,
#: as the setting furthest above both of the issue's floors (98% of separated numbers,
#: 90% with touching pairs): on 2,000 of each, 97.95% and 90.2% (3.0 and no cut cost,
#: before: 97.5% and 91.3%; 3.0 and 1.0: 97.9%, 90.45%; 2.5 and 1.0: 97.95%, 90.1%);
#: on 2,000 more of each, 98.25% and 91.1% (before: 97.9% and 92.35%). Separated numbers
#: gain less than touching ones lose, but on validation both now clear their floors (on
#: the test digits, measured once: 97.9% and 90.6%, before 97.8% and 92.2%); of 1,500
#: single validation digits, 1 is read as two (before: 3). (Previously, 3.0 was chosen as
#: reading the most numbers in total, with the judge of five networks, 4,000 validation
#: numbers: 97.7, 97.3, 91.3, 92.2% against 97.7, 97.5, 91.2, 91.9% with 2.75.)
DIGIT_BONUS = 3.5
CUT_COST = 1.5
#: A piece that may be touching digits may be cut at any of its CUTS thinnest places
#: per height's worth of width, each piece at least CUT_MARGIN of the height wide.
CUTS = 6
CUT_MARGIN = 0.1
#: Cuts may fall like a drop of water round the strokes, up to this far (relative to
#: the height) from where they start; 0 cuts straight down. On validation numbers
#: straight cuts read better (touching pairs 90.3% against 89.0% with 0.15).
DROP_REACH = 0.0
#: Neighbouring components closer than this (relative to the writing's height) may be
#: one digit in pieces (a 4 or a 5 written in two strokes): joining them is tried too.
JOIN_GAP = 0.15
#: Components overlapping horizontally by this much of the narrower are one digit.
MERGE_OVERLAP = 0.3
#: Components smaller than this fraction of the typical digit join their neighbour.
FRAGMENT = 0.2
#: Bounds on the work one image may ask for (each piece costs a classification and a
#: mask of its own columns): writing at most this many times wider than high, and at
#: most this many candidate pieces. Numbers of 20 digits composed of MNIST digits, all
#: touching, are up to 17 times wider than high and give up to 383 pieces; a thin line
#: 100 pixels long gave 2,340 pieces and a 10-second read before these bounds.
MAX_ASPECT = 40
MAX_PIECES = 1000


@dataclass
class Digit:
    digit: int
    confidence: float
    box: tuple  # (left, top, right, bottom) in the original image's pixels
    unsure: bool = False


@dataclass
class Reading:
    text: str
    digits: list = field(default_factory=list)
    confidence: float = 0.0

    def as_dict(self):
        return {"text": self.text, "confidence": self.confidence,
                "digits": [{"digit": d.digit, "confidence": d.confidence, "box": list(d.box),
                            "unsure": d.unsure} for d in self.digits]}


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
    dense = {}
    for i, (r, a, b) in enumerate(zip(run_rows.tolist(), starts_, ends_)):
        labels[r, a:b] = dense.setdefault(root(i), len(dense) + 1)
    return labels


def _groups(binary):
    """Column ranges [(left, right, mask)] of candidate digits, left to right."""
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
    merged = []
    for left, right, ks in parts:
        if merged:
            pl, pr, pk = merged[-1]
            overlap = min(pr, right) - max(pl, left)
            if overlap > MERGE_OVERLAP * min(pr - pl, right - left):
                merged[-1] = [min(pl, left), max(pr, right), pk | ks]
                continue
        merged.append([left, right, ks])
    # a fragment much smaller than the digits around it belongs to its nearest neighbour
    sizes = [areas[[k - 1 for k in ks]].sum() for _, _, ks in merged]
    typical = np.median(sizes)
    i = 0
    while len(merged) > 1 and i < len(merged):
        if sizes[i] < FRAGMENT * typical:
            left, right, ks = merged[i]
            gaps = [(left - merged[j][1]) if j < i else (merged[j][0] - right)
                    for j in (i - 1, i + 1) if 0 <= j < len(merged)]
            js = [j for j in (i - 1, i + 1) if 0 <= j < len(merged)]
            j = js[int(np.argmin(gaps))]
            a, b = sorted((i, j))
            merged[a] = [min(merged[a][0], merged[b][0]), max(merged[a][1], merged[b][1]),
                         merged[a][2] | merged[b][2]]
            sizes[a] += sizes[b]
            del merged[b], sizes[b]
            i = 0
            continue
        i += 1
    return [(left, right, np.isin(labels[:, left:right], list(ks))) for left, right, ks in merged]


@dataclass
class Lattice:
    """Every candidate digit of one image and the ways to chain them into a number.

    ``small`` is the ink scaled to ``LINE_HEIGHT`` rows; a piece is (left, right, mask):
    its columns of ``small``, and which pixels of ``small[:, left:right]`` are its ink.
    The nodes of the lattice are, left to right, the start of each group and each
    place where that group may be cut, then the end of the writing;
    ``transitions[i]`` lists (j, [piece]) for each candidate digit that reads from
    node i to node j; ``kind[key]`` says how a piece was made (0 a component as found,
    1 cut from a wider one, 2 close components joined); ``severed[key]`` how much ink
    its cuts went through."""
    small: np.ndarray
    scale: float
    origin: tuple  # (left, top) of ``small`` in the image's pixels
    height: int
    groups: list
    transitions: list
    pieces: dict
    kind: dict
    severed: dict  # key -> (rows of ink cut at the left edge, at the right), cut pieces only


def lattice(image) -> Lattice:
    """Find the candidate digits of ``image``: connected components, cuts of wide ones
    at their thinnest places into as many pieces as fit, and joins of close neighbours."""
    from PIL import Image

    values = ink(image)
    box = bounding_box(values)
    if box is None:
        raise ImageError("no digits found: the image is blank")
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
    binary = small > 0.25
    groups = _groups(binary)
    if not groups:
        raise ImageError("no digits found: the image is blank")
    height = max(np.ptp(np.flatnonzero(mask.any(axis=1))) + 1 for _, _, mask in groups)

    # the lattice's nodes, left to right: each group's start, then each place where
    # that group may be cut; the last node is the end of the writing
    places = [_cut_places((small[:, gl:gr] * mask).sum(axis=0), height)
              if gr - gl > SPLIT_ASPECT[0] * height else [] for gl, gr, mask in groups]
    first = np.cumsum([0] + [1 + len(p) for p in places]).tolist()  # each group's node
    transitions = [[] for _ in range(first[-1])]
    kind, severed = {}, {}
    for i, (gl, gr, mask) in enumerate(groups):
        start, end = first[i], first[i + 1]
        transitions[start].append((end, [(gl, gr, mask)]))
        kind[(gl, gr, id(mask))] = 0
        if places[i]:
            width, ink_here = gr - gl, mask
            # a cut is a column per row: straight down, or a drop falling round strokes
            paths = [np.full(len(ink_here), width)] + [
                _drop_fall(ink_here, c, int(DROP_REACH * height)) if DROP_REACH
                else np.full(len(ink_here), c) for c in places[i]]
            # a candidate between any two edges (the component's left edge, its cut
            # places, its right edge) as wide as a digit can be, from node to node
            edges = [-1, *range(len(places[i])), len(places[i])]
            columns = [0, *places[i], width]
            for a, b in combinations(range(len(edges)), 2):
                if (a, b) == (0, len(edges) - 1):
                    continue  # the whole component, above
                if not CUT_MARGIN * height <= columns[b] - columns[a] <= SPLIT_ASPECT[1] * height:
                    continue
                piece = _between(ink_here, paths, edges[a], edges[b], gl)
                if piece is None:
                    continue
                if len(kind) >= MAX_PIECES:
                    raise ImageError(f"more than {MAX_PIECES} ways to cut this writing into "
                                     "digits: not a number of up to 20 digits")
                transitions[start + a].append((end if b == len(edges) - 1 else start + b,
                                               [piece[:3]]))
                kind.setdefault(_key(piece), 1)
                severed[_key(piece)] = piece[3]
        joined_right, joined_mask = gr, mask
        for j in range(i + 1, min(i + 3, len(groups))):
            nl, nr, nmask = groups[j]
            if nl - joined_right >= JOIN_GAP * height:
                break
            joined_mask = _union(gl, joined_right, joined_mask, nl, nr, nmask)
            joined_right = max(joined_right, nr)
            transitions[start].append((first[j + 1], [(gl, joined_right, joined_mask)]))
            kind[(gl, joined_right, id(joined_mask))] = 2

    pieces = {}
    for options in transitions:
        for _, option in options:
            for piece in option:
                pieces.setdefault(_key(piece), piece)
    return Lattice(small, scale, (left, top), int(height), groups, transitions, pieces, kind,
                   severed)


def features(lat: Lattice, keys, probabilities):
    """What says whether a piece is one whole digit, beyond the classifier's
    confidence: its size against the writing's, how it was made, how much ink its
    cuts sever, and its shape for the digit the classifier sees in it. One row per key."""
    rows = []
    group_ink = np.median([float((lat.small[:, gl:gr] * m).sum()) for gl, gr, m in lat.groups])
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
                     float(region.sum()) / max(group_ink, 1e-6), lat.kind[key] == 1,
                     lat.kind[key] == 2, cut_left, cut_right, *p, *(digit * w)])
    return np.asarray(rows, dtype=np.float64)


def _drop_fall(ink, start, reach):
    """The column of a cut in each row of ``ink`` (rows x columns, boolean): a drop
    falling from the top at column ``start`` that slips diagonally past strokes
    (down, else down-left, else down-right) and cuts through ink only where walled in,
    never straying more than ``reach`` columns from where it started."""
    h, w = ink.shape
    lo, hi = max(1, start - reach), min(w - 1, start + reach)
    path = np.empty(h, dtype=np.int64)
    x = start
    for y in range(h):
        path[y] = x
        if y + 1 < h and ink[y + 1, x]:
            if x > lo and not ink[y + 1, x - 1]:
                x -= 1
            elif x < hi and not ink[y + 1, x + 1]:
                x += 1
    return path


def _between(ink, paths, a, b, offset):
    """The piece of a component between cut ``a`` and cut ``b`` (indices into
    ``paths``; -1 is the left edge, the last path the right): (left, right, mask,
    (ink rows cut at the left, at the right)), columns counted from ``offset``, the
    component's left edge, or None if empty."""
    columns = np.arange(ink.shape[1])
    inside = ink.copy()
    if a >= 0:
        inside &= columns >= paths[a + 1][:, None]
    if b < len(paths) - 1:
        inside &= columns < paths[b + 1][:, None]
    used = np.flatnonzero(inside.any(axis=0))
    if not len(used):
        return None
    rows = np.arange(len(ink))
    cut = [int(ink[rows, paths[i + 1]].sum()) if 0 <= i < len(paths) - 1 else 0 for i in (a, b)]
    left, right = int(used[0]), int(used[-1]) + 1
    # a copy, so that the piece does not keep the whole component's columns alive
    return offset + left, offset + right, inside[:, left:right].copy(), tuple(cut)


def _union(left, right, mask, other_left, other_right, other):
    """The mask of two pieces together, over the columns from ``left`` to the
    further right edge of the two (``other_left`` is not left of ``left``)."""
    joined = np.zeros((len(mask), max(right, other_right) - left), dtype=bool)
    joined[:, :right - left] = mask
    joined[:, other_left - left:other_right - left] |= other
    return joined


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
    chosen = []
    for c in minima:
        if all(abs(c - other) > 2 for other in chosen):
            chosen.append(c)
        if len(chosen) >= CUTS * max(1, round(width / height)):
            break
    return sorted(chosen) or [width // 2]


def read_number(image, model, min_confidence: float = 0.5, max_digits: int = 20) -> Reading:
    """Read the digits written in ``image`` (path, bytes or Pillow image).

    Every candidate digit is classified, and the chain of candidates with the best
    total score wins: each digit scores the log of the classifier's confidence plus
    the log-probability that the piece is one whole digit (judged from the
    piece's image and ``features`` by small networks trained on composed training
    numbers by ``benchmarks/fit_reader.py``, their probabilities averaged), plus
    ``DIGIT_BONUS``, less ``CUT_COST`` if the piece was cut out of a component.

    Returns a ``Reading`` with the digit string, each digit's box and confidence
    (``unsure`` when below ``min_confidence``) and the overall confidence (the
    product of the digits'). Raises ``ImageError`` for a blank image.
    """
    lat = lattice(image)
    keys = list(lat.pieces)
    images = np.stack([_piece_image(lat.small, lat.pieces[k]) for k in keys])
    probabilities = model.confidences(images)
    whole = _log_whole(images, features(lat, keys, probabilities))
    # the bonus and the cut cost balance the judge's doubts; without a judge neither is needed
    judged = whole_digit_model() is not None
    bonus = DIGIT_BONUS if judged else 0.0
    gains = {k: float(np.log(p.max() + 1e-12)) + bonus + lw
             - (CUT_COST if judged and lat.kind[k] == 1 else 0.0)
             for k, p, lw in zip(keys, probabilities, whole)}
    probability = dict(zip(keys, probabilities))

    # the best path through the transitions: the sum of the digits' gains
    best = [(-np.inf, None)] * (len(lat.transitions) + 1)
    best[0] = (0.0, [])
    for i in range(len(lat.transitions)):
        score, path = best[i]
        if path is None:
            continue
        for j, option in lat.transitions[i]:
            gain = sum(gains[_key(p)] for p in option)
            if score + gain > best[j][0]:
                best[j] = (score + gain, path + [(p, probability[_key(p)]) for p in option])
    chosen = best[-1][1]
    if len(chosen) > max_digits:
        raise ImageError(f"found {len(chosen)} digits, more than the {max_digits} digitnet reads")

    digits = []
    left, top = lat.origin
    for (pl, pr, mask), p in chosen:
        rows = np.flatnonzero(mask.any(axis=1))
        box = (left + pl / lat.scale, top + rows[0] / lat.scale, left + pr / lat.scale,
               top + (rows[-1] + 1) / lat.scale)
        digit = int(p.argmax())
        conf = float(p[digit])
        digits.append(Digit(digit, conf, tuple(int(round(v)) for v in box), conf < min_confidence))
    confidence = float(np.prod([d.confidence for d in digits]))
    return Reading("".join(str(d.digit) for d in digits), digits, confidence)


def not_a_digit_reader(model):
    """Why ``read`` cannot use ``model`` (it scores pieces by the probabilities of the
    ten digits), e.g. "2 outputs"; None if it can."""
    from .io import DIGITS, class_names

    if class_names(model) == DIGITS:
        return None
    return (f"{model.n_outputs} outputs" if model.n_outputs != 10
            else "the classes " + ", ".join(class_names(model)))


def _log_whole(images, rows):
    """log P(whole digit | piece image, features) from the shipped whole-digit judge
    (models/reader.npz, trained by ``benchmarks/fit_reader.py``); 0 without one."""
    model = whole_digit_model()
    if model is None:
        return np.zeros(len(rows))
    p = model.predict_proba(np.hstack([images, rows]))
    return np.log(p[:, 1].astype(np.float64) + 1e-12)


_WHOLE = []


def whole_digit_model():
    """The judge of whether a piece is one whole digit (an ensemble of small
    networks), or None."""
    if not _WHOLE:
        from importlib import resources

        from .io import load_model

        path = resources.files("digitnet") / "models" / "reader.npz"
        _WHOLE.append(load_model(path) if path.is_file() else None)
    return _WHOLE[0]


def _key(piece):
    return piece[0], piece[1], id(piece[2])


def _piece_image(small, piece):
    """The piece as the classifier expects it: its ink, with the faint anti-aliased
    edge around the strokes (one pixel beyond the mask), in MNIST form."""
    left, right, mask = piece
    edge = mask.copy()
    edge[1:] |= mask[:-1]
    edge[:-1] |= mask[1:]
    edge[:, 1:] |= mask[:, :-1]
    edge[:, :-1] |= mask[:, 1:]
    values = np.where(edge, small[:, left:right], 0.0)
    if bounding_box(values, NOISE) is None:
        return np.zeros(784, np.float32)
    return fit_mnist(values)
