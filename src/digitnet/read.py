"""Read a written number, such as "504192", from one image.

As the first tutorial suggests: split the image into candidate digits, and let the
classifier judge the splits.

1. The ink is found as in ``data.preprocess`` and scaled so that the writing is
   about 64 pixels high.
2. Its connected components are found; specks are dropped, and components that
   stand over one another (the bar of a 5, the parts of a broken 4) are merged.
3. A component wider than a digit can be is tried whole and cut into two or three
   pieces at the thinnest columns near the expected places; each piece is classified
   and the split whose digits the network is surest of wins.
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
#: How much surer (in mean log-probability) the digits of a split must be than the whole.
SPLIT_PENALTY = 0.05
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

    candidates = []  # per group: list of alternative splits, each a list of (l, r, mask)
    for gl, gr, mask in groups:
        options = [[(gl, gr, mask)]]
        width = gr - gl
        if width > SPLIT_ASPECT[0] * height:
            profile = (small * mask)[:, gl:gr].sum(axis=0)
            for n in (2, 3):
                if width < SPLIT_ASPECT[n - 2] * height:
                    break
                cuts = [0, *_cuts(profile, n), width]
                options.append([(gl + a, gl + b, mask) for a, b in zip(cuts[:-1], cuts[1:])])
        candidates.append(options)

    pieces = [piece for options in candidates for option in options for piece in option]
    images = np.stack([_piece_image(small, piece) for piece in pieces])
    probabilities = model.confidences(images)
    scores = iter(probabilities)

    chosen = []
    for options in candidates:
        best, best_score = None, -np.inf
        for option in options:
            probs = [next(scores) for _ in option]
            score = float(np.mean([np.log(p.max() + 1e-12) for p in probs]))
            if len(option) > 1:
                score -= SPLIT_PENALTY * (len(option) - 1)  # a split must earn its keep
            if score > best_score:
                best, best_score = list(zip(option, probs)), score
        chosen.extend(best)
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
