"""`read`'s cascade (``read.cascade``) against scoring every piece with every network, on
numbers of MNIST *validation* digits.

    python -m benchmarks.read_fast [--numbers 300] [--realworld 200] [--families F,...]
                                   [--texts OUT.json] [--against MAIN.json]

The families of ``benchmarks.tune_counter`` (validation digits; the validation split of
``benchmarks.realworld``'s number families). Each picture's lattice is found once, then
decoded from ``decode.full_scores`` (every piece, every network) and from
``decode.scores`` (the cascade), alternately, timing both (CPU time, one BLAS thread).
Prints per family the exact readings of both, how many readings differ, and the pieces
the whole ensemble classified. ``--texts`` keeps each picture's reading by ``scores``;
``--against`` compares them with such a file written by another tree (run as
``PYTHONPATH=/other/tree/src python -m benchmarks.read_fast --texts MAIN.json``: a tree
without ``full_scores`` reads with its ``scores``), counting the readings that differ.
The test split: ``--split test`` (measure once).
"""

import argparse
import json
import os
import statistics
import time


def pictures(args):
    """{family: [(picture, truth)]} of the split."""
    from benchmarks import bench_photos, realworld
    from benchmarks.tune_counter import families
    from digitnet.data import mnist

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    if args.split == "test":
        chosen = families(args.numbers, 200, data.test)  # the seed of bench_touching
        names = realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY
        n = bench_photos.NUMBERS
    else:
        chosen = families(args.numbers, 100, data.validation)  # the seed of tune_counter
        names, n = realworld.NUMBERS, args.realworld
    digits = realworld.digits_of(args.split)
    for family in names:
        if not args.families or f"rw-{family}" in args.families:
            chosen[f"rw-{family}"] = realworld.pictures(args.split, family, n, digits)
    return {k: v for k, v in chosen.items() if not args.families or k in args.families}


def read_both(image, model):
    """(text by every piece, text by the cascade, CPU seconds of each, pieces the whole
    ensemble classified by the cascade); empty texts for a picture with no digits."""
    from digitnet.errors import ImageError
    from digitnet.read import decode
    from digitnet.read.segment import lattice

    full_scores = getattr(decode, "full_scores", decode.scores)
    try:
        lat = lattice(image)
    except ImageError:
        return "", "", 0.0, 0.0, 0
    out = []
    for way in (full_scores, decode.scores):
        start = time.process_time()
        s = way(lat, model)
        text = "".join(str(d) for _, d, _ in decode.decode(lat, s))
        out.append((text, time.process_time() - start, len(s.keys)))
    return out[0][0], out[1][0], out[0][1], out[1][1], out[1][2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=300, help="numbers per composed family")
    parser.add_argument("--realworld", type=int, default=200, help="pictures per realworld family")
    parser.add_argument("--families", type=lambda s: s.split(","), help="comma-separated families")
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--texts", help="keep the cascade's readings in this JSON file")
    parser.add_argument("--against", help="compare the readings with this JSON file's")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    threadpool_limits(1, user_api="blas")
    model = for_inference(resolve_model(None))
    other = json.load(open(args.against)) if args.against else {}
    kept = {}
    for family, items in pictures(args).items():
        rows = [(truth, *read_both(image, model)) for image, truth in items]
        full, cheap = [r[1] for r in rows], [r[2] for r in rows]
        kept[family] = cheap
        line = (f"{family}: every piece {_exact(full, rows)}, cascade {_exact(cheap, rows)}; "
                f"{sum(a != b for a, b in zip(full, cheap))} of {len(rows)} differ; CPU a number "
                f"{statistics.median(r[3] for r in rows) * 1e3:.1f} ms against "
                f"{statistics.median(r[4] for r in rows) * 1e3:.1f} ms (medians); pieces the ensemble "
                f"classified: median {statistics.median(r[5] for r in rows):.0f}")
        if family in other:
            theirs = other[family]
            line += (f"; against {args.against}: {_exact(theirs, rows)}, "
                     f"{sum(a != b for a, b in zip(theirs, cheap))} differ")
        print(line, flush=True)
    if args.texts:
        with open(args.texts, "w") as f:
            json.dump(kept, f)
    return 0


def _exact(texts, rows):
    exact = sum(text == r[0] for text, r in zip(texts, rows))
    dropped = sum(len(text) < len(r[0]) for text, r in zip(texts, rows))
    return f"{100 * exact / len(rows):.1f}% ({dropped} dropped)"


if __name__ == "__main__":
    raise SystemExit(main())
