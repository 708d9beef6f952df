"""Points, commas and dashes between digits: `read --marks` on composed amounts and codes.

    python -m benchmarks.bench_marks [--split validation|test] [--numbers 500]

Numbers of MNIST digits of the split (validation: the last 10,000 training images) are
composed as amounts ("1,250.00", "37.5"), codes ("555-0142") and plain numbers, each
mark drawn with the pen of its digits: a point, a comma reaching below the baseline, a
dash across the middle. Reported: the text read exactly with its marks, the digits read
exactly (the same as without --marks), marks found and marks invented. Then pictures with
no marks at all (`benchmarks.realworld`'s numbers of the split, digits apart, touching
and photographed): the share in which `--marks` invents one.

The marks' thresholds (`read.segment.MARK_SIZE`...) were set on drawings before this
benchmark; the test split is measured with conditions the validation split does not
have (comma slant and dot size drawn from wider ranges).
"""

import argparse
import os

import numpy as np


def compose(rows, labels, rng, wide=False):
    """A number with marks: (Pillow "L" image, its text)."""
    from PIL import Image, ImageDraw

    from digitnet.data.synthetic import number

    k = len(rows)
    kind = rng.choice(["amount", "code", "decimal", "plain"])
    marks = {}
    if kind == "amount" and k >= 4:
        marks[k - 2] = "."
        for at in range(k - 5, 0, -3):
            marks[at] = ","
    elif kind == "code" and k >= 4:
        marks[int(rng.integers(2, k - 1))] = "-"
    elif kind == "decimal" and k >= 2:
        marks[int(rng.integers(1, k))] = "."
    height = int(rng.integers(40, 81))
    pen = max(2, round(height * rng.uniform(0.08, 0.13)))
    groups, start = [], 0
    for at in sorted(marks) + [k]:
        groups.append(number(rows[start:at], rng, height=(height, height), margin=0)[0])
        start = at
    gap = [int(height * rng.uniform(0.3, 0.5)) for _ in groups[1:]]
    margin = 20
    width = sum(g.width for g in groups) + sum(gap) + 2 * margin
    page = Image.new("L", (width, height + 2 * margin + 10), 255)
    draw = ImageDraw.Draw(page)
    x = margin
    base = margin + height
    for i, g in enumerate(groups):
        page.paste(g, (x, margin + (height - g.height) // 2), None)
        x += g.width
        if i < len(gap):
            mark = marks[sorted(marks)[i]]
            cx = x + gap[i] // 2
            if mark == "-":
                half = int(height * rng.uniform(0.12, 0.2))
                y = margin + int(height * rng.uniform(0.4, 0.6))
                draw.line([(cx - half, y), (cx + half, y)], fill=0, width=pen)
            else:
                r = pen * rng.uniform(0.5, 1.2 if wide else 0.9)
                draw.ellipse([cx - r, base - 2 * r, cx + r, base], fill=0)
                if mark == ",":
                    slant = rng.uniform(-0.6, 0.1) if wide else rng.uniform(-0.4, 0.0)
                    tail = height * rng.uniform(0.15, 0.25)
                    draw.line([(cx + r * 0.5, base - r), (cx + r * 0.5 + slant * tail, base + tail)],
                              fill=0, width=max(2, pen // 2 + 1))
            x += gap[i]
    digits = "".join(map(str, labels))
    out = list(digits)
    for at in sorted(marks, reverse=True):
        out.insert(at, marks[at])
    return page, "".join(out), digits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--numbers", type=int, default=500)
    parser.add_argument("--plain", type=int, default=300,
                        help="realworld pictures of each family with no marks")
    args = parser.parse_args(argv)

    from benchmarks import realworld
    from digitnet.data import mnist
    from digitnet.errors import ImageError
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_number

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    split = data.validation if args.split == "validation" else data.test
    reader = for_inference(resolve_model(None))
    rng = np.random.default_rng(7 if args.split == "validation" else 8)
    exact = digits_right = found = written = invented = 0
    for _ in range(args.numbers):
        idx = rng.integers(0, len(split.x), int(rng.integers(2, 9)))
        image, truth, digits = compose(split.x[idx], split.y[idx], rng, wide=args.split == "test")
        try:
            reading = read_number(image, reader, marks=True)
            text, read_digits = reading.text, "".join(str(d.digit) for d in reading.digits)
        except ImageError:
            text = read_digits = ""
        exact += text == truth
        digits_right += read_digits == digits
        truth_marks = [c for c in truth if not c.isdigit()]
        read_marks = [c for c in text if not c.isdigit()]
        written += len(truth_marks)
        if read_digits == digits:  # marks compared where the digits are right
            found += sum(a == b for a, b in zip(_slots(truth), _slots(text)) if a)
            invented += sum(bool(b) and a != b for a, b in zip(_slots(truth), _slots(text)))
        else:
            invented += max(0, len(read_marks) - len(truth_marks))
    n = args.numbers
    print(f"{args.split}, {n} composed numbers with marks: exact with marks {100 * exact / n:.1f}%, "
          f"digits exact {100 * digits_right / n:.1f}%; marks found {found} of {written}, "
          f"invented {invented}")
    digits_of = realworld.digits_of(args.split)
    for family in ("apart", "touching", "num-photo"):
        with_mark = 0
        for i in range(args.plain):
            picture, _ = realworld.make(family, args.split, i, *digits_of)
            try:
                with_mark += bool(read_number(picture, reader, marks=True).marks)
            except ImageError:
                pass
        print(f"{args.split} realworld {family}, {args.plain} numbers with no marks: "
              f"a mark invented in {with_mark} ({100 * with_mark / args.plain:.1f}%)")


def _slots(text):
    """The mark (or '') after each digit of ``text``."""
    slots = []
    for c in text:
        if c.isdigit():
            slots.append("")
        elif slots:
            slots[-1] = c
    return slots


if __name__ == "__main__":
    main()
