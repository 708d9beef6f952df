"""A number given to `predict`: how often it says "looks like several digits side by side".

    python -m benchmarks.bench_several [--split validation|test] [--pictures 300]

`predict` answers one digit; given a number, it answers one of its digits and says on
stderr (the API: ``several_digits``) that `read` reads numbers. Counted here on the
pictures of the other benchmarks, single digits (where it should stay silent) and numbers
(where it should speak): `realworld`'s families, `bench_pen`'s hand, and the single-digit
and number families of the benchmarks of circled, glared, notebook, desk, stray and
turned-page pictures, ``--pictures`` of each (100 of the last six). Each count is of the
pictures in which the front end found writing; "alone" is the 28x28 input's own test
(``frontend.several_digits``: one writing, wider than high, with an empty column), "any"
adds the digits the front end saw beside the one answered (``Seen.beside``).
"""

import argparse
import importlib

SIDE_BENCHMARKS = ("bench_circled", "bench_glare", "bench_notebook", "bench_desk", "bench_strays",
                   "bench_turned")


def families(split: str, pictures: int):
    """{name: a function of the picture's index -> (bytes, label)}, and how many of each."""
    from benchmarks import bench_pen, realworld

    x, y = realworld.digits_of(split)
    out = {}
    for family in (*realworld.TUNING, *realworld.TEST_ONLY, *realworld.NUMBERS,
                   *(realworld.NUMBERS_TEST_ONLY if split == "test" else ())):
        out[family] = (lambda i, f=family: realworld.make(f, split, i, x, y)), pictures
    for family in bench_pen.FAMILIES[split]:
        out[f"pen {family}"] = (lambda i, f=family: bench_pen.make(f, split, i)), pictures
    for name in SIDE_BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        for family in module.FAMILIES[split]:
            out[f"{name.removeprefix('bench_')} {family}"] = (
                lambda i, m=module, f=family: m.make(f, split, i, x, y)[:2]), min(pictures, 100)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--pictures", type=int, default=300)
    args = parser.parse_args(argv)

    from digitnet.data.frontend import several_digits
    from digitnet.data.preprocess import to_mnist_seen
    from digitnet.errors import DigitnetError

    totals = {True: [0, 0, 0], False: [0, 0, 0]}  # number?: [pictures, alone, any]
    print(f"| {args.split} family | pictures | numbers | said: alone | said: any |")
    print("| --- | ---: | :---: | ---: | ---: |")
    for name, (make, n) in families(args.split, args.pictures).items():
        seen_n = alone = either = 0
        number = False
        for i in range(n):
            picture, label = make(i)
            number = len(str(label)) > 1
            try:
                x, seen = to_mnist_seen(picture)
            except DigitnetError:
                continue
            seen_n += 1
            alone += several_digits(x)
            either += several_digits(x) or seen.beside
        totals[number] = [t + v for t, v in zip(totals[number], (seen_n, alone, either))]
        print(f"| {name} | {seen_n} | {'yes' if number else ''} | {alone} | {either} |", flush=True)
    for number, (seen_n, alone, either) in totals.items():
        kind = "numbers" if number else "single digits"
        print(f"| **all {kind}** | {seen_n} | | {alone} ({100 * alone / max(seen_n, 1):.1f}%) "
              f"| {either} ({100 * either / max(seen_n, 1):.1f}%) |")


if __name__ == "__main__":
    main()
