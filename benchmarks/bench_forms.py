"""Numbers written on forms: `digitnet read` on digits on a printed line, in boxes, in a frame.

    python -m benchmarks.bench_forms --split validation   # tune on this
    python -m benchmarks.bench_forms --split test         # the frozen held-out set
    python -m benchmarks.bench_forms --save DIR ...       # also write the pictures
    python -m benchmarks.bench_forms --sheet docs/forms.png   # pictures and what read keeps

A cheque's amount, a postcode on an envelope, an account number on a slip: the digits
are written on a printed line (``line``), one in each box of a comb (``boxes``), or in a
box round the whole number (``frame``), and the print is as dark as the ink and often
touched or crossed by it. Each picture holds 2-6 digits of the split in a pen's hand
(``realworld.pen_ink``), scanned on white (``scan``) or photographed on paper
(``photo``: tinted paper, uneven light, lens blur, noise, JPEG). The print is black or
grey, 1-3 pixels wide on validation; the test split adds conditions never tuned on: print
in a form's colour (red, blue or green) for half its pictures, lines up to 4 pixels wide,
a camera tilted off the page's axis for a third of its photos, and a fourth form,
``ticks`` (a line with short upright marks between the digits). The test set is frozen:
``FROZEN`` holds its SHA-256, checked on every run.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import score_numbers

FORMS = {"validation": ("line", "boxes", "frame"), "test": ("line", "boxes", "frame", "ticks"),
         "validation-b": ("line", "boxes", "frame"), "test-b": ("line", "boxes", "frame", "ticks"),
         "validation-c": ("line", "boxes", "frame", "ticks"),
         "test-c": ("line", "boxes", "frame", "ticks"),
         "validation-d": ("cells",), "test-d": ("cells",)}
#: The second sets (made after the first test set was measured): ``validation-b`` has the
#: test split's conditions (coloured print, lines up to 4 px, a tilted camera) on
#: validation digits, to tune on; ``test-b`` is the test split's recipe with new pictures
#: of test digits, frozen before that tuning. The third pair (made after test-b was
#: measured, for the ``ticks`` form): ``validation-c``, every form with the test
#: conditions on validation digits, ticks included, to tune on; ``test-c``, new pictures of
#: test digits, frozen before that tuning. The fourth (made when a row of boxes apart from
#: each other, a postcode's or a tax form's, was found read as a string of 1s):
#: ``validation-d``, the ``cells`` form on validation digits with the validation split's
#: conditions, to tune on; ``test-d``, test digits with the test conditions (coloured
#: print, lines up to 4 px, a tilted camera: never tuned on for this form), frozen before
#: that tuning. Each draws from its own seed.
SEEDS = {**realworld.SEEDS, "validation-b": 20241, "test-b": 20242, "validation-c": 20243,
         "test-c": 20244, "validation-d": 20245, "test-d": 20246}
CONDITIONS = ("scan", "photo")
#: Pictures per form and condition at the frozen size.
NUMBERS = 100
#: SHA-256 of the test pictures (``realworld.checksum``, every form and condition in
#: order) at NUMBERS, made before the front end was tuned on forms (Pillow 13.0.0,
#: NumPy 2.4.6).
FROZEN = {"test": "289dfef7c1b5bbadb54362964da19d499b039f12ad79f4d1b5045720ada31064",
          "test-b": "5c80dc9679cbeae156c7d581344e09c6f63faf0708bc3770be6fcbf88bbf99d8",
          "test-c": "30e7247bc85c0ce3efdc9fb0eede5114a87e7a11e9391d30c9e2cc104b88eff0",
          "test-d": "9dbf3dcc78c171b80e1e604f56bf4e418e1f1e29851174117cd69dad168f0d61"}
#: Print colours (RGB in [0, 1]): black or grey on every split, a form's colour on test only.
DARK = ((0.1, 0.1, 0.1), (0.3, 0.3, 0.32), (0.45, 0.45, 0.45))
COLOURED = ((0.85, 0.25, 0.2), (0.25, 0.4, 0.8), (0.3, 0.6, 0.35))


def make(split: str, form: str, condition: str, index: int, digits):
    """One picture: (bytes, the number's digits)."""
    x, y = digits
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(f"form-{form}-{condition}".encode()),
                                 index])
    k = int(rng.integers(2, 7))
    idx = rng.integers(0, len(y), k)
    test = split not in ("validation", "validation-d")  # (the test split's conditions)
    width = int(rng.integers(1, 5 if test else 4))
    colour = np.array(COLOURED[rng.integers(3)] if test and rng.random() < 0.5
                      else DARK[rng.integers(3)])
    ink, printed = (_boxed if form in ("boxes", "ticks", "cells") else _lined)(x[idx], rng, form, width)
    if condition == "scan":
        data = _scan(ink, printed, colour, rng)
    else:
        tilt = 0.08 if test and rng.random() < 1 / 3 else 0.0
        data = _photo(ink, printed, colour, rng, tilt)
    return data, "".join(str(int(d)) for d in y[idx])


def _draw(shape, lines, width):
    """Straight lines ((x0, y0, x1, y1), ...) ``width`` pixels wide: alpha (h, w)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(image)
    for line in lines:
        draw.line(line, fill=255, width=width)
    return np.asarray(image, dtype=np.float32) / 255


def _lined(rows, rng, form, width):
    """A number in a pen's hand on a printed line or in a printed frame: (ink, print)."""
    number = realworld.number_ink(rows, rng, touch=rng.random() < 0.3)
    inked = np.flatnonzero(number.max(axis=1) > 0.5)
    height = inked[-1] - inked[0] + 1
    pad = int(height * 0.8)
    ink = np.pad(number, pad)
    top, bottom = inked[0] + pad, inked[-1] + pad
    left, right = pad, pad + number.shape[1]
    if form == "line":  # the digits stand on the line, some a little below or above it
        base = bottom + int(round(height * rng.uniform(-0.12, 0.1)))
        reach = height * rng.uniform(0.1, 0.7, 2)
        lines = [(left - reach[0], base, right + reach[1], base)]
    else:
        m = height * rng.uniform(0.03, 0.35, 4)
        t, b, lf, r = top - m[0], bottom + m[1], left - m[2], right + m[3]
        lines = [(lf, t, r, t), (r, t, r, b), (r, b, lf, b), (lf, b, lf, t)]
    return ink, _draw(ink.shape, lines, width)


def _boxed(rows, rng, form, width):
    """One digit in each printed box of a comb (``boxes``), in each of a row of boxes
    apart from each other (``cells``, 0.1-0.6 of a box's width apart), or above a line
    with ticks between the digits (``ticks``): (ink, print)."""
    height = rng.uniform(40, 70)  # the boxes'
    cell = height * rng.uniform(0.8, 1.2)
    level, slant = rng.uniform(0.3, 0.5), rng.uniform(-0.1, 0.2)
    pad = int(height * 0.5)
    pitch = cell * (1 + rng.uniform(0.1, 0.6)) if form == "cells" else cell
    shape = (int(height) + 2 * pad + 1, int(pitch * len(rows)) + 2 * pad + 1)
    ink = np.zeros(shape, np.float32)
    for i, row in enumerate(rows):
        digit = realworld.pen_ink(row, height * rng.uniform(0.55, 0.85), rng,
                                  (level, level + 0.05), 0.05, slant)
        h, w = digit.shape
        # centred in its box, give or take; now and then over the box's edge
        dx = int(pad + i * pitch + (cell - w) / 2 + cell * rng.uniform(-0.12, 0.12))
        room = height - h
        dy = int(pad + room * rng.uniform(0.2, 0.8)
                 + (height * rng.uniform(-0.1, 0.1) if rng.random() < 0.3 else 0))
        dx, dy = max(0, min(dx, shape[1] - w)), max(0, min(dy, shape[0] - h))
        np.maximum(ink[dy:dy + h, dx:dx + w], digit, out=ink[dy:dy + h, dx:dx + w])
    top, bottom, x0 = pad, pad + height, pad
    xs = [x0 + i * cell for i in range(len(rows) + 1)]
    if form == "cells":
        lines = []
        for i in range(len(rows)):
            lf, r = x0 + i * pitch, x0 + i * pitch + cell
            lines += [(lf, top, r, top), (r, top, r, bottom), (r, bottom, lf, bottom), (lf, bottom, lf, top)]
        return ink, _draw(shape, lines, width)
    lines = [(xs[0], bottom, xs[-1], bottom)]
    if form == "boxes":
        lines += [(xs[0], top, xs[-1], top)] + [(x, top, x, bottom) for x in xs]
    else:
        tick = height * rng.uniform(0.2, 0.45)
        lines += [(x, bottom - tick, x, bottom) for x in xs]
    return ink, _draw(shape, lines, width)


def _scan(ink, printed, colour, rng):
    """Print and ink on white paper, scanned: a PNG, the form with a margin round it."""
    from PIL import Image

    pixels = _paper(np.ones(3), ink, printed, colour, np.full(3, 0.08))
    frame = _margin(pixels, rng, np.ones(3))
    mode, values = ("L", frame[..., 0]) if np.ptp(colour) == 0 else ("RGB", frame)
    return realworld._encode(Image.fromarray((values * 255).round().astype(np.uint8), mode), "PNG")


def _paper(paper, ink, printed, colour, ink_colour):
    """Paper (RGB) printed on, then written on: (h, w, 3)."""
    rgb = paper * (1 - printed[..., None]) + colour * printed[..., None]
    return rgb * (1 - ink[..., None]) + ink_colour * ink[..., None]


def _margin(pixels, rng, paper):
    h, w, _ = pixels.shape
    t, b, lf, r = (int(h * v) for v in rng.uniform(0.0, 0.4, 4))
    out = np.broadcast_to(paper, (h + t + b, w + lf + r, 3)).copy()
    out[t:t + h, lf:lf + w] = pixels
    return out


def _photo(ink, printed, colour, rng, tilt):
    """The form on paper, photographed: JPEG bytes (``realworld.photo``'s conditions,
    the form 12-30% of the frame's height)."""
    from PIL import Image, ImageFilter

    w = int(rng.integers(320, 641))
    frame = (int(w * rng.uniform(0.6, 1.0)), w)
    fraction = rng.uniform(0.12, 0.3) * 2.2  # (the form's height with its margin)
    scale = min(frame[0] * fraction / ink.shape[0], 0.9 * frame[1] / ink.shape[1])
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    layers = [np.asarray(Image.fromarray(a, "F").resize(size, Image.Resampling.BILINEAR))
              for a in (ink, printed)]
    top = int(rng.integers(0, max(0, frame[0] - size[1]) + 1))
    left = int(rng.integers(0, max(0, frame[1] - size[0]) + 1))
    placed = []
    for a in layers:
        out = np.zeros(frame, np.float32)
        out[top:top + size[1], left:left + size[0]] = np.clip(a, 0, 1)[:frame[0] - top, :frame[1] - left]
        placed.append(out)
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.12, 3) * np.array([0.3, 0.6, 1.0])
    paper = tint * rng.uniform(0.8, 1.0)
    ink_colour = np.array(realworld.INKS[("black", "blue", "grey")[rng.integers(3)]]) * rng.uniform(0.7, 1.3)
    rgb = _paper(paper, placed[0] * rng.uniform(0.85, 1.0), placed[1], colour * paper, ink_colour)
    rgb *= realworld._lighting(frame, rng, rng.uniform(0.1, 0.45), rng.uniform(0.1, 0.5))[..., None]
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    if tilt:
        image = realworld._perspective(image, rng, tilt)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + rng.normal(0, rng.uniform(2, 9), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return realworld._encode(image, "JPEG", rng)


def pictures(split: str, n: int, digits):
    """{(form, condition): [(bytes, label)]} for every form and condition of ``split``."""
    return {(form, c): [make(split, form, c, i, digits) for i in range(n)]
            for form in FORMS[split] for c in CONDITIONS}


def sheet(path, digits, chosen=(("line", "scan", 3), ("boxes", "photo", 1), ("frame", "photo", 3),
                                 ("boxes", "scan", 3), ("ticks", "photo", 1, "validation-c"),
                                 ("cells", "scan", 1, "validation-d"),
                                 ("cells", "photo", 7, "validation-d"))):
    """Validation pictures (left) beside the ink ``read`` finds in them (right): a PNG.
    ``chosen``: (form, condition, index[, split: validation by default])."""
    import io

    from PIL import Image, ImageOps

    from digitnet.data.frontend import ink

    rows = []
    for form, condition, index, *split in chosen:
        data, _ = make(split[0] if split else "validation", form, condition, index, digits)
        picture = Image.open(io.BytesIO(data)).convert("L")
        kept = Image.fromarray((255 - 255 * ink(data)).astype(np.uint8))
        box = ImageOps.invert(kept).getbbox()
        pad = 12
        crop = (max(0, box[0] - pad), max(0, box[1] - pad), box[2] + pad, box[3] + pad)
        pair = [picture.crop(crop), kept.crop(crop)]
        rows.append([im.resize((320, max(1, round(320 * im.height / im.width)))) for im in pair])
    out = Image.new("L", (660, sum(r[0].height + 10 for r in rows)), 255)
    y = 0
    for left, right in rows:
        out.paste(left, (0, y))
        out.paste(right, (340, y))
        y += left.height + 10
    out.save(path, optimize=True)


def frozen_check(frozen, digest, full_size):
    """What a run says of its pictures against the frozen SHA-256 (nothing for a split
    that is not frozen, or a set not at the frozen size)."""
    if frozen is None or not full_size:
        return ""
    return "frozen: ok" if frozen == digest else "FROZEN CHECKSUM DIFFERS"


def save_pictures(sets, folder):
    """Write {(form, condition): [(bytes, label)]} to FOLDER/form-condition/NNN_label.png|jpg."""
    for (form, condition), items in sets.items():
        path = Path(folder) / f"{form}-{condition}"
        path.mkdir(parents=True, exist_ok=True)
        for i, (data, label) in enumerate(items):
            suffix = "png" if data[:4] == b"\x89PNG" else "jpg"
            (path / f"{i:03d}_{label}.{suffix}").write_bytes(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=tuple(FORMS), default="validation")
    parser.add_argument("--numbers", type=int, default=NUMBERS,
                        help="pictures per form and condition")
    parser.add_argument("--model", help="model file (default: the shipped default)")
    parser.add_argument("--save", metavar="DIR", help="also write the pictures to DIR")
    parser.add_argument("--digest", action="store_true", help="print the set's SHA-256 and stop")
    parser.add_argument("--sheet", metavar="PNG",
                        help="draw a few validation pictures beside the ink read in them, and stop")
    args = parser.parse_args(argv)

    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    if args.sheet:
        sheet(args.sheet, realworld.digits_of("validation"))
        return 0
    digits = realworld.digits_of(args.split.split("-")[0])
    sets = pictures(args.split, args.numbers, digits)
    digest = realworld.checksum([item for items in sets.values() for item in items])
    if args.digest:
        print(digest)
        return 0
    check = frozen_check(FROZEN.get(args.split), digest, args.numbers == NUMBERS)
    if args.save:
        save_pictures(sets, args.save)
    reader = for_inference(resolve_model(args.model))
    print(f"split: {args.split}; {args.numbers} pictures per form and condition; "
          f"exact readings {check}")
    print(f"{'form':>6s} " + " ".join(f"{c:>8s}" for c in CONDITIONS) + "   ms per picture")
    total = 0
    for form in FORMS[args.split]:
        row, seconds = [], 0.0
        for condition in CONDITIONS:
            scored = score_numbers(sets[(form, condition)], reader)
            seconds += scored.seconds * args.numbers
            total += scored.correct
            row.append(f"{100 * scored.correct / args.numbers:7.1f}%")
        print(f"{form:>6s} " + " ".join(row) + f"   {1000 * seconds / (2 * args.numbers):6.1f}",
              flush=True)
    count = len(FORMS[args.split]) * len(CONDITIONS) * args.numbers
    print(f"every picture: {100 * total / count:.1f}% ({total} of {count})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
