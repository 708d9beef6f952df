"""Writing circled or boxed by hand: a number or a digit with a line drawn round it.

    python -m benchmarks.bench_circled --split validation   # tune on this
    python -m benchmarks.bench_circled --split test         # the frozen held-out sets

People circle a number on a page (an answer, a total, a page number) or draw a box round
it. Single digits are answered as ``digitnet predict`` answers them, numbers (2 to 6
digits written apart, or one pair touching) as ``digitnet read``. The families, made from
the split's MNIST digits in a pen's hand (``realworld.pen_ink`` / ``number_ink``):

- ``oval`` / ``oval-number``: an oval drawn round the writing with the digits' pen, clear
  of it by 0.1-0.4 of the writing's height, a little turned;
- ``box`` / ``box-number``: a box drawn by hand round it, its corners off by a few pixels;
- in the test split only, never tuned on: ``loop`` / ``loop-number``: an oval drawn in one
  stroke that does not meet its start (a gap of up to a tenth of its length) or runs past
  it, clear of the writing by 0.05-0.25 of its height, turned up to 20 degrees.

Half of each family is scanned on white (``realworld.scan``), half photographed on paper
(``realworld.photo``: tinted paper, uneven light, lens blur, noise, JPEG). Each picture has
its own random state (split, family, index). The test sets are frozen: ``FROZEN`` holds
the SHA-256 of each family's pictures, checked on every run (made before they were read).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 7401, "test": 7402}
FAMILIES = {"validation": ("oval", "oval-number", "box", "box-number"),
            "test": ("oval", "oval-number", "box", "box-number", "loop", "loop-number")}
SINGLES = 200
NUMBERS = 100
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "oval": "e6a50fd76900fee829d80f729b025717e6099d53b1a4dc69b905dc07ee608826",
        "oval-number": "22681de73d118e30159f6bf93c2bcdea502501da8f687d47f89ac597d7c715d9",
        "box": "dd93be0956baede8d6ef59e049dc656f13c205f28a80508fbb16190d2ed307a2",
        "box-number": "221875e0c1f495c67729aeaf6e25ab7042fcd245b12b09682e3ff126defc6aa4",
    },
    "test": {
        "oval": "528807d8ad968ad4d6c8ba4e8a586a0bf07484d6909012ea37d167e7739aaae0",
        "oval-number": "78330fcae991f8abe4a167520ea605fb455bb36d16dfae661bc4b57090793332",
        "box": "c790b1365e52bb001a1b277838685c3cc923e45e6cff79a0170a44688682d84d",
        "box-number": "b577dcc9ab8bee36f40ec06a10d94d5899872c3b5d7b6e55a950db453ddcb6e7",
        "loop": "98bb04eef42458d9b73488c37737b54069a3ef0a96b0b44ac59a78813a194981",
        "loop-number": "cc3d37ca9cfdebdb19e9e86ee261f430933594a186e9c80bb231ecba763b56b6",
    },
}


def _round(alpha, rng, shape):
    """``alpha`` (the writing's ink) with ``shape`` drawn round it: the ink, padded."""
    from PIL import Image, ImageDraw

    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    height = rows[-1] - rows[0] + 1
    clear = height * (rng.uniform(0.05, 0.25) if shape == "loop" else rng.uniform(0.1, 0.4))
    pen = max(2, int(round(height * rng.uniform(0.06, 0.11))))
    h, w = alpha.shape
    pad = int(clear + 0.5 * height + 2 * pen + 4)
    page = Image.fromarray(np.pad(alpha, pad), "F")
    draw = ImageDraw.Draw(page)
    cx, cy = pad + w / 2, pad + h / 2
    if shape == "box":
        half = np.array([w / 2 + clear, h / 2 + clear])
        corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        points = [(cx + sx * half[0] + rng.uniform(-4, 4), cy + sy * half[1] + rng.uniform(-4, 4))
                  for sx, sy in corners]
        draw.line(points + [points[0]], fill=1.0, width=pen, joint="curve")
    else:
        # an ellipse through the writing's box corners, widened by ``clear``
        rx, ry = (w / 2 + clear) * 1.25, (h / 2 + clear) * 1.3
        turn = np.radians(rng.uniform(-20, 20) if shape == "loop" else rng.uniform(-6, 6))
        span = 2 * np.pi * (rng.uniform(0.9, 1.08) if shape == "loop" else 1.0)
        t = rng.uniform(0, 2 * np.pi) + np.linspace(0, span, 90)
        x, y = rx * np.cos(t), ry * np.sin(t)
        points = list(zip(cx + x * np.cos(turn) - y * np.sin(turn), cy + x * np.sin(turn) + y * np.cos(turn)))
        draw.line(points, fill=1.0, width=pen, joint="curve")
    out = np.asarray(page, dtype=np.float32).clip(0, 1)
    rows, cols = np.flatnonzero(out.max(axis=1) > 0), np.flatnonzero(out.max(axis=0) > 0)
    return out[max(0, rows[0] - 2):rows[-1] + 3, max(0, cols[0] - 2):cols[-1] + 3]


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray):
    """Picture ``index`` of ``family``: (encoded bytes, label)."""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    shape = family.split("-")[0]
    alpha, label = realworld.writing_ink(family.endswith("-number"), rng, digits_x, digits_y)
    alpha = _round(alpha, rng, shape)
    if rng.random() < 0.5:
        return realworld.scan(alpha, rng, digit_fraction=(0.6, 0.9)), label
    return realworld.photo(alpha, rng, digit_fraction=(0.3, 0.7)), label


pictures = family_pictures(make, SINGLES, NUMBERS)


def main(argv=None):
    return run_families("bench_circled", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
