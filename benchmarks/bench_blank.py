"""Photos of blank paper: how often `predict` and `read` answer a digit where none is.

    python -m benchmarks.bench_blank [--split validation|test] [--pictures 300]

Each picture is `benchmarks.realworld.photo` of no ink (paper of any tint under uneven
light, vignetting and shadow, sensor noise, JPEG), of a random size, seeded by the split
(validation: the seeds `FAINT_WRITING` was chosen on). An empty field of a form, the
back of an envelope: the answer wanted is "no digit found".
"""

import argparse

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--pictures", type=int, default=300)
    args = parser.parse_args(argv)

    from benchmarks import realworld
    from digitnet.data.preprocess import to_mnist
    from digitnet.errors import NoDigitError
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_number

    reader = for_inference(resolve_model(None))
    base = 5000 if args.split == "validation" else 9000
    predicted = read = 0
    for i in range(args.pictures):
        rng = np.random.default_rng(base + i)
        shape = (int(rng.integers(30, 120)), int(rng.integers(60, 400)))
        picture = realworld.photo(np.zeros(shape, np.float32), rng, digit_fraction=(0.1, 0.6))
        try:
            to_mnist(picture)
            predicted += 1
        except NoDigitError:
            pass
        try:
            read_number(picture, reader)
            read += 1
        except NoDigitError:
            pass
    n = args.pictures
    print(f"{args.split}, {n} photos of blank paper: predict answered a digit for {predicted} "
          f"({100 * predicted / n:.1f}%), read a number for {read} ({100 * read / n:.1f}%)")


if __name__ == "__main__":
    main()
