"""Every line of writing: `read --lines` on pictures of two numbers, one under the other.

    python -m benchmarks.bench_lines [--split validation|test] [--pictures 200] [--single 300]

Two numbers of 2-6 digits of the split (`benchmarks.realworld`'s pen ink, digits apart
or touching as its families have them), one under the other with a gap of 0.4-1.0 of
their height, each line placed anywhere across the width; half of the pictures scanned
(`realworld.scan`), half photographed on paper (`realworld.photo`: light, noise, JPEG).
Reported: both lines read exactly and in order, the lines found, and, on realworld's
pictures of one number (`apart`, `num-photo`), how often a second line is invented.
The height bound (`read.lines.LINE_HEIGHTS`), and no bound on confidence, were chosen on
the validation split; the test split's pictures are made from test digits.
"""

import argparse

import numpy as np


def two_lines(split, index, digits):
    """Picture ``index``: (encoded bytes, [first line's digits, second's])."""
    from benchmarks import realworld

    x, y = digits
    rng = np.random.default_rng([7 if split == "validation" else 8, index])
    idx = [rng.integers(0, len(y), int(rng.integers(2, 7))) for _ in range(2)]
    inks = [realworld.number_ink(x[i], rng, touch=bool(rng.random() < 0.3)) for i in idx]
    height = max(ink.shape[0] for ink in inks)
    gap = int(height * rng.uniform(0.4, 1.0))
    width = max(ink.shape[1] for ink in inks) + 20
    alpha = np.zeros((inks[0].shape[0] + gap + inks[1].shape[0], width), np.float32)
    for ink, top in zip(inks, (0, inks[0].shape[0] + gap)):
        left = int(rng.integers(0, width - ink.shape[1] + 1))
        alpha[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    labels = ["".join(str(int(d)) for d in y[i]) for i in idx]
    if index % 2:
        return realworld.photo(alpha, rng, digit_fraction=(0.25, 0.5)), labels
    return realworld.scan(alpha, rng), labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--pictures", type=int, default=200)
    parser.add_argument("--single", type=int, default=300,
                        help="realworld pictures of one number, of each of two families")
    args = parser.parse_args(argv)

    from benchmarks import realworld
    from digitnet.errors import ImageError
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_lines

    reader = for_inference(resolve_model(None))
    digits = realworld.digits_of(args.split)
    exact = two_found = 0
    for i in range(args.pictures):
        picture, labels = two_lines(args.split, i, digits)
        try:
            texts = [r.text for r in read_lines(picture, reader)]
        except ImageError:
            texts = []
        exact += texts == labels
        two_found += len(texts) == 2
    n = args.pictures
    print(f"{args.split}, {n} pictures of two lines (half scanned, half photographed): both read "
          f"exactly {100 * exact / n:.1f}%, two lines found {100 * two_found / n:.1f}%")
    for family in ("apart", "num-photo"):
        extra = 0
        for i in range(args.single):
            picture, _ = realworld.make(family, args.split, i, *digits)
            try:
                extra += len(read_lines(picture, reader)) > 1
            except ImageError:
                pass
        print(f"{args.split} realworld {family}, {args.single} pictures of one number: a second "
              f"line invented in {extra} ({100 * extra / args.single:.1f}%)")


if __name__ == "__main__":
    main()
