"""Glossy paper under a lamp, and thin paper: a glare, or writing showing through.

    python -m benchmarks.bench_glare --split validation   # tune on this
    python -m benchmarks.bench_glare --split test         # the frozen held-out sets

A phone held over a page under a lamp catches the lamp's reflection: a bright spot that
washes out the ink beneath it; thin paper shows what is written on its back, mirrored and
blurred. Single digits are answered as ``digitnet predict`` answers them, numbers (2 to 6
digits written apart, a pair touching in three in ten) as ``digitnet read``. The families,
made from the split's MNIST digits in a pen's hand (``realworld.pen_ink`` /
``number_ink``), photographed (``realworld``'s paper, ink and lighting):

- ``glare`` / ``glare-number``: a lamp's reflection, a round or oval bright spot 5-15% of
  the frame's width across, brightening the page towards white by 30-70% at its centre;
  on the writing in four pictures in five, anywhere in the others;
- ``through`` / ``through-number``: a number written on the back of the page, mirrored,
  blurred by the paper, 8-22% as dark as the ink, anywhere on the page;
- in the test split only, never tuned on: ``sheen`` / ``sheen-number``: a window's
  reflection, a long soft band (3-8 times as long as broad, at any angle) brightening the
  page by 25-60% across the writing.

Each picture has its own random state (split, family, index). The test sets are frozen:
``FROZEN`` holds the SHA-256 of each family's pictures, checked on every run (made before
they were read).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 8801, "test": 8802}
FAMILIES = {"validation": ("glare", "glare-number", "through", "through-number"),
            "test": ("glare", "glare-number", "through", "through-number", "sheen", "sheen-number")}
SINGLES = 200
NUMBERS = 100
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "glare": "c81635c3b8ca2950d6f4bd668e3919365f61051a0e1c3b72950543c49913fefe",
        "glare-number": "253bcf00a9885381e281bbf11bf0a8f86b5b055d5782d7a8d79bf3e4b0685a8b",
        "through": "597035c2273730ca7338fc7903e81bfc96b289753dc1a76e51aa99fbb46e5c67",
        "through-number": "e48befcdf68ede5353e425dd6b4a5f1a764a2c40cd38b1d851d21982e492f27b",
    },
    "test": {
        "glare": "8ba898339a0ae79ec94c28fb4778b7fdc0863d33ecf9ab30f7573129ee203eab",
        "glare-number": "f5f4851e2d58822618c16d98885cb5f6fd1ed3a2d363c6e2207e13bcce4abc42",
        "through": "d8ea6e213fdcfe3d5dc85cabddef1702676ead96787b3ccd47bc0ec0f90b96aa",
        "through-number": "8df98199ffecd83f80844d6565311a6f4c13f4355bf4df0cd4f2b9252bf69e9b",
        "sheen": "2703ab4c1bed99bfc006fe25011f8d821b181096b3ad9dfc4811bbfab942ebb0",
        "sheen-number": "b3b563a4ef8ab2431ec7bbfa15006cd728feff40c36c9ad94cc4bed3c4547e16",
    },
}


def _back(rng, digits_x, frame):
    """What is written on the back of the page, seen through it: an alpha map (h, w)."""
    from PIL import Image, ImageFilter

    idx = rng.integers(0, len(digits_x), int(rng.integers(2, 7)))
    back = np.ascontiguousarray(realworld.number_ink(digits_x[idx], rng)[:, ::-1])
    placed = realworld._place(back, frame, rng, (0.12, 0.35), margin=0.02)
    blurred = Image.fromarray((placed * 255).astype(np.uint8), "L").filter(
        ImageFilter.GaussianBlur(rng.uniform(1.0, 2.5)))
    return np.asarray(blurred, np.float32) / 255 * rng.uniform(0.08, 0.22)


def _reflection(rng, alpha, kind):
    """A lamp's (``glare``) or a window's (``sheen``) reflection: how far each pixel is
    brightened towards white (h, w), in [0, 1)."""
    h, w = alpha.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rows, cols = np.nonzero(alpha > 0.3)
    if kind == "glare" and rng.random() < 0.2:  # anywhere on the page
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
    else:  # on the writing
        k = int(rng.integers(len(rows)))
        cy, cx = rows[k] + rng.normal(0, 0.03 * w), cols[k] + rng.normal(0, 0.03 * w)
    angle = rng.uniform(0, np.pi)
    along = np.cos(angle) * (x - cx) + np.sin(angle) * (y - cy)
    across = -np.sin(angle) * (x - cx) + np.cos(angle) * (y - cy)
    if kind == "glare":
        radius = rng.uniform(0.05, 0.15) * w / 2
        long, broad, peak = radius, radius * rng.uniform(0.5, 1.0), rng.uniform(0.3, 0.7)
    else:
        broad = rng.uniform(0.03, 0.08) * w
        long, peak = broad * rng.uniform(3, 8), rng.uniform(0.25, 0.6)
    return peak * np.exp(-(along / long) ** 2 - (across / broad) ** 2)


def _photo(alpha, rng, kind, digits_x, fraction):
    """``alpha`` written on paper (with what shows through it) and photographed under a
    lamp (with its reflection): JPEG bytes."""
    w = int(rng.integers(320, 641))
    frame = (int(w * rng.uniform(0.6, 1.0)), w)
    a = realworld._place(alpha, frame, rng, fraction, margin=0.04)
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.12, 3) * np.array([0.3, 0.6, 1.0])
    paper = np.broadcast_to(tint * rng.uniform(0.8, 1.0), (*frame, 3)).astype(np.float32)
    if kind == "through":
        paper = paper * (1 - _back(rng, digits_x, frame))[..., None]
    ink = np.array(realworld.INKS[("black", "blue", "grey")[rng.integers(3)]]) * rng.uniform(0.7, 1.3)
    a = a * rng.uniform(0.85, 1.0)
    rgb = paper * (1 - a[..., None]) + ink * a[..., None]
    rgb *= realworld._lighting(frame, rng, rng.uniform(0.1, 0.45), rng.uniform(0.1, 0.5))[..., None]
    if kind in ("glare", "sheen"):
        rgb = rgb + _reflection(rng, a, kind)[..., None] * (1.0 - rgb)
    return realworld.snapshot(rgb, rng)


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray):
    """Picture ``index`` of ``family``: (encoded bytes, label)."""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    number = family.endswith("-number")
    alpha, label = realworld.writing_ink(number, rng, digits_x, digits_y)
    if not number:
        alpha = realworld._rotate(alpha, rng.uniform(-12, 12))
    fraction = (0.12, 0.3) if number else (0.12, 0.4)
    return _photo(alpha, rng, family.split("-")[0], digits_x, fraction), label


pictures = family_pictures(make, SINGLES, NUMBERS)


def main(argv=None):
    return run_families("bench_glare", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
