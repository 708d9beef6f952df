"""Pictures made from MNIST digits, as users would give them: for tests and benchmarks.

``drawing`` renders one digit the way a person draws on a white canvas: dark ink,
anti-aliased, at a random size and position. ``number`` composes several digits into
a written number with random sizes and spacing, optionally with touching neighbours.
"""

import numpy as np


def _ink_image(row, height):
    """A 28x28 MNIST row -> ink (height, width) cropped to the digit, anti-aliased."""
    from PIL import Image

    image = row.reshape(28, 28)
    rows = np.flatnonzero(image.max(axis=1) > 0.1)
    cols = np.flatnonzero(image.max(axis=0) > 0.1)
    crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = height / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(height)))
    resized = Image.fromarray(crop.astype(np.float32), "F").resize(size, Image.Resampling.BICUBIC)
    return np.asarray(resized).clip(0, 1)


def drawing(row, rng, canvas=(280, 280), min_height=40, max_height=220):
    """One digit as a user's drawing: a Pillow "L" image, black ink on white."""
    from PIL import Image

    height = int(rng.integers(min_height, min(max_height, canvas[0] - 4) + 1))
    ink = _ink_image(row, height)
    h, w = ink.shape
    w = min(w, canvas[1])
    top = int(rng.integers(0, canvas[0] - h + 1))
    left = int(rng.integers(0, canvas[1] - w + 1))
    page = np.zeros(canvas, np.float32)
    page[top:top + h, left:left + w] = ink[:, :w]
    return Image.fromarray((255 * (1 - page)).round().astype(np.uint8), "L")


def number(rows, rng, height=(40, 80), gap=(4, 20), touching=0.0, margin=20, layers=False):
    """Digits side by side, black on white. ``gap`` is the range of spaces between
    neighbours in pixels; with probability ``touching`` a pair overlaps instead by
    2 to 6 pixels so that its strokes touch. Returns (Pillow "L" image, boxes), and
    with ``layers`` also each digit's ink alone on a page of the image's size."""
    from PIL import Image

    base = int(rng.integers(height[0], height[1] + 1))
    inks = [_ink_image(r, base * rng.uniform(0.85, 1.0)) for r in rows]
    x, placed = margin, []
    for i, ink in enumerate(inks):
        if i:
            if rng.random() < touching:
                x -= int(rng.integers(2, 7))
            else:
                x += int(rng.integers(gap[0], gap[1] + 1))
        placed.append((x, ink))
        x += ink.shape[1]
    width = x + margin
    page = np.zeros((base + 2 * margin, width), np.float32)
    boxes, alone = [], []
    for left, ink in placed:
        top = margin + (base - ink.shape[0]) // 2 + int(rng.integers(-3, 4))
        top = min(max(top, 0), page.shape[0] - ink.shape[0])
        region = page[top:top + ink.shape[0], left:left + ink.shape[1]]
        np.maximum(region, ink, out=region)
        boxes.append((left, top, left + ink.shape[1], top + ink.shape[0]))
        if layers:
            alone.append(np.zeros_like(page))
            alone[-1][top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    image = Image.fromarray((255 * (1 - page)).round().astype(np.uint8), "L")
    return (image, boxes, alone) if layers else (image, boxes)
