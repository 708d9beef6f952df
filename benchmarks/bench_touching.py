"""`read` on numbers of MNIST *test* digits, without and with the pair reader.

    python -m benchmarks.bench_touching [--numbers 200] [--families F,...] [--scores FILE ...]
                                        [--before COUNTER.npz]

The families of ``benchmarks.tune_counter`` made from test digits (pairs touching as a pen
makes them touch, numbers apart and with touching pairs as ``benchmarks.bench_read`` makes
them, single digits), and the frozen test split of the held-out benchmark's number
families (``benchmarks.realworld``: ``apart``, ``touching``, ``num-photo`` and, never
tuned on, ``num-hard``; 200 each as ``benchmarks.bench_photos`` reads them). Each picture is
read once; the exact readings are printed as `read` was with neither counter nor pair
reader, with ``--before``'s counter (the counter `read` shipped before the pair reader,
inputs its frame and shape, COUNT_WEIGHT 2), and as it is with the shipped pair reader
and settings. ``--scores`` keeps what the digit model
and the judge say of every piece (the slow part) and, given files that exist, reads them
instead (several runs over parts of the families can then be reported together), the
pieces judged again by the judge shipped by then.
"""

import argparse
import os

import numpy as np

from benchmarks.tune_counter import SHIPPED, count, families, load, rejudge, report, save, score


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=200, help="numbers per composed family")
    parser.add_argument("--seed", type=int, default=200)
    parser.add_argument("--families", help="comma-separated families (default: all)")
    parser.add_argument("--scores", nargs="*", default=[],
                        help=".npz files of the pieces' scores: read if they exist, else kept")
    parser.add_argument("--before", help="the counter shipped before the pair reader, to compare")
    args = parser.parse_args(argv)
    if args.scores and all(os.path.exists(path) for path in args.scores):
        scored = {}
        for path in args.scores:
            scored.update(load(path))
        show(scored, args.before)
        return 0

    from benchmarks import bench_photos, realworld
    from digitnet.data import mnist
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    wanted = args.families.split(",") if args.families else None
    test = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).test
    chosen = families(args.numbers, args.seed, test)
    digits = realworld.digits_of("test")
    for family in realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY:
        if wanted is None or f"rw-{family}" in wanted:
            chosen[f"rw-{family}"] = realworld.pictures("test", family, bench_photos.NUMBERS, digits)
    chosen = {k: v for k, v in chosen.items() if wanted is None or k in wanted}
    model = for_inference(resolve_model(None))
    scored = {family: score(items, model) for family, items in chosen.items()}
    if args.scores:  # reported when read back, with the settings shipped by then
        save(args.scores[0], scored)
        print(f"kept the scores of {', '.join(scored)} in {args.scores[0]}")
    else:
        show(scored, args.before)
    return 0


def show(scored, before=None):
    """Report ``scored`` without the pair reader, with the counter ``before`` it (a model
    file), and as shipped."""
    from digitnet.io import load_model
    from digitnet.read import decode, judge

    if all(hasattr(images[0], "judged") for images in scored.values()):
        rejudge(scored, judge.whole_digit_model())  # the judge shipped now
    report(scored, None, [None])
    if before:
        count(scored, load_model(before))
        report(scored, "counter before", [(2.0, np.inf, decode.PAIR_WIDTH, 0.0, *SHIPPED[4:])])
    count(scored)
    report(scored, "shipped", [SHIPPED])


if __name__ == "__main__":
    raise SystemExit(main())
