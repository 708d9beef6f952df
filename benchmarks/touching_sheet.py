"""Draw a sheet of numbers made by ``digitnet.data.touching`` (for docs/reading.md).

    python -m benchmarks.touching_sheet [--out docs/touching.png] [--seed 0]

Pairs and longer numbers of MNIST *training* digits, each shrunk to 48 pixels high.
"""

import argparse
import os
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "docs" / "touching.png"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from PIL import Image

    from digitnet.data import mnist
    from digitnet.data.touching import touching_number

    train = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).train
    rng = np.random.default_rng(args.seed)
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
