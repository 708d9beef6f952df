"""Numbers whose neighbouring digits touch as a pen makes them touch: for training and tuning.

``synthetic.number`` lets a pair overlap by a few pixels; real writing merges more. Here
each touching pair, made from MNIST digits, is drawn by one hand:

- the same slant for the whole number (a shear of up to ``SLANT``);
- one stroke width for the whole number, thinner or thicker than MNIST's;
- neighbours of different sizes (up to ``SIZE_RATIO``), standing on one baseline;
- the right digit slid left until its strokes meet the left one's and then on by up to
  ``OVERLAP`` of the narrower digit's width; or, as often, joined by a pen's stroke from
  the left digit's right side to the right digit's left side (a ligature).

``touching_number`` returns the picture, each digit's box and each digit's ink alone (the
ligature belongs to neither), as ``synthetic.number`` does with ``layers=True``.
"""

from __future__ import annotations

import numpy as np

from .synthetic import _ink_image

#: Largest shear of the writing (horizontal shift per row, either way).
SLANT = 0.3
#: Largest ratio of neighbouring digits' heights.
SIZE_RATIO = 1.25
#: Largest overlap of touching neighbours, as a fraction of the narrower one's width.
OVERLAP = 0.25
#: Probability that a touching pair is joined by a ligature rather than by overlapping.
LIGATURE = 0.4


def _stroke(ink, rng):
    """One stroke width for a digit: thinner, as MNIST, or thicker by up to a 30th of
    its height on each side."""
    from PIL import Image, ImageFilter

    width = int(rng.integers(-1, 3))
    image = Image.fromarray(ink.astype(np.float32), "F")
    if width > 0:
        grow = max(1, round(width * ink.shape[0] / 60))
        image = image.filter(ImageFilter.MaxFilter(2 * grow + 1))
    elif width < 0:
        image = image.filter(ImageFilter.MinFilter(3))
        if float(np.asarray(image).max()) < 0.5:  # too thin: keep the digit
            return ink
    return np.asarray(image)


def _shear(page, slant):
    """The page sheared by ``slant`` columns per row about its middle row."""
    from PIL import Image

    h, w = page.shape
    image = Image.fromarray(page, "F")
    matrix = (1.0, -slant, slant * h / 2, 0.0, 1.0, 0.0)
    return np.asarray(image.transform((w, h), Image.Transform.AFFINE, matrix,
                                      Image.Resampling.BILINEAR)).clip(0, 1)


def _contact(left_ink, right_ink, left_box, right_box):
    """Whether two placed inks touch (8-neighbourhood on ink > 0.3)."""
    l0, t0 = left_box
    r0, t1 = right_box
    hl, wl = left_ink.shape
    hr, wr = right_ink.shape
    top, bottom = max(t0, t1) - 1, min(t0 + hl, t1 + hr) + 1
    x0, x1 = max(l0, r0) - 1, min(l0 + wl, r0 + wr) + 1
    if bottom <= top or x1 <= x0:
        return False
    a = np.zeros((bottom - top, x1 - x0), bool)
    b = np.zeros_like(a)
    for ink, (x, y), out in ((left_ink, left_box, a), (right_ink, right_box, b)):
        ys, xs = np.nonzero(ink > 0.3)
        ys, xs = ys + y - top, xs + x - x0
        keep = (ys >= 0) & (ys < a.shape[0]) & (xs >= 0) & (xs < a.shape[1])
        out[ys[keep], xs[keep]] = True
    grown = a.copy()
    grown[1:] |= a[:-1]
    grown[:-1] |= a[1:]
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    return bool((grown & b).any())


def _slide(inks, tops, x_left, i, rng, ligature, ligature_gap=None, overlap=OVERLAP):
    """The left edge of digit ``i``, placed to touch digit ``i - 1`` at ``x_left`` and
    overlap it by up to ``overlap`` of the narrower one's width; for a ligature, a gap of a
    few pixels, or ``ligature_gap`` (a range, in heights) if given."""
    left, right = inks[i - 1], inks[i]
    if ligature and ligature_gap is not None:
        height = max(left.shape[0], right.shape[0])
        return x_left + left.shape[1] + int(height * rng.uniform(*ligature_gap))
    narrow = min(left.shape[1], right.shape[1])
    x = x_left + left.shape[1] + (int(rng.integers(1, max(2, narrow // 6))) if ligature else 0)
    if ligature:
        return x
    while x > x_left and not _contact(left, right, (x_left, tops[i - 1]), (x, tops[i])):
        x -= 1
    return x - int(rng.integers(0, int(overlap * narrow) + 1))


def _ligature(page, left_layer, right_layer, width, rng):
    """Draw on ``page`` a pen's stroke from the right side of one digit's ink, in the
    lower or middle part of the writing, to the nearest ink of the next digit."""
    from PIL import Image, ImageDraw

    ys, xs = np.nonzero(left_layer > 0.5)
    low = ys >= np.quantile(ys, rng.uniform(0.3, 0.7))
    k = np.argmax(xs[low])
    start = np.array([xs[low][k], ys[low][k]])
    ys, xs = np.nonzero(right_layer > 0.5)
    k = np.argmin(np.hypot(xs - start[0], ys - start[1]))
    canvas = Image.new("F", page.shape[::-1], 0.0)
    ImageDraw.Draw(canvas).line([tuple(start.tolist()), (int(xs[k]), int(ys[k]))], fill=1.0,
                                width=width)
    np.maximum(page, np.asarray(canvas), out=page)


def touching_number(rows, rng, touching=1.0, height=(40, 80), gap=(4, 20), margin=20,
                    ligature_gap=None, overlap=OVERLAP, ligature=LIGATURE):
    """Digits side by side, black on white, each neighbouring pair touching with
    probability ``touching`` as described above; ``ligature_gap`` (a range, in digit
    heights) spaces a ligature's digits wider apart, as joined writing does; ``overlap``
    (a fraction of the narrower digit's width) is how far past touching a pair may be
    slid, ``OVERLAP`` unless given (a crowded hand slides further); ``ligature`` the
    probability that a touching pair is joined by a pen's stroke (``LIGATURE`` unless
    given). Returns
    (Pillow "L" image, boxes, layers): each digit's (left, top, right, bottom) and its
    ink alone on a page."""
    from PIL import Image

    base = int(rng.integers(height[0], height[1] + 1))
    sizes = base * np.exp(rng.uniform(-np.log(SIZE_RATIO), 0, len(rows)))
    inks = [_stroke(_ink_image(r, s), rng) for r, s in zip(rows, sizes)]
    tops = [margin + base - ink.shape[0] + int(rng.integers(-2, 3)) for ink in inks]
    tops = [max(0, t) for t in tops]
    joins = rng.random(len(rows)) < touching
    ligatures = joins & (rng.random(len(rows)) < ligature)
    xs = [margin]
    for i in range(1, len(inks)):
        if joins[i]:
            xs.append(max(margin, _slide(inks, tops, xs[-1], i, rng, ligatures[i], ligature_gap,
                                          overlap)))
        else:
            xs.append(xs[-1] + inks[i - 1].shape[1] + int(rng.integers(gap[0], gap[1] + 1)))
    width = max(x + ink.shape[1] for x, ink in zip(xs, inks)) + margin
    shape = (base + 2 * margin + 4, width)
    layers = []
    for x, top, ink in zip(xs, tops, inks):
        layer = np.zeros(shape, np.float32)
        layer[top:top + ink.shape[0], x:x + ink.shape[1]] = ink
        layers.append(layer)
    page = np.max(layers, axis=0)
    pen = max(2, round(base / 14))
    for i in (np.flatnonzero(ligatures[1:]) + 1).tolist():
        _ligature(page, layers[i - 1], layers[i], pen, rng)
    slant = rng.uniform(-SLANT, SLANT)
    page = _shear(page, slant)
    layers = [_shear(layer, slant) for layer in layers]
    boxes = []
    for layer in layers:
        ys, xs_ = np.nonzero(layer > 0.1)
        boxes.append((int(xs_.min()), int(ys.min()), int(xs_.max()) + 1, int(ys.max()) + 1))
    image = Image.fromarray((255 * (1 - page)).round().astype(np.uint8), "L")
    return image, boxes, layers
