"""Choose `read`'s COUNT_WEIGHT, PAIR_WIDTH and PAIR_COST on numbers of validation digits.

    python -m benchmarks.tune_pairs [--numbers 150] [--seed 100] [--families F,...] [--pairs FOLDER ...]

Composes numbers from MNIST *validation* digits (the last 10,000 of the training file)
in four families: pairs touching as a pen makes them touch (``data.touching``, 2 to 6
digits, each gap touching with probability 0.4, every 2-digit number touching); numbers
of 2 to 8 digits apart, and with touching pairs as ``synthetic.number`` makes them
(p = 0.3), as ``benchmarks.bench_read`` does with test digits; single digits; and the
validation split of the held-out benchmark's number families (``benchmarks.realworld``:
``apart``, ``touching``, ``num-photo``; never its test split). Every piece
is classified and judged once; then each setting is decoded and its exact readings per
family printed, with how many readings dropped a digit.
"""

import argparse
import itertools
import os

import numpy as np

from digitnet.io import load_model


def families(n, seed, digits):
    """{family: [(image, truth)]} from ``digits``."""
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number

    rng = np.random.default_rng(seed)
    out = {"pen-touching": [], "separated": [], "touching-0.3": [], "single": []}
    for _ in range(n):
        k = int(rng.integers(2, 7))
        idx = rng.integers(0, len(digits.x), k)
        image = touching_number(digits.x[idx], rng, touching=1.0 if k == 2 else 0.4)[0]
        out["pen-touching"].append((image, "".join(map(str, digits.y[idx]))))
        for family, touching in (("separated", 0.0), ("touching-0.3", 0.3)):
            idx = rng.integers(0, len(digits.x), int(rng.integers(2, 9)))
            out[family].append((number(digits.x[idx], rng, touching=touching)[0],
                                "".join(map(str, digits.y[idx]))))
        i = int(rng.integers(0, len(digits.x)))
        out["single"].append((number(digits.x[[i]], rng)[0], str(digits.y[i])))
    return out


def realworld_families(n):
    """{family: [(picture bytes, truth)]}: the validation split of the number families."""
    from benchmarks import realworld

    digits = realworld.digits_of("validation")
    return {f"rw-{family}": realworld.pictures("validation", family, n, digits)
            for family in realworld.NUMBERS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=150, help="numbers per family")
    parser.add_argument("--realworld", type=int, default=200,
                        help="numbers per family of benchmarks.realworld's validation split")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--model")
    parser.add_argument("--families", help="comma-separated families (default: all)")
    parser.add_argument("--pairs", nargs="*", default=[],
                        help="folders of count.npz, left.npz and right.npz to compare "
                             "(default: the shipped)")
    args = parser.parse_args(argv)

    from digitnet.data import mnist
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import decode, lattice, pairs

    model = for_inference(resolve_model(args.model))
    validation = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).validation
    chosen = {**families(args.numbers, args.seed, validation), **realworld_families(args.realworld)}
    if args.families:
        chosen = {k: v for k, v in chosen.items() if k in args.families.split(",")}
    shipped = {name: pairs.model(name) for name in ("count", "left", "right")}
    pairs._MODELS.update(count=None, left=None, right=None)  # classified and judged once, counted per variant
    scored = {}
    for family, items in chosen.items():
        scored[family] = []
        for image, truth in items:
            lat = lattice(image)
            scored[family].append((lat, decode.scores(lat, model), truth))
        print(f"scored {family}", flush=True)
    report(scored, decode, None, [(None, None, None)])
    for folder in args.pairs or [None]:
        pairs._MODELS.update(shipped if folder is None else {
            name: load_model(os.path.join(folder, f"{name}.npz")) for name in ("count", "left", "right")})
        for items in scored.values():
            for n, (lat, s, truth) in enumerate(items):
                log_count, pair = pairs.assess(lat, s.keys)
                items[n] = (lat, decode.Scores(s.keys, s.probabilities, s.log_whole, s.judged,
                                               log_count, pair), truth)
        report(scored, decode, folder or "shipped", list(itertools.product(
            (0.0, 0.5, 1.0, 2.0), (0.5, 0.7), (0.0, 1.0, 2.0, 3.0, 5.0, np.inf))))
    return 0


def report(scored, decode, name, settings):
    """Print the exact readings per family for each (COUNT_WEIGHT, PAIR_WIDTH, PAIR_COST)."""
    for weight, width, cost in settings:
        figures = []
        for family, items in scored.items():
            exact = dropped = 0
            for lat, s, truth in items:
                if weight is None:  # as before: no counter, no pair reader
                    s = decode.Scores(s.keys, s.probabilities, s.log_whole, s.judged, None, None)
                else:
                    decode.COUNT_WEIGHT, decode.PAIR_WIDTH, decode.PAIR_COST = weight, width, cost
                text = "".join(str(d) for _, d, _ in decode.decode(lat, s))
                exact += text == truth
                dropped += len(text) < len(truth)
            figures.append(f"{family} {100 * exact / len(items):5.1f}% ({dropped} dropped)")
        setting = "without" if weight is None else f"{name}: weight {weight} width {width} cost {cost}"
        print(f"{setting}: " + ", ".join(figures), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
