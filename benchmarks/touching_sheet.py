"""Draw a sheet of numbers made by ``digitnet.data.touching`` (for docs/reading.md).

    python -m benchmarks.touching_sheet [--out docs/touching.png] [--seed 0]
    python -m benchmarks.touching_sheet --lines [--out docs/training-lines.png]
    python -m benchmarks.touching_sheet --read [--out docs/read-input.png]

Pairs and longer numbers of MNIST *training* digits, each shrunk to 48 pixels high. With
``--lines``: lines as the shipped sequence reader's last training run composed them
(``fit_sequence.lines`` with the shares its model file records: ``ones``, ``pens``,
``ligatures``), as the reader sees them (32 rows), shown 48 high. With ``--read``: two
touching numbers of five *validation* digits (seeds 8 and 16 of ``touching_number``), read
by the shipped model and drawn as ``digitnet read --save-input`` draws them, one above the
other: one read right, one with a digit dropped.
"""

import argparse
import os
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "docs" / "touching.png"
LINES_OUT = OUT.with_name("training-lines.png")
READ_OUT = OUT.with_name("read-input.png")
READ_SEEDS = (8, 16)


def read_sheet(validation, out):
    """``digitnet read --save-input``'s pictures of two touching numbers, stacked."""
    import tempfile

    from PIL import Image

    import digitnet
    from digitnet.data.touching import touching_number
    from digitnet.read import drawn

    pictures = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in READ_SEEDS:
            rng = np.random.default_rng(seed)
            digits = rng.integers(0, len(validation.y), 5)
            reading = digitnet.read_number(touching_number(validation.x[digits], rng)[0])
            print(f"seed {seed}: written {''.join(map(str, validation.y[digits]))}, read {reading.text}")
            drawn.save([reading], os.path.join(folder, f"{seed}.read.png"))
            pictures.append(Image.open(os.path.join(folder, f"{seed}.read.png")).convert("RGB"))
    sheet = Image.new("RGB", (max(p.width for p in pictures), sum(p.height for p in pictures)), "white")
    for n, picture in enumerate(pictures):
        sheet.paste(picture, (0, sum(p.height for p in pictures[:n])))
    sheet.save(out, optimize=True)


def lines_sheet(train, rng, out):
    """Twelve training lines of the sequence reader, in two columns, composed with the
    shares of the shipped reader's last training run (of its first reader, if it ships
    several read together)."""
    from PIL import Image

    from benchmarks.fit_sequence import OUT as SEQUENCE
    from benchmarks.fit_sequence import lines
    from digitnet.io import read_config

    training = read_config(SEQUENCE)["training"]
    training = training[0] if isinstance(training, list) else training
    shares = {k: training.get(k, 0.0) for k in ("ones", "pens", "ligatures")}
    cell, high = (330, 52), 48
    sheet = Image.new("L", (2 * cell[0], 6 * cell[1]), 255)
    for n, line in enumerate(lines(12, rng, train, **shares)[0]):
        image = Image.fromarray((255 * (1 - line.astype(np.float32))).round().astype(np.uint8))
        width = min(cell[0] - 6, round(image.width * high / image.height))
        sheet.paste(image.resize((width, high), Image.Resampling.LANCZOS),
                    ((n % 2) * cell[0] + 3, (n // 2) * cell[1] + 2))
    sheet.save(out, optimize=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lines", action="store_true", help="the sequence reader's training lines")
    parser.add_argument("--read", action="store_true", help="two numbers as read --save-input draws them")
    args = parser.parse_args(argv)

    from PIL import Image

    from digitnet.data import mnist
    from digitnet.data.touching import touching_number

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    if args.read:
        out = args.out or READ_OUT
        read_sheet(data.validation, out)
        print(f"wrote {out}")
        return 0
    train = data.train
    rng = np.random.default_rng(args.seed)
    if args.lines:
        out = args.out or LINES_OUT
        lines_sheet(train, rng, out)
        print(f"wrote {out}")
        return 0
    args.out = args.out or OUT
    cell, high = (150, 52), 48
    sheet = Image.new("L", (4 * cell[0], 5 * cell[1]), 255)
    for n in range(20):
        k = 2 if n < 16 else 3
        image = touching_number(train.x[rng.integers(0, 50_000, k)], rng)[0]
        image = image.crop(image.point(lambda v: 255 - v).getbbox())
        width = min(cell[0] - 6, round(image.width * high / image.height))
        image = image.resize((width, high), Image.Resampling.LANCZOS)
        sheet.paste(image, ((n % 4) * cell[0] + 3, (n // 4) * cell[1] + 2))
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
