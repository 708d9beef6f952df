"""One digit on a form: `digitnet predict` on a digit in a box, on a line, or in a comb's cell.

    python -m benchmarks.bench_boxed --split validation   # tune on this
    python -m benchmarks.bench_boxed --split test         # the frozen held-out set
    python -m benchmarks.bench_boxed --save DIR ...       # also write the pictures

A form read one box at a time: a digit written in a printed box (``box``), standing on a
printed line (``line``), or a comb's cell cut out of a form, its top and bottom lines
running off the picture's edges and its sides close to them (``cell``). Each picture
holds one digit of the split in a pen's hand (``realworld.pen_ink``), scanned on white
(``scan``) or photographed on paper (``photo``, as ``bench_forms`` photographs forms). The
print is black or grey, 1-3 pixels wide on validation; the test split adds conditions never
tuned on: print in a form's colour for half its pictures, lines up to 4 pixels wide and a
camera tilted off the page for a third of its photos. The test set is frozen: ``FROZEN``
holds its SHA-256, checked on every run. Pictures are recognised as ``predict`` does
(``to_mnist``, then the default model); one in which no digit is found counts as wrong.
"""

from __future__ import annotations

import argparse
import time
import zlib

import numpy as np

from benchmarks import bench_forms, realworld

FORMS = ("box", "line", "cell")
CONDITIONS = ("scan", "photo")
SEEDS = {"validation": 30241, "test": 30242}
#: Pictures per form and condition at the frozen size.
SINGLES = 100
#: SHA-256 of the test pictures (``realworld.checksum``, every form and condition in
#: order) at SINGLES, made before the front end was tuned on them (Pillow 13.0.0, NumPy
#: 2.4.6).
FROZEN = {"test": "09ad1a0ff2e2768f622f47d9e2312727d85256c8bb85874e73ecfde8a90bc7bc"}


def make(split: str, form: str, condition: str, index: int, digits):
    """One picture: (bytes, the digit)."""
    x, y = digits
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(f"{form}-{condition}".encode()), index])
    i = int(rng.integers(0, len(y)))
    test = split == "test"
    width = int(rng.integers(1, 5 if test else 4))
    colour = np.array(bench_forms.COLOURED[rng.integers(3)] if test and rng.random() < 0.5
                      else bench_forms.DARK[rng.integers(3)])
    ink, printed = _printed(x[i], rng, form, width)
    if condition == "photo":
        tilt = 0.08 if test and rng.random() < 1 / 3 else 0.0
        return bench_forms._photo(ink, printed, colour, rng, tilt), int(y[i])
    if form == "cell":  # (cut out of the form: no margin round it)
        from PIL import Image

        pixels = bench_forms._paper(np.ones(3), ink, printed, colour, np.full(3, 0.08))
        mode, values = ("L", pixels[..., 0]) if np.ptp(colour) == 0 else ("RGB", pixels)
        image = Image.fromarray((values * 255).round().astype(np.uint8), mode)
        return realworld._encode(image, "PNG"), int(y[i])
    return bench_forms._scan(ink, printed, colour, rng), int(y[i])


def _printed(row, rng, form, width):
    """A digit in a pen's hand and the form printed round it: (ink, print), (h, w) each."""
    height = rng.uniform(40, 90)  # the box's
    cell = height * rng.uniform(0.8, 1.2)
    digit = realworld.pen_ink(row, height * rng.uniform(0.55, 0.85), rng, (0.3, 0.5), 0.05,
                              rng.uniform(-0.1, 0.2))
    h, w = digit.shape
    if form == "cell":
        pad_y, pad_x = int(height * rng.uniform(0.05, 0.2)), int(cell * rng.uniform(0.03, 0.12))
    else:
        pad_y = pad_x = int(height * 0.5)
    shape = (int(height) + 2 * pad_y + 1, int(cell) + 2 * pad_x + 1)
    ink = np.zeros(shape, np.float32)
    room_x, room_y = cell - w, height - h
    dx = int(pad_x + max(0, room_x) * rng.uniform(0.2, 0.8))
    dy = int(pad_y + room_y * rng.uniform(0.2, 0.8)
             + (height * rng.uniform(-0.1, 0.1) if rng.random() < 0.3 else 0))
    dx, dy = max(0, min(dx, shape[1] - w)), max(0, min(dy, shape[0] - h))
    spot = ink[dy:dy + h, dx:dx + w]
    np.maximum(spot, digit[:shape[0] - dy, :shape[1] - dx], out=spot)
    top, bottom, left, right = pad_y, pad_y + height, pad_x, pad_x + cell
    if form == "box":
        lines = [(left, top, right, top), (right, top, right, bottom), (right, bottom, left, bottom),
                 (left, bottom, left, top)]
    elif form == "line":  # the digit stands on it, a little below or above now and then
        base = dy + h + int(round(h * rng.uniform(-0.1, 0.08)))
        reach = h * rng.uniform(0.2, 0.8, 2)
        lines = [(max(0, dx - reach[0]), base, min(shape[1] - 1, dx + w + reach[1]), base)]
    else:  # a comb's cell: its top and bottom run off the edges, its sides inside
        lines = [(0, top, shape[1], top), (0, bottom, shape[1], bottom),
                 (left, top, left, bottom), (right, top, right, bottom)]
    return ink, bench_forms._draw(shape, lines, width)


def pictures(split: str, n: int, digits):
    """{(form, condition): [(bytes, label)]} for every form and condition."""
    return {(form, c): [make(split, form, c, i, digits) for i in range(n)]
            for form in FORMS for c in CONDITIONS}


def score(items, model, photo=None):
    """(right, no digit found, seconds per picture) as ``digitnet predict`` answers: a photo
    of paper by ``photo`` (the default model's network for photos), when given."""
    from digitnet.data.preprocess import to_mnist_seen
    from digitnet.errors import ImageError
    from digitnet.pretrained import confidences

    right = missing = 0
    start = time.perf_counter()
    for data, label in items:
        try:
            x, seen = to_mnist_seen(data)
        except ImageError:
            missing += 1
            continue
        right += int(np.argmax(confidences(model, photo, x[None], [seen.surface])[0]) == label)
    return right, missing, (time.perf_counter() - start) / max(1, len(items))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=tuple(SEEDS), default="validation")
    parser.add_argument("--singles", type=int, default=SINGLES, help="pictures per form and condition")
    parser.add_argument("--model", help="model file (default: the shipped default)")
    parser.add_argument("--save", metavar="DIR", help="also write the pictures to DIR")
    parser.add_argument("--digest", action="store_true", help="print the set's SHA-256 and stop")
    args = parser.parse_args(argv)

    from digitnet.pretrained import photo_model, resolve_model

    sets = pictures(args.split, args.singles, realworld.digits_of(args.split))
    digest = realworld.checksum([item for items in sets.values() for item in items])
    if args.digest:
        print(digest)
        return 0
    check = bench_forms.frozen_check(FROZEN.get(args.split), digest, args.singles == SINGLES)
    if args.save:
        bench_forms.save_pictures(sets, args.save)
    model, photo = resolve_model(args.model), photo_model(args.model)
    print(f"split: {args.split}; {args.singles} pictures per form and condition; right {check}")
    print(f"{'form':>6s} " + " ".join(f"{c:>8s}" for c in CONDITIONS) + "   none found")
    total = 0
    for form in FORMS:
        row, missing = [], 0
        for condition in CONDITIONS:
            right, lost, _ = score(sets[(form, condition)], model, photo)
            total += right
            missing += lost
            row.append(f"{100 * right / args.singles:7.1f}%")
        print(f"{form:>6s} " + " ".join(row) + f"   {missing:10d}", flush=True)
    count = len(FORMS) * len(CONDITIONS) * args.singles
    print(f"every picture: {100 * total / count:.1f}% ({total} of {count})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
