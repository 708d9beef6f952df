"""Writing in a notebook: ruled or squared paper photographed whole by a phone.

    python -m benchmarks.bench_notebook --split validation   # tune on this
    python -m benchmarks.bench_notebook --split test         # the frozen held-out sets

``realworld``'s ruled and squared photos draw the lines anywhere across a digit that
fills a fifth of a small frame. In a notebook the writing keeps to the ruling: it sits
on a line, a line's spacing high, and the photo is a phone's (900-2,200 pixels wide),
the page a little turned, a dozen or more lines in view. Single digits are answered as
``digitnet predict`` answers them, numbers (3 to 6 digits; two touching in one of five)
as ``digitnet read``. The families, made from the split's MNIST digits (validation: the
last 10,000 of the training file; test: the test file):

- ``ruled`` / ``ruled-number``: ruled paper (a red margin line on some pages), the
  writing 0.6-1.1 of the spacing high, standing on a line (its foot on it or a little
  through) or, one in three, floating between two;
- ``squared`` / ``squared-number``: squared paper, the writing likewise;
- in the test split only, never tuned on: ``tall`` / ``tall-number`` (ruled paper, the
  writing 1.3-1.9 of the spacing high: a line runs through it) and ``cells-number``
  (squared paper, one digit a cell, as a school sum is written).

Each picture has its own random state (split, family, index). Ink black, blue or grey,
the pen as ``benchmarks.realworld`` draws it; lines blue, grey or green, 1-3 pixels;
uneven light, lens blur, sensor noise, JPEG. The test sets are frozen: ``FROZEN`` holds
the SHA-256 of each family's pictures, checked on every run (made before the front end
was changed for them).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 8401, "test": 8402}
FAMILIES = {"validation": ("ruled", "ruled-number", "squared", "squared-number"),
            "test": ("ruled", "ruled-number", "squared", "squared-number",
                     "tall", "tall-number", "cells-number")}
SINGLES = 200
NUMBERS = 100
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "ruled": "8534780e3d2aed9f81e13f1501bbc98d1c4bfdf685ac43c1635869e9244901a6",
        "ruled-number": "7bac7a17b32bba4f24ac8ae84114a193156bf0acd87901583083a268922e94b2",
        "squared": "64b0a7c156c8c5e78f8114be70dc9a6809963eabae205f8ddd53cce18e4e261b",
        "squared-number": "57ac62975108ba9a91de5c4a3ec8935e625e8aa86d06b9514b3e87bf8c973406",
    },
    "test": {
        "ruled": "880691f0c24c5c87708796168865bed1798b6bfee2549dda6c5891583c08de5f",
        "ruled-number": "d38167b1770d73b91976e6d1571337d4743dfe5b8a4dd6a2fe3e2c45b5dcffc1",
        "squared": "894c185ecac2c51eebb3fd2cddf6e4430b50b7efe6edb63cde1253d40549da48",
        "squared-number": "e11464db8faa2e405aa3f0495815c7b050b4fcbe36f16bb7d58cdc90c0bb6981",
        "tall": "0a7e4b4c4e9545d6f9861ed85398b6f294da3f72b03545f1ac4325e94a539486",
        "tall-number": "542f3766ecbbe86c88f6cfd5adbd8b5be0eb4b12132107cf1469f55e1ab731e7",
        "cells-number": "e9f18b3bffff0825dddbc8e03bb1b118d2443dc4fdc238668c35e46dcce19773",
    },
}
LINE_COLOURS = ((0.55, 0.65, 0.85), (0.6, 0.6, 0.62), (0.55, 0.75, 0.7))


def _ruling(frame, rng, step, angle, first, column=None):
    """The paper's lines (h, w) in [0, 1]: level lines ``step`` pixels apart, turned by
    ``angle`` (radians), one through row ``first`` at the frame's middle column; upright
    ones too where ``column`` is given (squared paper: one through that column at the
    middle row). Anti-aliased, 1-3 pixels thick."""
    h, w = frame
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    thick = rng.uniform(1.0, 3.0)
    tan = np.float32(np.tan(angle))

    def lines(position):
        phase = np.mod(position, step)
        distance = np.minimum(phase, step - phase)  # to the nearest line
        return np.clip(thick / 2 + 0.5 - distance, 0.0, 1.0)

    mask = lines(y - tan * (x - w / 2) - first)
    if column is not None:
        mask = np.maximum(mask, lines(x + tan * (y - h / 2) - column))
    return mask


def _margin(frame, rng, angle):
    """A red margin line's alpha (h, w), upright at 6-20% of the width."""
    h, w = frame
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    at = w * rng.uniform(0.06, 0.2)
    distance = np.abs(x + np.float32(np.tan(angle)) * (y - h / 2) - at)
    return np.clip(1.5 - distance, 0.0, 1.0)


def _cells(rows, rng, step):
    """One digit a cell of side ``step``: alpha (h, w), the digits 0.6-0.9 of a cell high,
    each a little off its cell's centre."""
    page = np.zeros((int(step) + 2, int(step * len(rows)) + 2), np.float32)
    for j, row in enumerate(rows):
        ink = realworld.pen_ink(row, step * rng.uniform(0.6, 0.9), rng, (0.3, 0.5))
        ink = ink[:page.shape[0], :int(step)]
        top = int(max(0, (step - ink.shape[0]) / 2 + rng.uniform(-0.08, 0.08) * step))
        left = int(max(0, j * step + (step - ink.shape[1]) / 2 + rng.uniform(-0.08, 0.08) * step))
        region = page[top:top + ink.shape[0], left:left + ink.shape[1]]
        np.maximum(region, ink[:region.shape[0], :region.shape[1]], out=region)
    return page


def make(family: str, split: str, index: int, digits_x, digits_y):
    """Picture ``index`` of ``family``: (JPEG bytes, label: a digit or a number's string)."""
    from PIL import Image, ImageFilter

    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    kind = family.removesuffix("-number")
    w = int(rng.integers(900, 2201))
    frame = (int(w * rng.uniform(0.6, 1.0)), w) if rng.random() < 0.7 else (int(w * rng.uniform(1.2, 1.4)), w)
    step = rng.uniform(0.035, 0.08) * frame[0]
    angle = np.radians(rng.uniform(-4, 4))
    tall = (1.3, 1.9) if kind == "tall" else (0.6, 1.1)
    if family.endswith("-number"):
        idx = rng.integers(0, len(digits_y), int(rng.integers(3, 7)))
        label = "".join(str(int(d)) for d in digits_y[idx])
        if kind == "cells":
            alpha = _cells(digits_x[idx], rng, step)
        else:
            alpha = realworld.number_ink(digits_x[idx], rng, touch=rng.random() < 0.2)
            alpha = _scaled(alpha, step * rng.uniform(*tall))
    else:
        i = int(rng.integers(0, len(digits_y)))
        label = int(digits_y[i])
        alpha = realworld.pen_ink(digits_x[i], step * rng.uniform(*tall), rng, slant=rng.uniform(-0.1, 0.2))
    alpha = realworld._rotate(alpha, -np.degrees(angle))
    # where it stands: its foot on a line (a little through it), or between two
    ah, aw = alpha.shape
    left = int(rng.integers(int(0.06 * w), max(int(0.06 * w) + 1, w - aw - int(0.04 * w))))
    line = int(rng.integers(int(0.2 * frame[0] / step), int(0.85 * frame[0] / step))) * step
    foot = line - (rng.uniform(0.1, 0.3) * step if rng.random() < 1 / 3 and kind != "cells"
                   else rng.uniform(-0.12, 0.05) * ah)
    if kind == "cells":
        foot = line + 0.5 * (ah - step)  # the cells' row from line - step to line
    top = int(np.clip(foot - ah, 0, frame[0] - ah))
    ink = np.zeros(frame, np.float32)
    region = ink[top:top + ah, left:left + aw]
    region[:] = np.clip(alpha[:region.shape[0], :region.shape[1]], 0, 1)
    # the lines turned about the frame's middle: one under the writing (or, for cells,
    # under them and at their left)
    tan = np.tan(angle)
    column = None
    if kind == "squared":
        column = rng.uniform(0, step)
    elif kind == "cells":
        column = left + tan * (line - step / 2 - frame[0] / 2)
    paper_lines = _ruling(frame, rng, step, angle, line - tan * (left + aw / 2 - w / 2), column)
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.1, 3) * np.array([0.3, 0.6, 1.0])
    paper = np.broadcast_to(tint * rng.uniform(0.8, 1.0), (*frame, 3)).astype(np.float32)
    colour = np.array(LINE_COLOURS[rng.integers(len(LINE_COLOURS))], np.float32)
    strength = paper_lines[..., None] * rng.uniform(0.3, 0.8)
    paper = paper * (1 - strength) + paper * colour * strength
    if kind in ("ruled", "tall") and rng.random() < 0.4:
        red = _margin(frame, rng, angle)[..., None] * 0.7
        paper = paper * (1 - red) + np.array([0.85, 0.3, 0.3], np.float32) * red
    pen = np.array(realworld.INKS[("black", "blue", "grey")[rng.integers(3)]]) * rng.uniform(0.7, 1.2)
    a = ink[..., None] * rng.uniform(0.85, 1.0)
    rgb = paper * (1 - a) + pen * a
    rgb *= realworld._lighting(frame, rng, rng.uniform(0.1, 0.45), rng.uniform(0.1, 0.5))[..., None]
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.6)))
    pixels = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(2, 8), (*frame, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return realworld._encode(image, "JPEG", rng, (60, 93)), label


def _scaled(alpha, height):
    """``alpha`` brought to ``height`` pixels high."""
    from PIL import Image

    scale = height / alpha.shape[0]
    size = (max(1, round(alpha.shape[1] * scale)), max(1, round(height)))
    return np.clip(np.asarray(Image.fromarray(alpha, "F").resize(size, Image.Resampling.BILINEAR)), 0, 1)


def main(argv=None):
    return run_families("bench_notebook", __doc__.splitlines()[0], FAMILIES,
                        family_pictures(make, SINGLES, NUMBERS), FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
