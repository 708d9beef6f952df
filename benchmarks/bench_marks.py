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

With ``--signed N``, N numbers (``compose``'s), half with a minus written before them
(``compose_signed``): how often `--marks` finds it, and writes one where none is. The test
split's 300 frozen (``FROZEN_SIGNED``) before any was read.

With ``--times N``, N times of the 24-hour clock ("7:30", "19:05", ``time_pictures``), read
with the pattern ``d?d:dd``, then with ``--check hm`` too; the test split's 300 frozen
(``FROZEN_TIMES``) before any was read.

With ``--short-dates N``, N dates as people write them, a day or month of one digit where
it has one ("7/3/2026", ``short_date_pictures``), read with the pattern ``d?d/d?d/dddd``
(or ``/dd``), then with ``--check dmy`` too (a day of the calendar, calibrated confidences);
the test split's 300 frozen (``FROZEN_SHORT_DATES``) before such a pattern
was read.

With ``--dates N``, N dates and times of the split's digits too ("12/05/2026", "12:30",
``compose_date``): slashes and colons. The test split's 300 were frozen (``FROZEN_DATES``)
before any reading of them was written, and drawn from wider ranges (slashes leaning
15-50 degrees against 20-40, longer and further below the line; a colon's points further
apart). Each is read twice: with ``--marks``, and with its own pattern (``read --pattern``,
its text with each digit a ``d``).
"""

import argparse
import os

import numpy as np


def compose(rows, labels, rng, wide=False):
    """A number with marks: (Pillow "L" image, its text)."""
    from PIL import Image, ImageDraw

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
    height, pen, groups = _groups(rows, marks, rng)
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
    return (page, *_texts(labels, marks))


def _texts(labels, marks):
    """The text of the digits ``labels`` with ``marks`` ({digits before it: mark}) between
    them, and the digits alone."""
    digits = "".join(map(str, labels))
    out = list(digits)
    for at in sorted(marks, reverse=True):
        out.insert(at, marks[at])
    return "".join(out), digits


def _groups(rows, marks, rng):
    """The writing's height, its pen, and the digits ``rows`` drawn in groups between the
    places of ``marks`` ({digits before it: mark}), each a Pillow "L" image."""
    from digitnet.data.synthetic import number

    height = int(rng.integers(40, 81))
    pen = max(2, round(height * rng.uniform(0.08, 0.13)))
    groups, start = [], 0
    for at in sorted(marks) + [len(rows)]:
        groups.append(number(rows[start:at], rng, height=(height, height), margin=0)[0])
        start = at
    return height, pen, groups


def compose_date(rows, labels, rng, wide=False, marks=None):
    """A date ("12/05/2026", "12/05/26", "12/05") or a time ("12:30", "9:45") of the
    digits ``rows``, or the date ``marks`` says ({digits before it: "/"}): (Pillow "L"
    image, its text, its digits). Each slash is a stroke of
    the digits' pen leaning 20-40 degrees from upright (``wide``: 15-50), 0.9-1.1 of
    their height (``wide``: 0.8-1.3, reaching further below the baseline); a colon is two
    points, the upper one 0.45-0.6 of the height above the baseline (``wide``: 0.35-0.7)."""
    from PIL import Image, ImageDraw

    k = len(rows)
    if marks is None:
        marks = {k - 2: ":"} if k <= 4 and rng.random() < 0.5 else {2: "/", 4: "/"} if k > 4 else {2: "/"}
        if k == 3:
            marks = {1: ":"}
    height, pen, groups = _groups(rows, marks, rng)
    lean = np.tan(np.radians(rng.uniform(15, 50) if wide else rng.uniform(20, 40)))
    tall = [height * (rng.uniform(0.8, 1.3) if wide else rng.uniform(0.9, 1.1)) for _ in groups[1:]]
    gap = [int(height * rng.uniform(0.3, 0.5) + (lean * t if marks[at] == "/" else 0))
           for at, t in zip(sorted(marks), tall)]
    margin = 20 + height // 2
    width = sum(g.width for g in groups) + sum(gap) + 2 * margin
    page = Image.new("L", (width, height + 2 * margin), 255)
    draw = ImageDraw.Draw(page)
    x, base = margin, margin + height
    for i, g in enumerate(groups):
        page.paste(g, (x, margin + (height - g.height) // 2), None)
        x += g.width
        if i < len(gap):
            cx = x + gap[i] // 2
            if marks[sorted(marks)[i]] == "/":
                below = tall[i] * (rng.uniform(0.0, 0.25) if wide else rng.uniform(0.0, 0.1))
                bottom, top = base + below, base + below - tall[i]
                half = lean * tall[i] / 2
                draw.line([(cx - half, bottom), (cx + half, top)], fill=0, width=pen)
            else:
                r = pen * rng.uniform(0.5, 1.2 if wide else 0.9)
                up = height * (rng.uniform(0.35, 0.7) if wide else rng.uniform(0.45, 0.6))
                draw.ellipse([cx - r, base - 2 * r, cx + r, base], fill=0)
                draw.ellipse([cx - r, base - up - 2 * r, cx + r, base - up], fill=0)
            x += gap[i]
    return (page, *_texts(labels, marks))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--numbers", type=int, default=500)
    parser.add_argument("--plain", type=int, default=300,
                        help="realworld pictures of each family with no marks")
    parser.add_argument("--dates", type=int, default=0,
                        help="dates and times (slashes and colons) of the split's digits too")
    parser.add_argument("--signed", type=int, default=0,
                        help="numbers of the split's digits, half of them with a minus before them")
    parser.add_argument("--times", type=int, default=0,
                        help="times of the 24-hour clock (7:30, 19:05), read with the pattern d?d:dd, "
                        "then with --check hm too")
    parser.add_argument("--short-dates", type=int, default=0,
                        help="dates whose day or month may have one digit (7/3/2026), read with "
                        "the pattern d?d/d?d/dddd (or /dd)")
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
    numbers = []
    for _ in range(args.numbers):
        idx = rng.integers(0, len(split.x), int(rng.integers(2, 9)))
        numbers.append(compose(split.x[idx], split.y[idx], rng, wide=args.split == "test"))
    if numbers:
        print(f"{args.split}, {len(numbers)} composed numbers with marks: {_score(numbers, reader)}")
    if args.dates:
        dates = date_pictures(split, args.split, args.dates)
        print(f"{args.split}, {len(dates)} dates and times ({_sealed(dates, FROZEN_DATES, args.split)}):")
        for kind, mark in (("times", ":"), ("dates", "/")):
            these = [p for p in dates if mark in p[1]]
            print(f"  {len(these)} {kind}, --marks: {_score(these, reader)}")
            print(f"  {len(these)} {kind}, --pattern: {_score(these, reader, patterned=True)}")
    if args.signed:
        signed = signed_pictures(split, args.split, args.signed)
        sealed = _sealed(signed, FROZEN_SIGNED, args.split)
        print(f"{args.split}, {len(signed)} numbers, half with a minus ({sealed}):")
        print(f"  --marks: {_score(signed, reader)}")
        print(f"  {_minus(signed, reader)}")
    if args.short_dates:
        dates = short_date_pictures(split, args.split, args.short_dates)
        print(f"{args.split}, {len(dates)} dates of one-digit days and months "
              f"({_sealed(dates, FROZEN_SHORT_DATES, args.split)}):")
        print(f"  --marks: {_score(dates, reader)}")
        print(f"  --pattern d?d/d?d/dddd (or /dd): {_score(dates, reader, patterned=True)}")
        _print_calibrated(dates, "dmy")
    if args.times:
        times = time_pictures(split, args.split, args.times)
        sealed = _sealed(times, FROZEN_TIMES, args.split)
        print(f"{args.split}, {len(times)} times of the 24-hour clock ({sealed}):")
        print(f"  --pattern d?d:dd: {_score(times, reader, patterned=True)}")
        _print_calibrated(times, "hm")
    digits_of = realworld.digits_of(args.split)
    for family in ("apart", "touching", "num-photo") if args.plain else ():
        with_mark = 0
        for i in range(args.plain):
            picture, _ = realworld.make(family, args.split, i, *digits_of)
            try:
                with_mark += bool(read_number(picture, reader, marks=True).marks)
            except ImageError:
                pass
        print(f"{args.split} realworld {family}, {args.plain} numbers with no marks: "
              f"a mark invented in {with_mark} ({100 * with_mark / args.plain:.1f}%)")


#: SHA-256 of the frozen dates and times (``--split test --dates 300``), taken when the set
#: was made, before any reading of slashes or colons was written or tuned.
FROZEN_DATES = {("test", 300): "42bcad633c1b91fbb13abaa1c0d9f8b2598c951919d98db4fb33e09b800c7bfa"}
#: The same for the dates of one-digit days and months (``--split test --short-dates 300``),
#: taken before a pattern with a choice of lengths (``d?d``) was read.
FROZEN_SHORT_DATES = {("test", 300): "e8bf9dd138f921ac4f5d46bd5c00c4e76d8579a649a4bc1699387792165fc972"}
#: The same for the times of the 24-hour clock (``--split test --times 300``), taken before
#: any of them was read.
FROZEN_TIMES = {("test", 300): "b7ad8da64904cfdeb88b2b73241a7b837adf5d76291e32990d27f3722a260df1"}
#: The same for the numbers with and without a minus (``--split test --signed 300``), taken
#: before any of them was read.
FROZEN_SIGNED = {("test", 300): "3e87e527a00a76896eeb96241eb469c613ff8cd2a3d517616f58071f4ead9e31"}


def date_pictures(split, name: str, n: int) -> list:
    """``n`` dates and times of MNIST digits of ``split`` (``compose_date``), each of 3, 4,
    6 or 8 digits; the test split's from the wider ranges."""
    rng = np.random.default_rng(17 if name == "validation" else 18)
    pictures = []
    for _ in range(n):
        idx = rng.integers(0, len(split.x), int(rng.choice([3, 4, 4, 6, 8])))
        pictures.append(compose_date(split.x[idx], split.y[idx], rng, wide=name == "test"))
    return pictures


def compose_signed(rows, labels, rng, wide=False):
    """A number (``compose``: an amount, a code or plain digits) with a minus written
    before it in the pen of its digits in half of them: (Pillow "L" image, its text, its
    digits). The minus is 0.25-0.45 of the digits' height long (``wide``: 0.2-0.6), 0.15-0.4
    of it before the first digit (0.1-0.6), its middle 0.4-0.6 of the way down (0.35-0.65)."""
    from PIL import Image, ImageDraw

    number, text, digits = compose(rows, labels, rng, wide)
    if rng.random() < 0.5:
        return number, text, digits
    ink = np.asarray(number) < 128
    rows_in, cols_in = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    top, height, first = int(rows_in[0]), int(rows_in[-1] - rows_in[0] + 1), int(cols_in[0])
    long = height * (rng.uniform(0.2, 0.6) if wide else rng.uniform(0.25, 0.45))
    gap = height * (rng.uniform(0.1, 0.6) if wide else rng.uniform(0.15, 0.4))
    y = top + height * (rng.uniform(0.35, 0.65) if wide else rng.uniform(0.4, 0.6))
    pen = max(2, round(height * rng.uniform(0.08, 0.13)))
    room = int(long + gap) + 20
    page = Image.new("L", (number.width + room, number.height), 255)
    page.paste(number, (room, 0))
    right = room + first - gap
    ImageDraw.Draw(page).line([(right - long, y), (right, y + rng.uniform(-0.05, 0.05) * long)],
                              fill=0, width=pen)
    return page, "-" + text, digits


def signed_pictures(split, name: str, n: int) -> list:
    """``n`` numbers of MNIST digits of ``split``, half with a minus before them
    (``compose_signed``); the test split's from the wider ranges."""
    rng = np.random.default_rng(37 if name == "validation" else 38)
    pictures = []
    for _ in range(n):
        idx = rng.integers(0, len(split.x), int(rng.integers(1, 8)))
        pictures.append(compose_signed(split.x[idx], split.y[idx], rng, wide=name == "test"))
    return pictures


def time_pictures(split, name: str, n: int) -> list:
    """``n`` times of the 24-hour clock as people write them, an hour before 10 of one digit
    in seven of ten ("7:30", "07:30", "19:05"), drawn with MNIST digits of ``split`` of their
    digits (``compose_date``, a colon between); the test split's from the wider ranges. Each
    with the pattern ``d?d:dd``: (image, text, digits, pattern)."""
    rng = np.random.default_rng(57 if name == "validation" else 58)
    by_label = [np.flatnonzero(split.y == d) for d in range(10)]
    pictures = []
    for _ in range(n):
        hour, minute = int(rng.integers(0, 24)), int(rng.integers(0, 60))
        hours = f"{hour:02d}" if hour >= 10 or rng.random() < 0.3 else str(hour)
        digits = f"{hours}{minute:02d}"
        idx = np.array([rng.choice(by_label[int(c)]) for c in digits])
        image, text, _ = compose_date(split.x[idx], split.y[idx], rng, wide=name == "test",
                                      marks={len(hours): ":"})
        pictures.append((image, text, digits, "d?d:dd"))
    return pictures


def short_date_pictures(split, name: str, n: int) -> list:
    """``n`` dates as people write them, the day and the month of one digit where they
    have one ("7/3/2026", "12/10/26") or of two ("07/03/2026"), each a day of 2000-2039
    drawn with MNIST digits of ``split`` of its date's digits (``compose_date``); the test
    split's from the wider ranges. Each with the pattern a form would give its field:
    ``d?d/d?d/dddd`` or ``d?d/d?d/dd``, (image, text, digits, pattern)."""
    import datetime

    rng = np.random.default_rng(27 if name == "validation" else 28)
    by_label = [np.flatnonzero(split.y == d) for d in range(10)]
    pictures = []
    for _ in range(n):
        day = datetime.date(2000, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 40 * 365)))
        padded, year = rng.random() < 0.3, 4 if rng.random() < 0.6 else 2
        parts = [f"{day.day:02d}" if padded else str(day.day),
                 f"{day.month:02d}" if padded else str(day.month), str(day.year)[-year:]]
        digits = "".join(parts)
        idx = np.array([rng.choice(by_label[int(c)]) for c in digits])
        marks = {len(parts[0]): "/", len(parts[0]) + len(parts[1]): "/"}
        image, text, _ = compose_date(split.x[idx], split.y[idx], rng, wide=name == "test", marks=marks)
        pictures.append((image, text, digits, "d?d/d?d/" + "d" * year))
    return pictures


def _sealed(pictures, frozen: dict, split: str) -> str:
    """The pictures' checksum, and whether it is the frozen set's ("sha256 42bcad633c1b;
    frozen: ok")."""
    digest = checksum(pictures)
    sealed = frozen.get((split, len(pictures)))
    state = "" if sealed is None else "; frozen: ok" if sealed == digest else "; FROZEN SET CHANGED"
    return f"sha256 {digest[:12]}{state}"


def checksum(pictures) -> str:
    import hashlib

    digest = hashlib.sha256()
    for image, truth, *_ in pictures:
        digest.update(image.tobytes() + truth.encode())
    return digest.hexdigest()


def _score(numbers, reader, patterned: bool = False) -> str:
    """How ``read --marks`` reads ``numbers`` ((image, text with marks, digits) each, and
    maybe the pattern a form gives it); ``patterned``: as ``read --pattern`` reads each
    given its pattern (that one, else its text with a "d" for each digit: "dd/dd")."""
    from digitnet.errors import ImageError
    from digitnet.read import read_number

    exact = digits_right = found = written = invented = 0
    for image, truth, digits, *given in numbers:
        try:
            if patterned:
                pattern = given[0] if given else "".join("d" if c.isdigit() else c for c in truth)
                reading = read_number(image, reader, pattern=pattern)
            else:
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
    n = len(numbers)
    return (f"exact with marks {100 * exact / n:.1f}%, digits exact {100 * digits_right / n:.1f}%; "
            f"marks found {found} of {written}, invented {invented}")


def _print_calibrated(fields, rule: str) -> None:
    """``_calibrated``'s line for ``fields`` read with their pattern, then with ``rule`` too."""
    for check in (None, rule):
        said = " --check " + check if check else ""
        print(f"  --pattern{said}, calibrated: {_calibrated(fields, check)}")


def _calibrated(dates, check) -> str:
    """How ``read --pattern`` (with ``check``, a date's order) reads ``dates`` (image, text,
    digits, pattern), with the shipped model's calibrated confidence: exact readings, the
    calibration error and the share right among the surest 95%."""
    import digitnet
    from digitnet.calibration import expected_calibration_error
    from digitnet.errors import ImageError

    right, confidence = [], []
    for image, truth, _, pattern in dates:
        try:
            reading = digitnet.read_number(image, pattern=pattern, check=check)
            right.append(reading.text == truth)
            confidence.append(reading.confidence)
        except ImageError:
            right.append(False)
            confidence.append(0.0)
    hits, sure = np.array(right, np.float64), np.array(confidence)
    surest = hits[np.argsort(-sure, kind="stable")[:round(0.95 * len(hits))]]
    return (f"exact {100 * hits.mean():.1f}%, calibration error (15 bins) "
            f"{100 * expected_calibration_error(sure, hits):.2f}%, right among the surest 95% "
            f"{100 * surest.mean():.2f}%")


def _minus(numbers, reader) -> str:
    """How often ``read --marks`` finds the minus written before a number, and writes one
    before a number that has none."""
    from digitnet.errors import ImageError
    from digitnet.read import read_number

    found = invented = signed = 0
    for image, truth, _ in numbers:
        try:
            read = read_number(image, reader, marks=True).text.startswith("-")
        except ImageError:
            read = False
        signed += truth.startswith("-")
        found += read and truth.startswith("-")
        invented += read and not truth.startswith("-")
    return (f"a minus found before {found} of the {signed} that have one, "
            f"written before {invented} of the {len(numbers) - signed} that have none")


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
