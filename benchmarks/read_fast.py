"""`read`'s cascade (``read.cascade``) against scoring every piece with every network, on
numbers of MNIST *validation* digits.

    python -m benchmarks.read_fast --reference FULL.json [--numbers 300] [--realworld 200]
    python -m benchmarks.read_fast --against FULL.json [--numbers 300] [--realworld 200]
                                   [--families F,...] [--split validation|test]
    python -m benchmarks.read_fast --profile FOLDER [--read 60]

The families of ``benchmarks.tune_counter`` (validation digits, its seed; the validation
split of ``benchmarks.realworld``'s number families). ``--reference`` reads every picture
from ``decode.full_scores`` (every piece, every network; a tree without it, such as main
before the cascade, with its ``decode.scores``: run it as ``PYTHONPATH=/that/tree/src``)
and keeps the readings; ``--against`` reads them with ``decode.scores`` (the cascade) and
prints per family the exact readings of both, how many readings differ, and the median
CPU time a picture (one BLAS thread) and pieces the whole ensemble classified; "worse":
readings right with every piece scored and wrong with the cascade. ``--split test``: the
test digits and frozen test split, as ``benchmarks.bench_touching`` (once). ``--profile``:
where the CPU time of ``read_number`` goes on the first ``--read`` pictures of FOLDER
(e.g. ``bench_batch make``'s numbers/), one BLAS thread, malloc as the command sets it.
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


def read(image, model, reference):
    """(the text read, CPU seconds, pieces whose scores decoding took); an empty text for
    a picture with no digits."""
    from digitnet.errors import ImageError
    from digitnet.read import decode
    from digitnet.read.segment import lattice

    way = getattr(decode, "full_scores", decode.scores) if reference else decode.scores
    start = time.process_time()
    try:
        lat = lattice(image)
    except ImageError:
        return "", time.process_time() - start, 0
    s = way(lat, model)
    text = "".join(str(d) for _, d, _ in decode.decode(lat, s))
    return text, time.process_time() - start, len(s.keys)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=300, help="numbers per composed family")
    parser.add_argument("--realworld", type=int, default=200, help="pictures per realworld family")
    parser.add_argument("--families", type=lambda s: s.split(","), help="comma-separated families")
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="try another value of a constant of read.cascade (SURE_DIGIT, MARGIN...)")
    parser.add_argument("--read", type=int, default=60, help="--profile: the first N pictures")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--reference", help="read with every piece scored; keep the readings here")
    which.add_argument("--against", help="read with the cascade; compare with these readings")
    which.add_argument("--profile", metavar="FOLDER", help="where the time of reading goes")
    args = parser.parse_args(argv)

    import numpy  # noqa: F401  (loaded before the BLAS limit, or it would not apply)
    from threadpoolctl import threadpool_limits

    from digitnet.cli.memory import keep_freed_memory
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    threadpool_limits(1, user_api="blas")
    keep_freed_memory()
    for setting in args.set:
        from digitnet.read import cascade

        name, value = setting.split("=")
        if not hasattr(cascade, name):
            parser.error(f"read.cascade has no constant {name}")
        setattr(cascade, name, float(value))
    model = for_inference(resolve_model(None))
    if args.profile:
        return profile(args.profile, args.read, model)
    reference = json.load(open(args.against)) if args.against else {}
    kept = {}
    for family, items in pictures(args).items():
        truths = [truth for _, truth in items]
        rows = [read(image, model, args.reference) for image, _ in items]
        texts = kept[family] = [r[0] for r in rows]
        cpu, pieces = statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)
        line = (f"{family}: {_exact(texts, truths)}; CPU a picture {cpu * 1e3:.1f} ms (median), "
                f"pieces scored by the ensemble: median {pieces:.0f}")
        if family in reference:
            theirs = reference[family]
            worse = sum(a == t != b for a, b, t in zip(theirs, texts, truths))
            line += (f"; every piece scored: {_exact(theirs, truths)}, "
                     f"{sum(a != b for a, b in zip(theirs, texts))} of {len(texts)} readings differ, "
                     f"{worse} worse")
        print(line, flush=True)
    if args.reference:
        with open(args.reference, "w") as f:
            json.dump(kept, f)
    return 0


def profile(folder, n, model):
    """Print the CPU time of each step of ``read_number`` a picture, and in all."""
    from collections import defaultdict

    from digitnet.read import cascade, counter, decode, judge

    spent: dict = defaultdict(float)
    steps = [(decode, "lattice", "segment (lattice)"), (cascade, "piece_ink", "pieces' ink"),
             (cascade, "ink_image", "piece images"), (counter, "ink_frame", "pair reader's frames"),
             (counter, "assess_frames", "pair reader"), (judge, "features", "judge: features"),
             (judge, "log_whole", "judge: networks"), (cascade, "readings", "decode")]
    steps += [(member, "confidences", f"classifier: member {i}") for i, member in enumerate(model.members)]
    for owner, name, step in steps:
        setattr(owner, name, _timed(getattr(owner, name), step, spent))
    pieces: list = []  # (candidates, classified by the whole ensemble) a picture
    scores = decode.scores
    decode.scores = lambda lat, m: _counted(scores(lat, m), lat, pieces)
    paths = [os.path.join(folder, name) for name in sorted(os.listdir(folder))[:n]]
    decode.read_number(paths[0], model)  # loads the judge and the pair reader
    spent.clear()
    pieces.clear()
    start = time.process_time()
    for path in paths:
        decode.read_number(path, model)
    total = time.process_time() - start
    print(f"{len(paths)} pictures: {len(paths) / total:.1f} a CPU-second, {total / len(paths) * 1e3:.1f} ms "
          f"each; load average {os.getloadavg()[0]:.1f}")
    print(f"candidate pieces a picture: median {statistics.median(c for c, _ in pieces):.0f}; classified by "
          f"the whole ensemble: median {statistics.median(e for _, e in pieces):.0f}")
    spent["the rest"] = total - sum(spent.values())
    for step, seconds in spent.items():
        print(f"| {step} | {seconds / len(paths) * 1e3:.1f} ms | {seconds / total:.0%} |")
    return 0


def _counted(s, lat, pieces):
    pieces.append((len(lat.pieces), len(s.keys)))
    return s


def _timed(function, step, spent):
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[step] += time.process_time() - start
    return timed


def _exact(texts, truths):
    exact = sum(text == truth for text, truth in zip(texts, truths))
    dropped = sum(len(text) < len(truth) for text, truth in zip(texts, truths))
    return f"{100 * exact / len(truths):.1f}% ({dropped} dropped)"


if __name__ == "__main__":
    raise SystemExit(main())
