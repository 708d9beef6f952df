"""Read a written number, such as "504192", from one image.

As the first tutorial suggests: split the image into candidate digits, and let the
classifier judge the splits.

1. The ink is found as in ``data.preprocess`` and scaled so that the writing is
   about 64 pixels high.
2. Its connected components are found; specks are dropped, and components that
   stand over one another (the bar of a 5, the parts of a broken 4) are merged.
3. A component wide enough to be two or three touching digits is tried whole and cut
   at the thinnest columns near the expected places; every piece is classified, and
   the reading whose digits the network is surest of (the largest sum of their
   log-probabilities, found by dynamic programming) wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data.preprocess import NOISE, bounding_box, fit_mnist, ink
from .errors import ImageError

LINE_HEIGHT = 64
#: Pieces wider than this, relative to the height of the writing, may be two or
#: three touching digits: their splits are tried too.
SPLIT_ASPECT = (0.55, 1.3)
#: Added to each digit's log-probability in a reading's score (tuned on validation
#: numbers: 0 is best; above it halves of one digit win, below it pairs stay joined).
DIGIT_BONUS = 0.0
#: Neighbouring components closer than this (relative to the writing's height) may be
#: one digit in pieces, and the classifier decides; 0 (tuned on validation) leaves only
#: those that overlap.
MERGE_GAP = 0.0
#: Components overlapping horizontally by this much of the narrower are one digit.
MERGE_OVERLAP = 0.3
#: Components smaller than this fraction of the typical digit join their neighbour.
FRAGMENT = 0.35


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
    """Connected components (8-neighbourhood) of a boolean image: labels, 0 = none.
    Propagates the smallest label through each component, whole image at a time."""
    h, w = binary.shape
    big = np.iinfo(np.int64).max
    labels = np.where(binary, np.arange(1, h * w + 1).reshape(h, w), big)
    while True:
        padded = np.pad(labels, 1, constant_values=big)
        smallest = labels.copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                np.minimum(smallest, padded[dy:dy + h, dx:dx + w], out=smallest)
        smallest[~binary] = big
        if np.array_equal(smallest, labels):
            break
        labels = smallest
    labels[~binary] = 0
    _, dense = np.unique(labels, return_inverse=True)
    return dense.reshape(h, w)


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
    return [(left, right, np.isin(labels, list(ks))) for left, right, ks in merged]


def _cuts(profile, n):
    """Columns splitting a piece into ``n`` parts at the thinnest places near the
    evenly spaced positions."""
    width = len(profile)
    cuts = []
    for i in range(1, n):
        centre = i * width // n
        window = max(2, width // (3 * n))
        lo, hi = max(1, centre - window), min(width - 1, centre + window)
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    return cuts


def read_number(image, model, min_confidence: float = 0.5, max_digits: int = 20) -> Reading:
    """Read the digits written in ``image`` (path, bytes or Pillow image).

    Returns a ``Reading`` with the digit string, each digit's box and confidence
    (``unsure`` when below ``min_confidence``) and the overall confidence (the
    product of the digits'). Raises ``ImageError`` for a blank image.
    """
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
    small = np.array(Image.fromarray(crop, "F").resize(size, Image.Resampling.BOX), dtype=np.float32)
    small /= max(float(small.max()), 1e-6)
    binary = small > 0.25
    groups = _groups(binary)
    if not groups:
        raise ImageError("no digits found: the image is blank")
    height = max(np.ptp(np.flatnonzero(mask.any(axis=1))) + 1 for _, _, mask in groups)

    # Every way to turn groups i..j-1 into digits: a group whole, a group cut into two
    # or three, or two neighbouring groups joined (the parts of one broken digit).
    transitions = [[] for _ in groups]
    for i, (gl, gr, mask) in enumerate(groups):
        transitions[i].append((i + 1, [(gl, gr, mask)]))
        width = gr - gl
        if width > SPLIT_ASPECT[0] * height:
            profile = (small * mask)[:, gl:gr].sum(axis=0)
            for n in (2, 3):
                if width < SPLIT_ASPECT[n - 2] * height:
                    break
                cuts = [0, *_cuts(profile, n), width]
                transitions[i].append((i + 1, [(gl + a, gl + b, mask)
                                               for a, b in zip(cuts[:-1], cuts[1:])]))
        if i + 1 < len(groups) and groups[i + 1][0] - gr < MERGE_GAP * height:
            nl, nr, nmask = groups[i + 1]
            transitions[i].append((i + 2, [(gl, max(gr, nr), mask | nmask)]))

    pieces = {}
    for options in transitions:
        for _, option in options:
            for piece in option:
                pieces.setdefault((piece[0], piece[1], id(piece[2])), piece)
    keys = list(pieces)
    probabilities = model.confidences(np.stack([_piece_image(small, pieces[k]) for k in keys]))
    probability = dict(zip(keys, probabilities))

    # the best path through the transitions: most sure digits, each earning DIGIT_BONUS
    best = [(-np.inf, None)] * (len(groups) + 1)
    best[0] = (0.0, [])
    for i in range(len(groups)):
        score, path = best[i]
        if path is None:
            continue
        for j, option in transitions[i]:
            probs = [probability[(p[0], p[1], id(p[2]))] for p in option]
            gain = sum(float(np.log(p.max() + 1e-12)) + DIGIT_BONUS for p in probs)
            if score + gain > best[j][0]:
                best[j] = (score + gain, path + list(zip(option, probs)))
    chosen = best[-1][1]
    if len(chosen) > max_digits:
        raise ImageError(f"found {len(chosen)} digits, more than the {max_digits} digitnet reads")

    digits = []
    for (pl, pr, mask), p in chosen:
        rows = np.flatnonzero(mask[:, pl:pr].any(axis=1))
        box = (left + pl / scale, top + rows[0] / scale, left + pr / scale, top + (rows[-1] + 1) / scale)
        digit = int(p.argmax())
        conf = float(p[digit])
        digits.append(Digit(digit, conf, tuple(int(round(v)) for v in box), conf < min_confidence))
    confidence = float(np.prod([d.confidence for d in digits]))
    return Reading("".join(str(d.digit) for d in digits), digits, confidence)


def _piece_image(small, piece):
    left, right, mask = piece
    values = np.where(mask, small, 0.0)[:, left:right]
    if bounding_box(values, NOISE) is None:
        return np.zeros(784, np.float32)
    return fit_mnist(values)
