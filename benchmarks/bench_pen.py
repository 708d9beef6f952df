"""Digits and numbers in a hand that is not MNIST's: a pen's strokes, drawn.

    python -m benchmarks.bench_pen --split validation   # check on this
    python -m benchmarks.bench_pen --split test         # the frozen held-out sets

Every other benchmark writes MNIST's digits, so a hand unlike MNIST's is never read. Here
each digit is drawn as a pen draws it, from strokes (``GLYPHS``: two or three shapes of
each digit, such as a 1 with or without its flag, a 4 open or closed, a 7 with or without
its bar), each point moved a little, in a pen 1/16 to 1/7 of the writing's height broad,
each digit 0.45-0.75 of that height wide, slanted as the number is (-0.1 to 0.3) give or
take a little, its size and baseline varying by a few percent. The families:

- ``single``: one digit (answered as ``digitnet predict`` answers it);
- ``apart-number``: 2-6 digits, 0.1-0.4 of the height apart;
- ``touching-number``: the same, one pair of neighbours touching or overlapping by up to
  0.12 of the height;
- ``overlapped-number``: every neighbour touching or overlapping, by up to 0.1 of the height;
- in the test split only, never looked at before it was frozen: ``crowded-number``: every
  neighbour overlapping by 0.08-0.2 of the height (a quarter of a digit's width), and
  ``joined-number``: digits apart, some joined by a pen's stroke (a foot run on into the
  next digit, a top bar run on, a stroke from low on one digit up into the next).
  (Crowded writing made with the validation split's seed has been tuned on since issue
  23's twenty-ninth pass, ``tune_sequence --pen-crowded``; the frozen test family never.)

Half of each family is scanned on white (``realworld.scan``), half photographed on paper
(``realworld.photo``). Each picture has its own random state (split, family, index). The
digits are not MNIST's, so the two splits differ only in that state and in the test-only
families; nothing in ``read`` was tuned on either (its constants are chosen on numbers of
MNIST validation digits). The test sets are frozen: ``FROZEN`` holds the SHA-256 of each
family's pictures, checked on every run (made before they were read).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 7701, "test": 7702}
FAMILIES = {"validation": ("single", "apart-number", "touching-number", "overlapped-number"),
            "test": ("single", "apart-number", "touching-number", "overlapped-number",
                     "crowded-number", "joined-number")}
SINGLES = 200
NUMBERS = 200
#: SHA-256 of each family's pictures (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "single": "4965feacd3efe2b8ba663f25578250aaedd40846e616e2c4bc49d2a8b0f26e0b",
        "apart-number": "a25b31d130ac7a02bc65616e506f842e8d1ef54ca52526f73462f7aac549a865",
        "touching-number": "cd2738105968b1f60101939f6e8edebba948c4ffa6c95ebd30353a73e440e0b5",
        "overlapped-number": "2d6c649649ab94f897eed883f1f4242e31356ec5c692f43048d8289dc9749259",
    },
    "test": {
        "single": "d554e086cd9e1b63d91ddfd8f2f542ff8ebb6b45c45f09107db59ab6694bc17e",
        "apart-number": "bcb03e0d1b90826129cd49924e5d1afaffb31a5a2a9e8da4396fe329931d05f7",
        "touching-number": "d33bf3a5a73b5097fb1de50d27718db9036e0b84c60c45ec3e382367d0afe97a",
        "overlapped-number": "76a3e7a6e20603458036e58a98e57182bd7a67ae3ef1603f9c0fe99ccda1a9e5",
        "crowded-number": "b835bfc84088e9edd2d172d2155ea801417f3d21e9d1ca3a1695458c6b408ada",
        "joined-number": "2d30b5b7c1d2ed2c2b29f3067aa516e4f179f694549831a84acc790fd703271e",
    },
}
#: How much larger the strokes are drawn than they are kept (antialiasing).
SUPER = 4


def _arc(cx, cy, rx, ry, a0, a1, n=16):
    t = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * np.cos(u), cy - ry * np.sin(u)) for u in t]


#: Each digit's shapes: a list of strokes, each a polyline in a box 1 wide and 1 high
#: (y down).
GLYPHS = {
    0: [[_arc(0.5, 0.5, 0.5, 0.5, 90, 450, 32)],
        [_arc(0.5, 0.5, 0.42, 0.5, 100, 470, 32)]],
    1: [[[(0.3, 0.2), (0.6, 0.0), (0.6, 1.0)]],
        [[(0.55, 0.0), (0.5, 1.0)]],
        [[(0.3, 0.2), (0.6, 0.0), (0.6, 1.0)], [(0.3, 1.0), (0.9, 1.0)]]],
    2: [[_arc(0.5, 0.28, 0.5, 0.28, 160, -30) + [(0.0, 1.0), (1.0, 1.0)]],
        [_arc(0.5, 0.3, 0.45, 0.3, 150, -20) + [(0.05, 0.95)] + _arc(0.2, 0.88, 0.12, 0.12, 200, 20, 8)
         + [(1.0, 0.97)]]],
    3: [[_arc(0.5, 0.25, 0.45, 0.25, 150, -90) + _arc(0.5, 0.73, 0.5, 0.27, 90, -150)],
        [[(0.05, 0.0), (0.9, 0.0), (0.4, 0.42)] + _arc(0.5, 0.7, 0.48, 0.3, 100, -150)]],
    4: [[[(0.7, 1.0), (0.7, 0.0), (0.0, 0.68), (1.0, 0.68)]],
        [[(0.1, 0.0), (0.05, 0.62), (1.0, 0.62)], [(0.75, 0.05), (0.72, 1.0)]]],
    5: [[[(0.95, 0.0), (0.15, 0.0), (0.1, 0.45)] + _arc(0.5, 0.7, 0.5, 0.3, 135, -150)],
        [[(0.15, 0.02), (0.1, 0.45)] + _arc(0.5, 0.7, 0.5, 0.3, 135, -150), [(0.15, 0.02), (0.95, 0.0)]]],
    6: [[[(0.8, 0.0)] + _arc(0.5, 0.7, 0.5, 0.3, 170, 530, 30)],
        [_arc(0.9, 0.55, 0.85, 0.55, 110, 180, 8) + _arc(0.5, 0.72, 0.45, 0.28, 180, 540, 28)]],
    7: [[[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
        [[(0.0, 0.05), (1.0, 0.0), (0.4, 1.0)], [(0.3, 0.5), (0.9, 0.5)]]],
    8: [[_arc(0.5, 0.25, 0.42, 0.25, 270, 630, 24), _arc(0.5, 0.74, 0.5, 0.26, 90, 450, 24)],
        [_arc(0.5, 0.24, 0.38, 0.24, 300, 660, 24) + _arc(0.5, 0.74, 0.48, 0.26, 120, -240, 24)]],
    9: [[_arc(0.5, 0.3, 0.5, 0.3, 10, 370, 30) + [(0.95, 1.0)]],
        [_arc(0.5, 0.3, 0.48, 0.3, 0, 360, 30) + _arc(0.3, 0.3, 0.7, 0.7, 0, -70, 10)]],
}


def _strokes(digit: int, rng):
    """One shape of ``digit``, each point moved a little: a list of (n, 2) arrays."""
    shapes = GLYPHS[digit]
    shape = shapes[int(rng.integers(len(shapes)))]
    # the whole shape squeezed or stretched a little, then each point moved
    a = np.array([[1 + rng.normal(0, 0.05), rng.normal(0, 0.04)],
                  [rng.normal(0, 0.03), 1 + rng.normal(0, 0.03)]])
    return [np.asarray(s) @ a.T + rng.normal(0, 0.012, (len(s), 2)) for s in shape]


def _joins(kind: str, left, right, height, width):
    """A pen's stroke from digit ``left`` to the next at ``right`` (each (x, top), the
    digit's box ``width`` wide): a polyline in pixels."""
    (xa, ta), (xb, tb) = left, right
    if kind == "feet":
        return [(xa + 0.9 * width, ta + height), (xb + 0.15 * width, tb + height)]
    if kind == "bar":
        return [(xa + 0.9 * width, ta + 0.02 * height), (xb + 0.2 * width, tb + 0.02 * height)]
    return [(xa + 0.85 * width, ta + 0.8 * height), (xb + 0.15 * width, tb + 0.45 * height)]


def written(digits, rng, gaps, joins=()):
    """The ink (an alpha map, float32 in [0, 1]) of ``digits`` written with a pen, each
    gap (in the writing's height; negative: overlapping) after its digit, ``joins`` a
    list of (index, kind) of digits joined to the next by a pen's stroke."""
    from PIL import Image, ImageDraw

    height = float(rng.uniform(40, 90)) * SUPER
    pen = max(2, int(height / rng.uniform(7, 16)))
    slant = float(rng.uniform(-0.1, 0.3))
    widths = [height * rng.uniform(0.45, 0.75) * (0.5 if d == 1 else 1.0) for d in digits]
    lefts = [pen * 2.0 + 0.3 * height]
    for width, gap in zip(widths, gaps):
        lefts.append(lefts[-1] + width + gap * height)
    size = (int(lefts[-1] + widths[-1] + 0.6 * height + pen * 4), int(height * 1.3 + pen * 4))
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    boxes = []
    for d, left, width in zip(digits, lefts, widths):
        h = height * rng.uniform(0.92, 1.05)
        top = pen * 2.0 + 0.1 * height + rng.normal(0, 0.03) * height
        s = slant + rng.normal(0, 0.03)
        boxes.append((left, top))
        for stroke in _strokes(int(d), rng):
            x = left + stroke[:, 0] * width + s * (1 - stroke[:, 1]) * h
            y = top + stroke[:, 1] * h
            draw.line(list(zip(x.tolist(), y.tolist())), fill=255, width=pen, joint="curve")
    for i, kind in joins:
        x0, top0 = boxes[i]
        x1, top1 = boxes[i + 1]
        draw.line(_joins(kind, (x0 + slant * 0.1 * height, top0), (x1 + slant * 0.5 * height, top1),
                         height, widths[i]), fill=255, width=pen)
    small = image.resize((max(1, size[0] // SUPER), max(1, size[1] // SUPER)), Image.Resampling.BOX)
    alpha = np.asarray(small, np.float32) / 255 * rng.uniform(0.85, 1.0)
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    return np.ascontiguousarray(alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])


def _number(family: str, rng):
    """The digits of a number of ``family``, its gaps and its joins."""
    k = 1 if family == "single" else int(rng.integers(2, 7))
    digits = [int(d) for d in rng.integers(0, 10, k)]
    gaps = [float(g) for g in rng.uniform(0.1, 0.4, k - 1)]
    joins = []
    if family == "touching-number":
        gaps[int(rng.integers(k - 1))] = float(rng.uniform(-0.12, 0.0))
    elif family == "overlapped-number":
        gaps = [float(g) for g in rng.uniform(-0.1, 0.0, k - 1)]
    elif family == "crowded-number":
        gaps = [float(g) for g in rng.uniform(-0.2, -0.08, k - 1)]
    elif family == "joined-number":
        kinds = ("feet", "bar", "low")
        joins = [(i, kinds[int(rng.integers(3))]) for i in range(k - 1) if rng.random() < 0.5] or \
            [(int(rng.integers(k - 1)), kinds[int(rng.integers(3))])]
    return digits, gaps, joins


def make(family: str, split: str, index: int, digits_x=None, digits_y=None):
    """Picture ``index`` of ``family``: (encoded bytes, label), the label a digit (int) or
    a number (str). (The MNIST digits of the split, which ``bench_photos.family_pictures``
    passes, are not used.)"""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    digits, gaps, joins = _number(family, rng)
    alpha = written(digits, rng, gaps, joins)
    label = "".join(str(d) for d in digits) if family.endswith("-number") else digits[0]
    if rng.random() < 0.5:
        return realworld.scan(alpha, rng, digit_fraction=(0.4, 0.8)), label
    if family == "single":
        return realworld.photo(alpha, rng), label
    w = int(rng.integers(640, 1201))
    frame = (int(w * rng.uniform(0.35, 0.75)), w)
    return realworld.photo(alpha, rng, digit_fraction=(0.1, 0.3), frame=frame), label


pictures = family_pictures(make, SINGLES, NUMBERS)


def main(argv=None):
    return run_families("bench_pen", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
