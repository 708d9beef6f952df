"""What the number errors on `realworld`'s pictures are: a digit hidden under its
neighbour, a digit that reads as another as it is written, or neither (issue 23).

    python -m benchmarks.number_errors --split validation [--first 0] [--n 200]
        [--families apart,touching,num-photo] [--sheet errors.png]

Each number picture of ``benchmarks/realworld.py`` is made again with each digit's ink
kept apart (``layers``: the generator records it, ``make(..., record=)``), and read as
``digitnet read`` reads it. For each digit: how much of its ink lies
under the other digits' (a digit more than half under its neighbours is *hidden*: the
generator slid it into them or along their strokes), and whether the shipped ensemble reads the MNIST digit
it was drawn from, alone, as its label (if not, it *reads as another as written*). A
number with neither is *readable*: every digit visible and, alone, read right. The table
gives each family's exact readings, and on its readable numbers alone, and sorts the
errors: a digit hidden, else a digit that reads as another, else a touching pair joined
by the generator's pen stroke (level, into the next digit's middle), else none; ``--sheet``
draws the misread pictures, each with its label and reading, and what was wrong with
its digits; last, the numbers accepted at ``--threshold`` and the kinds of the wrong ones
among them. The labels are the generator's: the frozen sets' ceiling, not a human's.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks import realworld as rw
from digitnet.data.frontend.fit import stroke_width

#: A digit with less than this share of its ink outside its neighbours' is hidden.
VISIBLE = 0.5


def layers(family: str, split: str, index: int, x: np.ndarray, y: np.ndarray):
    """Number picture ``index`` of ``family``, its digits' ink apart: (picture bytes, label,
    the MNIST rows of its digits, each digit's alpha on the page, whether a pen's stroke
    joins its touching pair), as ``realworld.make`` records them."""
    record: dict = {}
    data, label = rw.make(family, split, index, x, y, record=record)
    return data, label, record["rows"], record["own"], record["joined"]


def visible(own: np.ndarray) -> np.ndarray:
    """Each digit's share of its ink (alpha > 0.5) farther than a stroke's width from
    another digit's: a 1 drawn along an 8's side, its ink beside the 8's rather than on it,
    is as lost in the 8 as one drawn over it."""
    ink = own > 0.5
    shares = []
    for n in range(len(ink)):
        others = np.delete(ink, n, axis=0).any(axis=0)
        near = _grown(others, max(1, round(stroke_width(ink[n]))))
        shares.append(1 - (ink[n] & near).sum() / max(1, ink[n].sum()))
    return np.array(shares)


def _grown(mask: np.ndarray, r: int) -> np.ndarray:
    """``mask`` grown by ``r`` steps up, down, left and right (a diamond: the pixels within
    ``r`` of it along rows and columns; ``frontend.select._grown`` grows a square, which
    would count a few more digits hidden than the figures in BENCHMARKS.md)."""
    out = mask.copy()
    for _ in range(r):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def read_calibrated(data, calibrated) -> tuple:
    """(the string read, its calibrated confidence) of a picture, as ``digitnet read``
    reports them; ("", 0) where it finds no number. (``digitnet.read.read_number`` gives the
    raw confidence, the product of the digits'.)"""
    import digitnet
    from digitnet.errors import ImageError
    from digitnet.read import read_number

    try:
        reading = read_number(data, digitnet.shipped_model())
    except ImageError:
        return "", 0.0
    return reading.text, calibrated.number_confidence(reading)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="validation", choices=("validation", "test"))
    parser.add_argument("--first", type=int, default=0, help="the first picture's index")
    parser.add_argument("--n", type=int, default=200, help="pictures a family")
    parser.add_argument("--families", default="apart,touching,num-photo")
    parser.add_argument("--sheet", help="draw the misread pictures into this PNG")
    parser.add_argument("--kinds", default="hidden,as written,joined,neither",
                        help="--sheet: only the errors of these kinds")
    parser.add_argument("--threshold", type=float, default=0.76,
                        help="also count the numbers accepted at this calibrated confidence "
                        "(default 0.76, the README's for accepting 95%%) and the errors among them")
    args = parser.parse_args(argv)

    from digitnet import calibration
    from digitnet.pretrained import resolve_model

    x, y = rw.digits_of(args.split)
    model = resolve_model(None)
    calibrated = calibration.for_model(None)
    print(f"| family ({args.split}, pictures {args.first}-{args.first + args.n - 1}) | exact | "
          "readable numbers | exact on them | errors: a digit hidden | reads as another "
          "as written | a pair joined by a stroke | none of these |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    wrong, totals = [], np.zeros(4, int)  # pictures, right, readable, right of those
    accepted, sure_wrong = 0, {"hidden": 0, "as written": 0, "joined": 0, "neither": 0}
    for family in args.families.split(","):
        right = readable = right_readable = 0
        kinds = {"hidden": 0, "as written": 0, "joined": 0, "neither": 0}
        for index in range(args.first, args.first + args.n):
            data, label, rows, own, joined = layers(family, args.split, index, x, y)
            hidden = visible(own) < VISIBLE
            alone = model.predict(rows) != np.array([int(c) for c in label])
            ok = not hidden.any() and not alone.any()
            text, confidence = read_calibrated(data, calibrated)
            accepted += confidence >= args.threshold
            readable += ok
            right += text == label
            right_readable += ok and text == label
            if text != label:
                kind = ("hidden" if hidden.any() else "as written" if alone.any()
                        else "joined" if joined else "neither")
                kinds[kind] += 1
                sure_wrong[kind] += confidence >= args.threshold
                wrong.append((family, index, data, label, text, kind))
        print(f"| {family} | {100 * right / args.n:.1f}% | {readable} | "
              f"{100 * right_readable / max(1, readable):.1f}% | {kinds['hidden']} | "
              f"{kinds['as written']} | {kinds['joined']} | {kinds['neither']} |", flush=True)
        totals += (args.n, right, readable, right_readable)
    print(f"| all | {100 * totals[1] / totals[0]:.2f}% ({totals[1]} of {totals[0]}) | {totals[2]} | "
          f"{100 * totals[3] / max(1, totals[2]):.2f}% ({totals[3]}) | | | | |")
    errors = sum(sure_wrong.values())
    print(f"\naccepted at {args.threshold}: {accepted} of {totals[0]}, {accepted - errors} right "
          f"({100 * (accepted - errors) / max(1, accepted):.2f}%); the {errors} wrong: "
          + ", ".join(f"{n} {kind}" for kind, n in sure_wrong.items()))
    if args.sheet:
        kinds = args.kinds.split(",")
        sheet([w for w in wrong if w[-1] in kinds], args.sheet)
        print(f"wrote {args.sheet}")
    return 0


def sheet(wrong, out, per_row=3, high=80):
    """The misread pictures cropped to their writing, with label, reading and kind."""
    import io

    from PIL import Image, ImageDraw, ImageOps

    cells = []
    for family, index, data, label, text, kind in wrong:
        picture = ImageOps.autocontrast(Image.open(io.BytesIO(data)).convert("L"))
        box = picture.point(lambda v: 255 if v < 110 else 0).getbbox() or (0, 0, *picture.size)
        box = (max(0, box[0] - 8), max(0, box[1] - 8), min(picture.width, box[2] + 8),
               min(picture.height, box[3] + 8))
        crop = picture.crop(box)
        crop = crop.resize((max(1, round(crop.width * high / crop.height)), high))
        cells.append((crop, f"{family} {index}: {label} read {text or '(nothing)'}; {kind}"))
    width = max([300] + [c.width + 10 for c, _ in cells])
    rows = max(1, -(-len(cells) // per_row))
    page = Image.new("L", (per_row * width, rows * (high + 24)), 255)
    draw = ImageDraw.Draw(page)
    for k, (crop, said) in enumerate(cells):
        at = ((k % per_row) * width + 4, (k // per_row) * (high + 24))
        draw.text(at, said, fill=0)
        page.paste(crop, (at[0], at[1] + 16))
    page.save(out, optimize=True)


if __name__ == "__main__":
    raise SystemExit(main())
