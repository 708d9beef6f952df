"""Pictures of MNIST digits as people really make them: phone photos of paper, scans,
canvas exports, chalk on a board, and written numbers with digits apart or touching.

A deterministic generator for the held-out benchmark of issue 23
(``benchmarks/bench_photos.py`` scores it). Every picture is drawn from its own
``numpy.random.Generator`` seeded with (split seed, family, index), so a picture does not
depend on how many others are made, nor on the order of the families. Pictures are
returned encoded (PNG or JPEG bytes), as a user would hand them to ``digitnet``.

Families of single digits:

- tuned on (made from validation digits for tuning, from test digits for the test):
  ``clean`` (a scan: black pen on white), ``canvas`` (an RGBA export, the ink in the
  alpha channel), ``chalk`` (light strokes on a dark board), ``photo`` (tinted paper,
  uneven light, vignetting, sensor noise, JPEG, black, blue or grey ink, pen-like width,
  small and off-centre in a larger frame, slightly rotated), ``shadow`` (a photo with a
  hard-edged shadow and a strong gradient), ``small`` (a photo with the digit 4-10% of the
  frame's height), ``marker`` (thick strokes), ``fine`` (thin pen);
- in the test split only, never tuned on: ``ruled`` and ``squared`` paper, ``pencil``,
  ``motion`` (motion blur), ``tilted`` (a perspective view), ``lowres`` (a low-resolution
  scan);
- conditions combined, as a phone meets them: ``mixed`` (tuned on: ruled or squared
  paper with a pencil, a fine pen, a small digit or a shadow) and, in the test split only,
  ``mixed-hard`` (never tuned on: motion blur or a tilted camera with one or two of paper
  lines, a pencil, marker or fine pen, a small digit, a shadow).

Families of numbers (2 to 6 digits): ``apart`` and ``touching`` (exactly one pair of
neighbours whose strokes touch: placed overlapping until the strokes cross, or joined by a
pen's connecting stroke; this code shares nothing with ``digitnet.data.synthetic``), both
as clean scans; ``num-photo`` (either, photographed as ``photo``); in the test split only,
``num-hard`` (either, on ruled or squared paper, in pencil, blurred or tilted).
"""

from __future__ import annotations

import io
import zlib

import numpy as np

#: The split's seed; a picture's generator is seeded with (seed, crc32(family), index).
SEEDS = {"validation": 20231, "test": 20232}
TUNING = ("clean", "canvas", "chalk", "photo", "shadow", "small", "marker", "fine")
TEST_ONLY = ("ruled", "squared", "pencil", "motion", "tilted", "lowres")
NUMBERS = ("apart", "touching", "num-photo")
NUMBERS_TEST_ONLY = ("num-hard",)
#: Families whose pictures are photos of paper (the issue's "photo-style" digits).
PHOTO_STYLE = ("photo", "shadow", "small", "marker", "fine", *TEST_ONLY)
#: Photos of paper with conditions combined, as a phone meets them: ``mixed`` (both
#: splits, tuned on) and ``mixed-hard`` (test only, never tuned on). Made later than the
#: families above and counted apart from them (``PHOTO_STYLE``'s figures stay comparable).
MIXED = ("mixed",)
MIXED_TEST_ONLY = ("mixed-hard",)

INKS = {"black": (0.09, 0.09, 0.11), "blue": (0.10, 0.18, 0.55), "grey": (0.38, 0.38, 0.40)}


def families(split: str) -> tuple:
    """The families of ``split`` ("validation" or "test"), singles then numbers."""
    if split == "test":
        return TUNING + TEST_ONLY + MIXED + MIXED_TEST_ONLY + NUMBERS + NUMBERS_TEST_ONLY
    if split == "validation":
        return TUNING + MIXED + NUMBERS
    raise ValueError(f"unknown split {split!r}: 'validation' or 'test'")


def generator(split: str, family: str, index: int) -> np.random.Generator:
    return np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray,
         record: dict | None = None):
    """Picture ``index`` of ``family``: (encoded bytes, label), the label a digit (int)
    or a number (str). ``digits_x`` (n, 784) and ``digits_y`` are the split's digits.
    ``record``, for a number: filled with its digits' MNIST rows (``rows``) and what
    ``number_ink`` records (the picture is the same with it or without)."""
    rng = generator(split, family, index)
    if family in NUMBERS + NUMBERS_TEST_ONLY:
        k = int(rng.integers(2, 7))
        idx = rng.integers(0, len(digits_y), k)
        touch = family == "touching" or (family != "apart" and rng.random() < 0.5)
        if record is not None:
            record["rows"] = digits_x[idx]
        alpha = number_ink(digits_x[idx], rng, touch, record=record)
        label = "".join(str(int(d)) for d in digits_y[idx])
        if family in ("apart", "touching"):
            return scan(alpha, rng), label
        conditions = _hard_conditions(rng) if family == "num-hard" else {}
        return photo(alpha, rng, digit_fraction=(0.12, 0.3), **conditions), label
    i = int(rng.integers(0, len(digits_y)))
    row, label = digits_x[i], int(digits_y[i])
    return SINGLE[family](row, rng), label


# -- the ink ---------------------------------------------------------------------------


def _field(shape, rng, cells=4):
    """A smooth random field (h, w), values about N(0, 1)."""
    from PIL import Image

    coarse = rng.normal(size=(cells, cells)).astype(np.float32)
    big = Image.fromarray(coarse, "F").resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.float32)


def pen_ink(row, height, rng, level=(0.3, 0.55), vary=0.08, slant=0.0):
    """An MNIST row as a pen stroke ``height`` pixels high: alpha (h, w) in [0, 1].

    The digit is enlarged and cut at a grey ``level`` that varies smoothly over the digit
    (a pen pressed harder or softer), with a one-pixel soft edge; lower levels give wider
    strokes. ``slant`` shears it (a fraction of its height)."""
    from PIL import Image

    image = row.reshape(28, 28)
    rows = np.flatnonzero(image.max(axis=1) > 0.05)
    cols = np.flatnonzero(image.max(axis=0) > 0.05)
    crop = np.pad(image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1)
    scale = height / crop.shape[0]
    size = (max(2, round(crop.shape[1] * scale)), max(2, round(height)))
    up = np.asarray(Image.fromarray(crop.astype(np.float32), "F")
                    .resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    cut = rng.uniform(*level) + vary * _field(up.shape, rng, 3)
    edge = max(0.04, 0.6 / scale)  # about a pixel of soft edge
    alpha = np.clip((up - cut) / edge + 0.5, 0.0, 1.0)
    if slant:
        h, w = alpha.shape
        extra = int(abs(slant) * h) + 1
        img = Image.fromarray(alpha, "F")
        shift = slant * h
        img = img.transform((w + extra, h), Image.Transform.AFFINE,
                            (1, slant, -max(shift, 0) if slant > 0 else 0, 0, 1, 0),
                            Image.Resampling.BILINEAR)
        alpha = np.asarray(img, dtype=np.float32)
    return alpha


def _rotate(alpha, degrees):
    from PIL import Image

    img = Image.fromarray(alpha, "F").rotate(degrees, Image.Resampling.BICUBIC, expand=True)
    return np.clip(np.asarray(img, dtype=np.float32), 0, 1)


def _grow(alpha, size):
    from PIL import Image, ImageFilter

    return np.asarray(Image.fromarray(alpha, "F").filter(ImageFilter.MaxFilter(size)), np.float32)


def number_ink(rows, rng, touch=False, gaps=None, record=None):
    """Digits written side by side: alpha (h, w) in [0, 1].

    Neighbours are apart by a gap of 8-40% of the height (or by ``gaps``, one a pair of
    neighbours, in heights); with ``touch`` one pair
    (chosen at random) touches instead: either the right digit slides left until its
    strokes overlap the left one's by 1-4 pixels, or a pen's connecting stroke joins the
    left digit's rightmost ink in its lower half to the right digit's leftmost ink.

    ``record`` (a dict), if given, gets each digit's ink alone on the page (``own``, one
    alpha a digit, before any joining stroke) and whether a stroke joined the pair
    (``joined``)."""
    height = rng.uniform(36, 64)
    level, slant = rng.uniform(0.3, 0.5), rng.uniform(-0.15, 0.25)
    inks = [pen_ink(r, height * rng.uniform(0.85, 1.05), rng, (level, level + 0.05), 0.05, slant)
            for r in rows]
    pair = int(rng.integers(0, len(rows) - 1)) if touch else -1
    tops = [int(rng.integers(0, 6)) + int(height * 1.05 - a.shape[0]) // 2 for a in inks]
    page_h = int(height * 1.05) + 8
    lefts = [0]
    for i in range(1, len(inks)):
        prev, cur = inks[i - 1], inks[i]
        if i - 1 == pair and rng.random() < 0.6:
            lefts.append(lefts[-1] + _touching_offset(prev, tops[i - 1], cur, tops[i],
                                                      int(rng.integers(1, 5))))
        else:
            gap = rng.uniform(0.08, 0.4) if gaps is None else gaps[i - 1]
            lefts.append(lefts[-1] + prev.shape[1] + int(height * gap))
    shift = -min(lefts)
    width = max(left + a.shape[1] for left, a in zip(lefts, inks)) + shift
    page = np.zeros((page_h + 2, width), np.float32)
    own = np.zeros((len(inks), *page.shape), np.float32) if record is not None else None
    for n, (left, top, a) in enumerate(zip(lefts, tops, inks)):
        at = (slice(top, top + a.shape[0]), slice(left + shift, left + shift + a.shape[1]))
        region = page[at]
        if own is not None:
            own[n][at] = a[:region.shape[0]]
        np.maximum(region, a[:region.shape[0]], out=region)
    joined = touch and not _touches(page, lefts, shift, inks, pair)
    if joined:
        _join(page, inks, lefts, tops, shift, pair, rng)
    if record is not None:
        record.update(own=own, joined=joined)
    return page


def writing_ink(number: bool, rng, digits_x, digits_y):
    """A number (2 to 6 of the digits, a pair touching in three in ten, ``number_ink``) or
    one digit (``pen_ink``, 50-110 pixels high, slanted) in a pen's hand: (alpha, label)."""
    if number:
        idx = rng.integers(0, len(digits_y), int(rng.integers(2, 7)))
        alpha = number_ink(digits_x[idx], rng, touch=rng.random() < 0.3)
        return alpha, "".join(str(int(d)) for d in digits_y[idx])
    i = int(rng.integers(0, len(digits_y)))
    return pen_ink(digits_x[i], rng.uniform(50, 110), rng, slant=rng.uniform(-0.1, 0.2)), int(digits_y[i])


def _touching_offset(a, top_a, b, top_b, overlap):
    """Where ``b`` starts relative to ``a``'s left edge so that, in the rows both cover,
    its leftmost stroke reaches ``overlap`` pixels past ``a``'s rightmost one."""
    best = None
    for r in range(max(top_a, top_b), min(top_a + a.shape[0], top_b + b.shape[0])):
        ra, rb = np.flatnonzero(a[r - top_a] > 0.5), np.flatnonzero(b[r - top_b] > 0.5)
        if len(ra) and len(rb):
            offset = ra[-1] - rb[0] - overlap  # b's column 0 at this column of a
            best = offset if best is None else max(best, offset)
    return a.shape[1] - overlap if best is None else int(best)


def _touches(page, lefts, shift, inks, pair):
    """Whether the two digits of ``pair`` form one connected stroke on ``page``."""
    from digitnet.read import label

    left = lefts[pair] + shift
    right = lefts[pair + 1] + shift + inks[pair + 1].shape[1]
    labels = label(page[:, left:right] > 0.5)
    a_cols = np.flatnonzero(inks[pair].max(axis=0) > 0.5)
    b_cols = np.flatnonzero(inks[pair + 1].max(axis=0) > 0.5)
    col_a = lefts[pair] + shift + a_cols[0] - left
    col_b = lefts[pair + 1] + shift + b_cols[-1] - left
    la = set(labels[:, col_a][labels[:, col_a] > 0].tolist())
    lb = set(labels[:, col_b][labels[:, col_b] > 0].tolist())
    return bool(la & lb)


def _join(page, inks, lefts, tops, shift, pair, rng):
    """Draw a pen's connecting stroke from the left digit of ``pair`` to the right one."""
    from PIL import Image, ImageDraw

    a, b = inks[pair] > 0.5, inks[pair + 1] > 0.5
    ra, ca = np.nonzero(a)
    lower = ra >= a.shape[0] * rng.uniform(0.3, 0.6)
    ra, ca = (ra[lower], ca[lower]) if lower.any() else (ra, ca)
    k = int(np.argmax(ca))
    start = (lefts[pair] + shift + ca[k], tops[pair] + ra[k])
    rb, cb = np.nonzero(b)
    k = int(np.argmin(cb + 0.3 * np.abs(rb + tops[pair + 1] - start[1])))
    end = (lefts[pair + 1] + shift + cb[k] + 1, tops[pair + 1] + rb[k])
    width = max(2, int(round(2 * a.sum() / max(1, _perimeter(a)))))
    img = Image.fromarray((page * 255).astype(np.uint8), "L")
    ImageDraw.Draw(img).line([start, end], fill=255, width=width)
    page[:] = np.asarray(img, dtype=np.float32) / 255


def _perimeter(mask):
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return mask.sum() - inner.sum()


# -- the pictures ----------------------------------------------------------------------


def _encode(image, fmt, rng=None, quality=(45, 92)):
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=int(rng.integers(*quality)))
    else:
        image.save(out, fmt, optimize=False)
    return out.getvalue()


def snapshot(rgb, rng):
    """Colours ``rgb`` (h, w, 3) in [0, 1] as a phone's lens and sensor take them: blurred
    a little, with noise, as JPEG bytes."""
    from PIL import Image, ImageFilter

    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))  # the lens
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + rng.normal(0, rng.uniform(2, 9), pixels.shape)
    return _encode(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB"), "JPEG", rng)


def _place(alpha, frame, rng, fraction, margin=0.0):
    """``alpha`` scaled to ``fraction`` of the frame's height and put at a random place
    at least ``margin`` (a fraction of the frame) from its edges: an alpha map (h, w)."""
    from PIL import Image

    h, w = frame
    target = h * rng.uniform(*fraction)
    scale = min(target / alpha.shape[0], 0.9 * w / alpha.shape[1], (1 - 2 * margin) * h / alpha.shape[0],
                (1 - 2 * margin) * w / alpha.shape[1])
    size = (max(1, round(alpha.shape[1] * scale)), max(1, round(alpha.shape[0] * scale)))
    if size != alpha.shape[::-1]:
        alpha = np.asarray(Image.fromarray(alpha, "F").resize(size, Image.Resampling.BILINEAR))
    out = np.zeros((h, w), np.float32)
    mh, mw = int(margin * h), int(margin * w)
    top = int(rng.integers(mh, max(mh, h - mh - size[1]) + 1))
    left = int(rng.integers(mw, max(mw, w - mw - size[0]) + 1))
    out[top:top + size[1], left:left + size[0]] = np.clip(alpha, 0, 1)
    return out


def _lighting(shape, rng, gradient=0.3, vignette=0.3, shadow=0.0):
    """A multiplicative light field (h, w): a linear gradient, vignetting, and a shadow
    with a soft edge darkening one side by ``shadow``."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    y, x = y / h - 0.5, x / w - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 - gradient * rng.uniform(0.3, 1) * (0.5 + np.cos(angle) * x + np.sin(angle) * y)
    cy, cx = rng.uniform(-0.2, 0.2, 2)
    light *= 1 - vignette * rng.uniform(0.4, 1) * ((x - cx) ** 2 + (y - cy) ** 2) * 2
    if shadow:
        a = rng.uniform(0, 2 * np.pi)
        d = np.cos(a) * x + np.sin(a) * y - rng.uniform(-0.25, 0.25)
        soft = rng.uniform(0.005, 0.05)
        light *= 1 - shadow * (1 / (1 + np.exp(-d / soft)))
    return light


def _lines(paper, rng, squared):
    """Ruled (or squared) paper: faint blue or grey lines every 18-34 pixels."""
    h, w, _ = paper.shape
    step = int(rng.integers(18, 35))
    colour = np.array([(0.55, 0.65, 0.85), (0.6, 0.6, 0.62), (0.55, 0.75, 0.8)][rng.integers(3)])
    strength = rng.uniform(0.35, 0.8)
    thick = int(rng.integers(1, 3))
    mask = np.zeros((h, w), np.float32)
    for r in range(int(rng.integers(0, step)), h, step):
        mask[r:r + thick] = 1
    if squared:
        for c in range(int(rng.integers(0, step)), w, step):
            mask[:, c:c + thick] = 1
    elif rng.random() < 0.5:  # a margin line in red
        c = int(w * rng.uniform(0.05, 0.2))
        paper[:, c:c + 2] = paper[:, c:c + 2] * 0.3 + 0.7 * np.array([0.85, 0.3, 0.3])
    mask *= strength
    return paper * (1 - mask[..., None]) + colour * paper * mask[..., None]


def photo(alpha, rng, digit_fraction=(0.12, 0.4), frame=None, ink=None, lines=None,
          pencil=False, blur=0, tilt=0.0, shadow=0.0, lowres=False):
    """Ink ``alpha`` written on paper and photographed: JPEG bytes."""
    from PIL import Image, ImageFilter

    if frame is None:
        w = int(rng.integers(320, 641))
        frame = (int(w * rng.uniform(0.6, 1.0)), w)
    a = _place(alpha, frame, rng, digit_fraction, margin=0.04 + tilt)
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.12, 3) * np.array([0.3, 0.6, 1.0])
    paper = np.broadcast_to(tint * rng.uniform(0.8, 1.0), (*frame, 3)).astype(np.float32)
    if lines:
        paper = _lines(paper.copy(), rng, squared=lines == "squared")
    if pencil:
        colour = np.full(3, rng.uniform(0.25, 0.45))
        a = a * rng.uniform(0.55, 0.9) * rng.uniform(0.55, 1.0, a.shape).astype(np.float32)
    else:
        colour = np.array(INKS[("black", "blue", "grey")[rng.integers(3)]]) * rng.uniform(0.7, 1.3)
        a = a * rng.uniform(0.85, 1.0)
    rgb = paper * (1 - a[..., None]) + colour * a[..., None]
    rgb *= _lighting(frame, rng, rng.uniform(0.1, 0.45), rng.uniform(0.1, 0.5), shadow)[..., None]
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    if tilt:
        image = _perspective(image, rng, tilt)
    if blur:
        image = _motion_blur(image, rng, blur)
    else:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))  # the lens
    if lowres:
        f = rng.uniform(2, 3.5)
        image = image.resize((round(image.width / f), round(image.height / f)), Image.Resampling.BOX)
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + rng.normal(0, rng.uniform(2, 9), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return _encode(image, "JPEG", rng)


def _perspective(image, rng, tilt):
    """The page seen by a camera tilted by up to ``tilt`` (a fraction of the frame)."""
    from PIL import Image

    w, h = image.size
    d = [rng.uniform(0, tilt) for _ in range(8)]
    corners = [(d[0] * w, d[1] * h), (w - d[2] * w, d[3] * h), (w - d[4] * w, h - d[5] * h),
               (d[6] * w, h - d[7] * h)]
    target = [(0, 0), (w, 0), (w, h), (0, h)]
    coeffs = _perspective_coefficients(target, corners)
    background = tuple(int(v) for v in np.asarray(image)[h // 2, :4].mean(axis=0) * 0.6)
    return image.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC,
                           fillcolor=background)


def _perspective_coefficients(target, source):
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return tuple(np.linalg.solve(np.array(rows, float), np.array(rhs, float)).tolist())


def _motion_blur(image, rng, length):
    """Blur along a random direction over ``length`` pixels (a shaking hand)."""
    from PIL import Image

    n = int(rng.integers(max(3, length // 2), length + 1))
    angle = rng.uniform(0, np.pi)
    pixels = np.asarray(image, dtype=np.float32)
    out = np.zeros_like(pixels)
    for t in np.linspace(-(n - 1) / 2, (n - 1) / 2, n):
        dy, dx = int(round(t * np.sin(angle))), int(round(t * np.cos(angle)))
        out += np.roll(pixels, (dy, dx), axis=(0, 1))
    return Image.fromarray(np.clip(out / n, 0, 255).astype(np.uint8), "RGB")


def scan(alpha, rng, digit_fraction=(0.5, 0.8)):
    """Ink on white paper, scanned: a grey PNG, the writing with a margin around it."""
    from PIL import Image

    h, w = alpha.shape
    frame = (int(h / rng.uniform(*digit_fraction)), int(w + h * rng.uniform(0.3, 1.0)))
    a = _place(alpha, frame, rng, (h / frame[0], h / frame[0]))
    grey = 1 - 0.92 * a
    return _encode(Image.fromarray((grey * 255).round().astype(np.uint8), "L"), "PNG")


def _photo_single(row, rng, level=(0.3, 0.55), grow=0, **conditions):
    alpha = pen_ink(row, rng.uniform(60, 140), rng, level, slant=rng.uniform(-0.1, 0.2))
    if grow:
        alpha = _grow(alpha, grow)
    alpha = _rotate(alpha, rng.uniform(-12, 12))
    conditions.setdefault("digit_fraction", (0.12, 0.4))
    return photo(alpha, rng, **conditions)


def _canvas(row, rng):
    from PIL import Image

    alpha = pen_ink(row, rng.uniform(100, 220), rng, (0.3, 0.5), 0.03)
    a = _place(alpha, (280, 280), rng, (alpha.shape[0] / 280,) * 2)
    colour = [(0, 0, 0), (20, 20, 160), (200, 30, 30), (255, 255, 255)][rng.integers(4)]
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = (a * 255).round().astype(np.uint8)
    return _encode(Image.fromarray(rgba, "RGBA"), "PNG")


def _chalk(row, rng):
    from PIL import Image

    alpha = _rotate(pen_ink(row, rng.uniform(60, 150), rng, (0.25, 0.45)), rng.uniform(-8, 8))
    w = int(rng.integers(320, 641))
    frame = (int(w * rng.uniform(0.6, 1.0)), w)
    a = _place(alpha, frame, rng, (0.2, 0.6), margin=0.04)
    a *= rng.uniform(0.5, 1.0, a.shape).astype(np.float32) * rng.uniform(0.75, 0.95)
    board = np.array([(0.16, 0.25, 0.2), (0.12, 0.12, 0.13), (0.2, 0.22, 0.25)][rng.integers(3)])
    board = board * (1 + 0.15 * _field(frame, rng, 6)[..., None])  # chalk dust, wiped
    rgb = board * (1 - a[..., None]) + rng.uniform(0.8, 0.95) * a[..., None]
    rgb *= _lighting(frame, rng, 0.3, 0.3)[..., None]
    pixels = np.clip(rgb * 255 + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    return _encode(Image.fromarray(pixels, "RGB"), "JPEG", rng)


def _clean(row, rng):
    return scan(_rotate(pen_ink(row, rng.uniform(60, 160), rng, (0.3, 0.5), 0.04),
                        rng.uniform(-5, 5)), rng, (0.4, 0.8))


def _lowres(row, rng):
    alpha = pen_ink(row, rng.uniform(60, 100), rng)
    return photo(alpha, rng, digit_fraction=(0.45, 0.75), frame=(int(rng.integers(100, 141)),) * 2,
                 lowres=True)


def _hard_conditions(rng):
    """One of the test-only conditions, for numbers."""
    choice = int(rng.integers(5))
    return [{"lines": "ruled"}, {"lines": "squared"}, {"pencil": True}, {"blur": 9},
            {"tilt": 0.12}][choice]


#: One condition of a photo, as keyword arguments of ``_photo_single`` (a few drawn anew
#: for each picture): the pen, the paper, the camera.
CONDITIONS = {
    "pencil": lambda rng: {"level": (0.45, 0.65), "pencil": True},
    "fine": lambda rng: {"level": (0.6, 0.75)},
    "marker": lambda rng: {"level": (0.15, 0.3), "grow": int(rng.integers(3, 8)) | 1},
    "ruled": lambda rng: {"lines": "ruled"},
    "squared": lambda rng: {"lines": "squared"},
    "small": lambda rng: {"digit_fraction": (0.05, 0.1), "frame": (480, 640)},
    "shadow": lambda rng: {"shadow": rng.uniform(0.3, 0.6)},
    "motion": lambda rng: {"blur": int(rng.integers(6, 14))},
    "tilted": lambda rng: {"tilt": 0.15},
}


def _combined(row, rng, names):
    """A photo of the digit ``row`` with the ``CONDITIONS`` ``names`` at once."""
    conditions: dict = {}
    for name in names:
        conditions.update(CONDITIONS[name](rng))
    return _photo_single(row, rng, **conditions)


def _mixed(row, rng):
    """Ruled or squared paper, and a pencil, a fine pen, a small digit or a shadow."""
    paper = ("ruled", "squared")[rng.integers(2)]
    return _combined(row, rng, (paper, ("pencil", "fine", "small", "shadow")[rng.integers(4)]))


def _mixed_hard(row, rng):
    """A shaking hand or a tilted camera, with one or two of: paper lines, a pencil, a
    marker or a fine pen, a small digit, a shadow (never tuned on)."""
    camera = ("motion", "tilted")[rng.integers(2)]
    groups = [("ruled", "squared"), ("pencil", "marker", "fine"), ("small",), ("shadow",)]
    picked = rng.choice(len(groups), int(rng.integers(1, 3)), replace=False)
    return _combined(row, rng, (camera, *(groups[g][rng.integers(len(groups[g]))] for g in sorted(picked))))


SINGLE = {
    "clean": _clean,
    "canvas": _canvas,
    "chalk": _chalk,
    "photo": _photo_single,
    # a condition alone: the photo of ``_combined`` with it (the same draws, the same bytes)
    **{name: (lambda row, rng, name=name: _combined(row, rng, (name,)))
       for name in ("shadow", "small", "marker", "fine", "ruled", "squared", "pencil", "motion", "tilted")},
    "lowres": _lowres,
    "mixed": _mixed,
    "mixed-hard": _mixed_hard,
}


def digits_of(split: str, data_dir=None):
    """The MNIST digits pictures of ``split`` are made from: (x (n, 784), y (n,)); the
    validation split is the last 10,000 of the training file, the test split the t10k file."""
    from digitnet.data import mnist

    data = mnist.load("mnist", data_dir)
    part = data.test if split == "test" else data.validation
    if split not in SEEDS:
        raise ValueError(f"unknown split {split!r}: 'validation' or 'test'")
    return part.x, part.y


def pictures(split: str, family: str, n: int, digits=None):
    """The first ``n`` pictures of ``family`` in ``split``: a list of (bytes, label)."""
    x, y = digits if digits is not None else digits_of(split)
    return [make(family, split, i, x, y) for i in range(n)]


def checksum(items) -> str:
    """SHA-256 of pictures and labels, in order: what the frozen sets are checked by."""
    import hashlib

    h = hashlib.sha256()
    for data, label in items:
        h.update(f"{label}:{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()
