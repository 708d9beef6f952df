"""Paper on a desk: a note or a sheet photographed with the desk round it.

    python -m benchmarks.bench_desk --split validation   # tune on this
    python -m benchmarks.bench_desk --split test         # the frozen held-out sets

A phone photo of a sticky note or a sheet of paper seldom holds paper alone: the desk
shows round it, darker than the paper and often textured. Single digits are answered as
``digitnet predict`` answers them, numbers (2 to 5 digits written apart) as ``digitnet
read``. The families, made from the split's MNIST digits (validation: the last 10,000 of
the training file; test: the test file):

- ``note`` / ``note-number``: a square sticky note (yellow, pink, blue or white), 45-75%
  of the frame's shorter side, turned by up to 12 degrees, with a soft shadow, on a wooden
  or a plain dark desk;
- in the test split only, never tuned on: ``sheet`` / ``sheet-number``: a white sheet
  filling 55-95% of the frame's shorter side (one edge may leave the frame), seen by a
  camera tilted off the page, on a grey stone desk or a light one (less contrast with
  the paper than any tuned on).

Each picture has its own random state (split, family, index). Ink black or blue, the
pen as ``benchmarks.realworld`` draws it; uneven light, lens blur, sensor noise, JPEG.
The test sets are frozen: ``FROZEN`` holds the SHA-256 of each family's pictures,
checked on every run (made before the front end was changed for them).
"""

from __future__ import annotations

import io
import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 7301, "test": 7302}
FAMILIES = {"validation": ("note", "note-number"),
            "test": ("note", "note-number", "sheet", "sheet-number")}
SINGLES = 200
NUMBERS = 100
NOTES = ((0.98, 0.92, 0.45), (0.98, 0.75, 0.82), (0.70, 0.88, 0.98), (0.95, 0.95, 0.93))
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "note": "56d64191bf1fdaa8a50443dd178db4d11aa15b4633a7a031afd9ac4c606c1954",
        "note-number": "ad7562ee6cc12a511987a5f513210d0aecf4d25d813bb229b1fe4469c89f9571",
    },
    "test": {
        "note": "0082a5e14dc2f3e869b4aafa297c1b7e9cf9dd14468320b5589afa9cc0545561",
        "note-number": "ce4b5e15a4b21d1e262f4a700d35d2579cfcabf971fae5fe479e61d7ec680871",
        "sheet": "88a52fad6c7246cb0bbcd3e6dc4ba169ad2ea8410454ba87cdcdf50a85cf4018",
        "sheet-number": "c7bda07826b5df06d59b529a5ac39053f94f6be385d934216e7a9da2191ed9d3",
    },
}


def _desk(shape, rng, kind):
    """A desk (h, w, 3) in [0, 1]: "wood", "dark", "stone" or "light"."""
    h, w = shape
    field = realworld._field(shape, rng, 6)
    if kind == "wood":
        xx = np.arange(w, dtype=np.float32)[None, :]
        grain = np.sin(xx / rng.uniform(6, 20) + 3 * field)
        desk = np.array([0.35, 0.24, 0.15]) * (1 + 0.15 * grain[..., None]) * rng.uniform(0.6, 1.2)
    elif kind == "dark":
        desk = np.broadcast_to(np.full(3, rng.uniform(0.12, 0.35)), (h, w, 3)) * (1 + 0.05 * field[..., None])
    elif kind == "stone":
        speckle = rng.normal(0, 0.06, (h, w)).astype(np.float32)
        desk = np.full(3, rng.uniform(0.35, 0.55)) * (1 + 0.1 * field[..., None] + speckle[..., None])
    else:  # light: a pale desk, the paper only a little brighter
        desk = np.array([0.72, 0.68, 0.62]) * rng.uniform(0.85, 1.0) * (1 + 0.04 * field[..., None])
    return np.clip(desk, 0, 1).astype(np.float32)


def _ink(rows, rng, height):
    """The digits' ink (alpha), one digit or a number written apart."""
    if len(rows) == 1:
        return realworld.pen_ink(rows[0], height, rng)
    inks = [realworld.pen_ink(r, height * rng.uniform(0.9, 1.05), rng) for r in rows]
    gap = [int(height * rng.uniform(0.15, 0.4)) for _ in inks]
    h = max(a.shape[0] for a in inks) + 4
    page = np.zeros((h, sum(a.shape[1] for a in inks) + sum(gap[:-1])), np.float32)
    x = 0
    for a, g in zip(inks, gap):
        top = (h - a.shape[0]) // 2 + int(rng.integers(-2, 3))
        top = min(max(top, 0), h - a.shape[0])
        np.maximum(page[top:top + a.shape[0], x:x + a.shape[1]], a,
                   out=page[top:top + a.shape[0], x:x + a.shape[1]])
        x += a.shape[1] + g
    return page


def _paper(rows, rng, side, colour, fraction):
    """A square of paper ``side`` pixels wide in ``colour`` with the digits written on it:
    (rgb (side, side, 3), the ink's alpha (side, side))."""
    k = len(rows)
    height = side * rng.uniform(*fraction) / (1 if k == 1 else max(1.0, 0.75 * k))
    alpha = _ink(rows, rng, max(16.0, height))
    if alpha.shape[1] > 0.9 * side:  # a long number: smaller
        from PIL import Image

        f = 0.9 * side / alpha.shape[1]
        alpha = np.asarray(Image.fromarray(alpha, "F").resize(
            (max(1, round(alpha.shape[1] * f)), max(1, round(alpha.shape[0] * f)))), np.float32)
    a = realworld._place(alpha, (side, side), rng, (alpha.shape[0] / side,) * 2, margin=0.08)
    ink = np.array(realworld.INKS[("black", "blue")[int(rng.integers(2))]], np.float32)
    paper = np.broadcast_to(np.asarray(colour, np.float32) * rng.uniform(0.9, 1.0), (side, side, 3))
    return paper * (1 - a[..., None]) + ink * a[..., None], a


def _photo(desk, paper, ink, rng, turn, shadow=True, tilt=0.0, out_of_frame=False):
    """``paper`` laid on ``desk`` (turned by up to ``turn`` degrees, a soft shadow), lit
    unevenly, seen by the phone: JPEG bytes."""
    from PIL import Image, ImageFilter

    h, w = desk.shape[:2]
    rgba = np.dstack([paper, np.ones(paper.shape[:2], np.float32)])
    im = Image.fromarray((np.clip(rgba, 0, 1) * 255).astype(np.uint8), "RGBA")
    angle = rng.uniform(-turn, turn)
    sheet = np.asarray(im.rotate(angle, Image.Resampling.BICUBIC, expand=True), np.float32) / 255
    written = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).rotate(
        angle, Image.Resampling.BICUBIC, expand=True)) > 127
    rows, cols = np.flatnonzero(written.any(axis=1)), np.flatnonzero(written.any(axis=0))
    ph, pw = sheet.shape[:2]
    inside = max(4, int(tilt * min(h, w) * 1.5))  # (a tilted camera moves the corners in)
    for _ in range(50):  # the sheet may leave the frame, the writing may not
        if out_of_frame:  # one edge of the sheet beyond the frame's
            y0 = int(rng.integers(-ph // 6, max(1, h - ph + ph // 6)))
            x0 = int(rng.integers(-pw // 6, max(1, w - pw + pw // 6)))
        else:
            y0, x0 = int(rng.integers(0, max(1, h - ph + 1))), int(rng.integers(0, max(1, w - pw + 1)))
        if (y0 + rows[0] >= inside and y0 + rows[-1] < h - inside and x0 + cols[0] >= inside
                and x0 + cols[-1] < w - inside):
            break
    layer = np.zeros((h, w, 4), np.float32)
    ys, xs = slice(max(y0, 0), min(y0 + ph, h)), slice(max(x0, 0), min(x0 + pw, w))
    layer[ys, xs] = sheet[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
    out = desk.copy()
    if shadow:
        cover = Image.fromarray((layer[..., 3] * 255).astype(np.uint8))
        cover = cover.transform((w, h), Image.Transform.AFFINE, (1, 0, -5, 0, 1, -5))
        cover = np.asarray(cover.filter(ImageFilter.GaussianBlur(6)), np.float32) / 255
        out *= (1 - 0.4 * cover)[..., None]
    a = layer[..., 3:]
    out = out * (1 - a) + layer[..., :3] * a
    out *= realworld._lighting((h, w), rng, rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4))[..., None]
    image = Image.fromarray((np.clip(out, 0, 1) * 255).astype(np.uint8), "RGB")
    if tilt:
        image = realworld._perspective(image, rng, tilt)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    pixels = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(2, 7), (h, w, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(55, 92)))
    return buffer.getvalue()


def make(family: str, split: str, index: int, digits_x, digits_y):
    """Picture ``index`` of ``family``: (JPEG bytes, label: an int, or a str for numbers)."""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    number = family.endswith("-number")
    k = int(rng.integers(2, 6)) if number else 1
    idx = rng.integers(0, len(digits_y), k)
    h = int(rng.integers(360, 600))
    w = int(h * rng.uniform(1.0, 1.5))
    if family.startswith("note"):
        desk = _desk((h, w), rng, ("wood", "dark")[int(rng.integers(2))])
        side = int(min(h, w) * rng.uniform(0.45, 0.75))
        colour = NOTES[int(rng.integers(len(NOTES)))]
        paper, ink = _paper(digits_x[idx], rng, side, colour, (0.35, 0.65))
        data = _photo(desk, paper, ink, rng, 12)
    else:
        desk = _desk((h, w), rng, ("stone", "light")[int(rng.integers(2))])
        side = int(min(h, w) * rng.uniform(0.55, 0.95))
        paper, ink = _paper(digits_x[idx], rng, side, (0.96, 0.96, 0.94), (0.12, 0.3))
        data = _photo(desk, paper, ink, rng, 8, tilt=0.08, out_of_frame=rng.random() < 0.5)
    label = "".join(str(int(d)) for d in digits_y[idx]) if number else int(digits_y[idx[0]])
    return data, label


pictures = family_pictures(make, SINGLES, NUMBERS)


def main(argv=None):
    return run_families("bench_desk", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
