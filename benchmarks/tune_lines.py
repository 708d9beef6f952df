"""Tuning pictures of single digits on lined and squared paper, from validation digits.

    python -m benchmarks.tune_lines --pictures 300   # accuracy on each kind of paper

The test split's ``ruled`` and ``squared`` families (``benchmarks/realworld.py``) are
never tuned on; these pictures are what the front end's search for paper lines was
chosen on instead. They come from a generator of their own, unlike ``realworld``'s: lines
up to 3 degrees off level (a page not square to the camera), solid or dotted, 14-48
pixels apart, 1-3 pixels thick, grey, blue, green or red, 15-60% darker than the paper, a
red margin line on some ruled pages; a lighting gradient, lens blur, sensor noise, JPEG.
Each picture is seeded with (77, squared, index), its digit drawn with (78, squared, index)
from the last 10,000 digits of MNIST's training file.
"""

from __future__ import annotations

import argparse
import io

import numpy as np

from benchmarks import realworld

COLOURS = ((0.5, 0.6, 0.9), (0.5, 0.5, 0.5), (0.5, 0.8, 0.6), (0.8, 0.5, 0.5))
INKS = ((0.1, 0.1, 0.12), (0.12, 0.2, 0.6), (0.35, 0.35, 0.37))


def lines(shape, rng, squared):
    """The paper's lines as darkness (h, w) in [0, 1]: drawn on a page twice the frame's
    size, turned by up to 3 degrees, cropped to the frame."""
    from PIL import Image, ImageDraw

    h, w = shape
    page = Image.new("L", (2 * w, 2 * h), 0)
    draw = ImageDraw.Draw(page)
    step, thick, dotted = int(rng.integers(14, 49)), int(rng.integers(1, 4)), rng.random() < 0.2

    def line(start, end):
        if not dotted:
            draw.line([start, end], fill=255, width=thick)
            return
        for t in np.linspace(0, 1, int(np.hypot(end[0] - start[0], end[1] - start[1]) // 4)):
            x, y = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
            draw.ellipse([x - thick, y - thick, x + thick, y + thick], fill=255)

    for y in range(int(rng.integers(0, step)), 2 * h, step):
        line((0, y), (2 * w, y))
    if squared:
        across = step if rng.random() < 0.7 else int(rng.integers(14, 49))
        for x in range(int(rng.integers(0, across)), 2 * w, across):
            line((x, 0), (x, 2 * h))
    page = page.rotate(rng.uniform(-3, 3), Image.Resampling.BILINEAR)
    crop = page.crop((w // 2, h // 2, w // 2 + w, h // 2 + h))
    return np.asarray(crop, np.float32) / 255 * rng.uniform(0.15, 0.6)


def picture(row, index, squared):
    """Digit ``row`` (784,) written on lined (or squared) paper and photographed: JPEG."""
    from PIL import Image, ImageFilter

    rng = np.random.default_rng([77, int(squared), index])
    h = int(rng.integers(300, 560))
    w = int(h * rng.uniform(1.0, 1.5))
    alpha = realworld.pen_ink(row, rng.uniform(60, 150), rng, (0.3, 0.6), slant=rng.uniform(-0.1, 0.2))
    alpha = realworld._rotate(alpha, rng.uniform(-10, 10))
    a = realworld._place(alpha, (h, w), rng, (0.15, 0.4), margin=0.05)
    dark = lines((h, w), rng, squared)[..., None]
    colour = np.array(COLOURS[rng.integers(4)])
    paper = np.ones((h, w, 3), np.float32) * (1 - rng.uniform(0, 0.1, 3)) * rng.uniform(0.75, 1.0)
    paper = paper * (1 - dark) + paper * colour * dark
    if not squared and rng.random() < 0.4:  # a margin line in red
        c = int(w * rng.uniform(0.05, 0.25))
        paper[:, c:c + 2] *= np.array([1.0, 0.5, 0.5])
    ink = np.array(INKS[rng.integers(3)])
    a = (a * rng.uniform(0.8, 1.0))[..., None]
    rgb = paper * (1 - a) + ink * a
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = 0.5 + np.cos(angle) * (x - 0.5) + np.sin(angle) * (y - 0.5)
    rgb *= (1 - rng.uniform(0.05, 0.35) * gradient)[..., None]
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0))), np.float32)
    pixels = pixels + rng.normal(0, rng.uniform(2, 7), pixels.shape)
    out = io.BytesIO()
    quality = int(rng.integers(50, 92))
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def pictures(n, squared, digits):
    """The first ``n`` pictures of a kind of paper: a list of (JPEG bytes, label)."""
    x, y = digits
    out = []
    for i in range(n):
        k = int(np.random.default_rng([78, int(squared), i]).integers(0, len(y)))
        out.append((picture(x[k], i, squared), int(y[k])))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=300, help="pictures per kind of paper")
    args = parser.parse_args(argv)

    from benchmarks.bench_photos import score_singles
    from digitnet.pretrained import photo_model, resolve_model

    model = resolve_model(None)
    digits = realworld.digits_of("validation")
    for name, squared in (("lined", False), ("squared", True)):
        items = pictures(args.pictures, squared, digits)
        correct, missing, _ = score_singles(items, model, photo_model(None))
        print(f"{name:8s} {args.pictures:5d} {100 * correct / args.pictures:7.2f}%"
              f" {missing:4d} no digit found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
