"""A page turned in the photo: writing on ruled or squared paper photographed at an angle.

    python -m benchmarks.bench_turned --split validation   # tune on this
    python -m benchmarks.bench_turned --split test         # the frozen held-out sets

A phone held over a notebook is seldom square to its lines: the page, its ruling and the
writing on it are turned together in the picture. Single digits are answered as ``digitnet
predict`` answers them, numbers (2 to 6 digits written apart, a pair touching in three in
ten) as ``digitnet read``. The families, made from the split's MNIST digits in a pen's
hand (``realworld.pen_ink`` / ``number_ink``), written along the ruling and photographed
(``realworld``'s paper, lines, ink and lighting) with the page turned in the picture by:

- ``ruled`` / ``ruled-number`` and ``squared`` / ``squared-number``: 8 to 30 degrees,
  either way;
- in the test split only, never tuned on: ``steep`` / ``steep-number``: ruled or squared
  paper turned by 30 to 40 degrees; ``blank`` / ``blank-number``: plain paper turned by 8
  to 30 degrees (no lines to tell the angle by).

The writing is written as on the page (a digit leaning up to 12 degrees either way of the
lines, a number along them). Each picture has its own random state (split, family,
index). The test sets are frozen: ``FROZEN`` holds the SHA-256 of each family's pictures,
checked on every run (made before they were read).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 9901, "test": 9902}
FAMILIES = {"validation": ("ruled", "ruled-number", "squared", "squared-number"),
            "test": ("ruled", "ruled-number", "squared", "squared-number",
                     "steep", "steep-number", "blank", "blank-number")}
SINGLES = 200
NUMBERS = 100
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "ruled": "2547b7d73e195ae1518d4204b0f8a57a76e2bb2bb594e90ebf1cb9132468e112",
        "ruled-number": "d064158f1377e0fe72924caa50622d22fd3159378289ce91c4f472d2a53bb5e2",
        "squared": "fd7cfc8e48e04b740d100468454674952546181063004e8c182ae79e8da7fafd",
        "squared-number": "7c48cfea7c8cf5022e7662afaf89ca1addd59e0ff452b6c0c8ca228972018443",
    },
    "test": {
        "ruled": "ec4dd2b0e12df0392223a57e0292de6910e158a1dcb2c5052dc1ac4d1d23c8a2",
        "ruled-number": "c0159a7f95ab38646a611e138043472b6a74959ff1103dcc1a504a649eb8cc51",
        "squared": "c45a8b7bf5567cd9c68c386646855b3bc1eaf3c6815979e6a3c1636a722c2d24",
        "squared-number": "e1377f9369b049d202c55fe22b053ca358869efe894c53f4b232891f9143eb6e",
        "steep": "9f000a4471c55d71c48f693d72ebdfa1f32e9aa735199bf9d86e332518475421",
        "steep-number": "afb77722addad9581f8e8c61e9a1e46b0f7b7800e1ce35e220b1f4bd064cf8aa",
        "blank": "c3faa73cd95654b7f64d845c1dc3fe82ba9c0aa44a8ea4085036a80f9993795d",
        "blank-number": "69455d2523c74bccc97a54dad6bdc313fb00daafddf093e038c087c6da36ba8f",
    },
}


def _photo(alpha, rng, lines, angle, fraction):
    """``alpha`` written on paper (ruled, squared or plain: ``lines``), the page turned by
    ``angle`` degrees in the picture, photographed: JPEG bytes."""
    from PIL import Image

    w = int(rng.integers(320, 641))
    frame = (int(w * rng.uniform(0.6, 1.0)), w)
    side = int(np.ceil(np.hypot(*frame))) + 4  # the page, large enough to fill the frame turned
    # the writing within the middle of the page, where it stays in the frame however turned
    inner = int(min(frame) * 0.7)
    a = np.zeros((side, side), np.float32)
    placed = realworld._place(alpha, (inner, inner), rng, fraction, margin=0.04)
    top = (side - inner) // 2
    a[top:top + inner, top:top + inner] = placed
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.12, 3) * np.array([0.3, 0.6, 1.0])
    paper = np.broadcast_to(tint * rng.uniform(0.8, 1.0), (side, side, 3)).astype(np.float32)
    if lines:
        paper = realworld._lines(paper.copy(), rng, squared=lines == "squared")
    ink = np.array(realworld.INKS[("black", "blue", "grey")[rng.integers(3)]]) * rng.uniform(0.7, 1.3)
    a = a * rng.uniform(0.85, 1.0)
    rgb = paper * (1 - a[..., None]) + ink * a[..., None]
    page = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC)
    left, upper = (side - frame[1]) // 2, (side - frame[0]) // 2
    pixels = np.asarray(page.crop((left, upper, left + frame[1], upper + frame[0])), np.float32) / 255
    light = realworld._lighting(frame, rng, rng.uniform(0.1, 0.45), rng.uniform(0.1, 0.5))
    pixels = pixels * light[..., None]
    return realworld.snapshot(pixels, rng)


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray):
    """Picture ``index`` of ``family``: (encoded bytes, label)."""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    kind = family.split("-")[0]
    number = family.endswith("-number")
    alpha, label = realworld.writing_ink(number, rng, digits_x, digits_y)
    if not number:
        alpha = realworld._rotate(alpha, rng.uniform(-12, 12))
    lines = {"ruled": "ruled", "squared": "squared", "blank": None}.get(kind)
    if kind == "steep":
        lines = ("ruled", "squared")[int(rng.integers(2))]
    low, high = (30, 40) if kind == "steep" else (8, 30)
    angle = rng.uniform(low, high) * rng.choice((-1, 1))
    fraction = (0.12, 0.3) if number else (0.12, 0.4)
    return _photo(alpha, rng, lines, angle, fraction), label


pictures = family_pictures(make, SINGLES, NUMBERS)


def main(argv=None):
    return run_families("bench_turned", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
