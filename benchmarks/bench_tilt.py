"""Numbers photographed askew: `digitnet read` on lines of digits turned in the page's plane.

    python -m benchmarks.bench_tilt --split validation   # tune on this
    python -m benchmarks.bench_tilt --split test         # the frozen held-out set
    python -m benchmarks.bench_tilt --no-level ...       # the same, lines read as they are

Each picture holds 2-6 digits of the split written as ``realworld.number_ink`` writes
them, either apart (``apart``) or with one pair touching (``touching``), turned by an
angle (either way at random) and photographed on paper as ``realworld.photo`` does. The
angles differ between the splits: the test split's were never tuned on, and a third of
its pictures are on ruled or squared paper (lines level, the writing askew on them). The
test set is frozen: ``FROZEN`` holds its SHA-256, checked on every run.
"""

from __future__ import annotations

import argparse
import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import score_numbers

ANGLES = {"validation": (0, 3, 5, 8, 12, 20), "test": (0, 4, 7, 10, 15, 25)}
KINDS = ("apart", "touching")
#: Pictures per angle and kind at the frozen size.
NUMBERS = 100
#: SHA-256 of the test pictures (``realworld.checksum``, every angle and kind in order) at
#: NUMBERS, made before ``read.level`` was tuned (Pillow 13.0.0, NumPy 2.4.6).
FROZEN = {"test": "59b9c22027bc5ab21ed18d867301fc42a6b239e26babfa37b3bb7c3a2a5b17fc"}


def make(split: str, kind: str, degrees: float, index: int, digits):
    """One picture: (JPEG bytes, the number's digits)."""
    x, y = digits
    rng = np.random.default_rng([realworld.SEEDS[split], zlib.crc32(f"tilt-{kind}".encode()),
                                 int(degrees), index])
    k = int(rng.integers(2, 7))
    idx = rng.integers(0, len(y), k)
    alpha = realworld.number_ink(x[idx], rng, touch=kind == "touching")
    sign = 1 if rng.random() < 0.5 else -1
    if degrees:
        alpha = realworld._rotate(alpha, sign * degrees)
    conditions = {}
    if split == "test" and rng.random() < 1 / 3:
        conditions["lines"] = ("ruled", "squared")[int(rng.integers(2))]
    data = realworld.photo(alpha, rng, digit_fraction=(0.12, 0.3), **conditions)
    return data, "".join(str(int(d)) for d in y[idx])


def pictures(split: str, n: int, digits):
    """{(kind, angle): [(bytes, label)]} for every kind and angle of ``split``."""
    return {(kind, a): [make(split, kind, a, i, digits) for i in range(n)]
            for a in ANGLES[split] for kind in KINDS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--numbers", type=int, default=NUMBERS, help="pictures per angle and kind")
    parser.add_argument("--no-level", action="store_true",
                        help="read the lines as they are (read.level turned off): the comparison")
    parser.add_argument("--model", help="model file (default: the shipped default)")
    args = parser.parse_args(argv)

    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import level

    if args.no_level:
        level.LEVEL_MIN = float("inf")
    digits = realworld.digits_of(args.split)
    sets = pictures(args.split, args.numbers, digits)
    digest = realworld.checksum([item for items in sets.values() for item in items])
    frozen = FROZEN.get(args.split)
    check = ("" if frozen is None or args.numbers != NUMBERS
             else "frozen: ok" if frozen == digest else "FROZEN CHECKSUM DIFFERS")
    reader = for_inference(resolve_model(args.model))
    print(f"split: {args.split}; lines {'as they are' if args.no_level else 'turned level'}; "
          f"{args.numbers} pictures per angle and kind; exact readings {check}")
    print(f"{'angle':>6s} " + " ".join(f"{kind:>9s}" for kind in KINDS) + "   ms per picture")
    totals = dict.fromkeys(KINDS, 0)
    for a in ANGLES[args.split]:
        row, seconds = [], 0.0
        for kind in KINDS:
            scored = score_numbers(sets[(kind, a)], reader)
            seconds += scored.seconds * args.numbers
            if a:
                totals[kind] += scored.correct
            row.append(f"{100 * scored.correct / args.numbers:8.1f}%")
        print(f"{a:5d}° " + " ".join(row) + f"   {1000 * seconds / (2 * args.numbers):6.1f}", flush=True)
    tilted = (len(ANGLES[args.split]) - 1) * args.numbers
    print("every tilted picture: " + ", ".join(f"{kind} {100 * totals[kind] / tilted:.1f}%"
                                               for kind in KINDS)
          + f"; both {50 * sum(totals.values()) / tilted:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
