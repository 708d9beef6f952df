"""A pen lying on the page, or a long straight stroke beside the writing: what is read.

    python -m benchmarks.bench_strays --split validation   # tune on this
    python -m benchmarks.bench_strays --split test         # the frozen held-out sets

People photograph a note with the pen they wrote it with lying on it, or a page with a
ruler's line, a crossing-out or a crease beside the number. Single digits are answered as
``digitnet predict`` answers them, numbers (2 to 6 digits written apart, a pair touching
in three in ten) as ``digitnet read``. The families, made from the split's MNIST digits in
a pen's hand (``realworld.pen_ink`` / ``number_ink``):

- ``pen`` / ``pen-number``: a pen lying beside the writing, 3-8 times as long as the
  writing is high and 0.25-0.6 as broad, darker or lighter than the ink, a lighter band
  along it (its shine), at any angle, clear of the writing by 0.3-1 of its height;
  photographed;
- ``line`` / ``line-number``: a straight stroke of the writing's pen, 2.5-6 times as long
  as the writing is high, beside it; half scanned, half photographed;
- in the test split only, never tuned on: ``pencil`` / ``pencil-number``: a pencil, 0.15-0.3
  as broad as the writing is high and 4-10 times as long, grey, its tip sharpened to a
  point; photographed.

Each picture has its own random state (split, family, index). The test sets are frozen:
``FROZEN`` holds the SHA-256 of each family's pictures, checked on every run (made before
they were read).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 7601, "test": 7602}
FAMILIES = {"validation": ("pen", "pen-number", "line", "line-number"),
            "test": ("pen", "pen-number", "line", "line-number", "pencil", "pencil-number")}
SINGLES = 200
NUMBERS = 100
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "pen": "d8f7bc164cb9f76e293859662a417b59fd02e8823c312b71ef79d4c613457e7d",
        "pen-number": "4f7d8d207e53816f5ca96f6daccd301b5e903b3e046b42a000da124703f72f8e",
        "line": "7fe368c306d063abf7a9514d3fe21e2df914e681393704ba03d91f6a659d0293",
        "line-number": "ceb439d9be2e84504165fa43f479aa8d0156fbbb92b828c7d69b186a909827f0",
    },
    "test": {
        "pen": "2960e96c129c1ce34dc80aaaee1c848adf9ecfb9989910c8c3607e556caf2af7",
        "pen-number": "54004e79405dda88578b9ce4a954dc043502c554ad7b2365700114715379df29",
        "line": "ef165f4370c46b21bf8a57e5bf1ac50eddcc3d48c5ed0fbdbc5d6220b29bd9d5",
        "line-number": "0d38626c376a3c1eaa05dd7db4e0fbbaf900001f76f8e461e4f7c0d74b338ebf",
        "pencil": "a1e234e44e41afcbb9501068ddf21d456d13ac4224c0d1b32eb797eb42745b2a",
        "pencil-number": "ba4bd8bc47146b9d1b9df47de6e9e5a7fe86422ebccdbe03652c03ca99452309",
    },
}


def _with_object(alpha, rng, kind):
    """``alpha`` (the writing's ink) on a page with a pen, a line or a pencil beside it."""
    from PIL import Image, ImageDraw

    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    height = rows[-1] - rows[0] + 1
    long, broad = {"pen": ((3, 8), (0.25, 0.6)), "line": ((2.5, 6), None),
                   "pencil": ((4, 10), (0.15, 0.3))}[kind]
    length = height * rng.uniform(*long)
    width = height * rng.uniform(*broad) if broad else max(2.0, height * rng.uniform(0.07, 0.11))
    angle = rng.uniform(-80, 80) if rng.random() < 0.8 else rng.uniform(80, 100)
    direction = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    # the object's centre: beside the writing (right, below or left), clear of it
    h, w = alpha.shape
    clear = height * rng.uniform(0.3, 1.0)
    half = np.abs(direction) * length / 2 + width
    side = rng.choice(["right", "below", "left"])
    if side == "right":
        centre = np.array([w + clear + half[0], h / 2 + rng.uniform(-0.5, 0.5) * height])
    elif side == "left":
        centre = np.array([-clear - half[0], h / 2 + rng.uniform(-0.5, 0.5) * height])
    else:
        centre = np.array([w / 2 + rng.uniform(-0.5, 0.5) * w, h + clear + half[1]])
    ends = [centre - direction * length / 2, centre + direction * length / 2]
    lo = np.minimum(np.minimum(*ends) - width, [0, 0])
    hi = np.maximum(np.maximum(*ends) + width, [w, h])
    shift = -lo + 4
    page = np.zeros((int(hi[1] - lo[1]) + 8, int(hi[0] - lo[0]) + 8), np.float32)
    page[int(shift[1]):int(shift[1]) + h, int(shift[0]):int(shift[0]) + w] = alpha
    thing = Image.new("F", page.shape[::-1], 0.0)
    draw = ImageDraw.Draw(thing)
    a, b = (tuple(e + shift) for e in ends)
    if kind == "line":
        draw.line([a, b], fill=float(alpha.max()), width=int(round(width)))
    else:
        level = rng.uniform(0.55, 1.0) if kind == "pen" else rng.uniform(0.35, 0.6)
        if kind == "pencil":  # the sharpened tip: a cone to a point over two widths
            tip = np.array(b) - direction * 2 * width
            draw.line([a, tuple(tip)], fill=level, width=int(round(width)))
            normal = np.array([-direction[1], direction[0]]) * width / 2
            draw.polygon([tuple(tip + normal), tuple(tip - normal), b], fill=level)
        else:
            draw.line([a, b], fill=level, width=int(round(width)))
            draw.line([a, b], fill=level * 0.6, width=max(1, int(round(width * 0.2))))  # its shine
    np.maximum(page, np.asarray(thing), out=page)
    return page


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray):
    """Picture ``index`` of ``family``: (encoded bytes, label)."""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    kind = family.split("-")[0]
    alpha, label = realworld.writing_ink(family.endswith("-number"), rng, digits_x, digits_y)
    page = _with_object(alpha, rng, kind)
    if kind == "line" and rng.random() < 0.5:
        return realworld.scan(page, rng, digit_fraction=(0.7, 0.9)), label
    return realworld.photo(page, rng, digit_fraction=(0.6, 0.85)), label


pictures = family_pictures(make, SINGLES, NUMBERS)


def main(argv=None):
    return run_families("bench_strays", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
