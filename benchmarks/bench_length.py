"""Numbers of a known length: `read` told how many digits each number has, against `read`
as it is, on numbers whose length it gets wrong.

    python -m benchmarks.bench_length --split validation [--numbers 1000 --pen 200]
    python -m benchmarks.bench_length --split test

Reads `benchmarks.realworld`'s number families (apart, touching, photographed; on test also
`num-hard`) and `benchmarks.bench_pen`'s (numbers in a pen's hand: apart, touching,
overlapped, crowded; on test also joined), the first --numbers / --pen pictures of each,
with the default model, as `digitnet read` reads them (``read_number``); where the reading
has another length than the number, again with ``length`` (``read_number(...,
length=N)``). Prints, per family, the exact readings without and with the length, how
many readings were made to have it ("forced") and how many of those are right, how many
have no reading of the length ("off length"), and the mean calibrated confidence of the
forced ones (capped at ``calibration.FORCED``).
"""

import argparse
import time

import numpy as np


def families(split):
    from benchmarks import bench_pen, realworld

    numbers = [f for f in realworld.families(split) if f in realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY]
    pen = [f for f in bench_pen.FAMILIES[split] if f.endswith("-number")]
    if split == "validation":
        pen.append("crowded-number")  # (test only as a frozen set; its recipe, validation's seeds)
    return [("realworld", f) for f in numbers] + [("bench_pen", f) for f in pen]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--numbers", type=int, default=1000, help="pictures per realworld family")
    parser.add_argument("--pen", type=int, default=200, help="pictures per bench_pen family")
    args = parser.parse_args(argv)

    from benchmarks import bench_pen, realworld
    from digitnet.calibration import for_model
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_number

    reader, calibration = for_inference(resolve_model(None)), for_model(None)
    digits = realworld.digits_of(args.split)
    print("| family | numbers | exact | exact, length known | forced | of them right | off length "
          "| mean confidence of the forced |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    totals = np.zeros(6, int)
    for source, family in families(args.split):
        start = time.perf_counter()
        n = args.numbers if source == "realworld" else args.pen
        free = known = forced = forced_right = off = 0
        confidence = []
        for i in range(n):
            if source == "realworld":
                data, label = realworld.make(family, args.split, i, *digits)
            else:
                data, label = bench_pen.make(family, args.split, i)
            reading = read_number(data, reader)
            free += reading.text == label
            if len(reading.text) != len(label):
                reading = read_number(data, reader, length=len(label))
                forced += bool(reading.evidence.get("forced"))
                off += bool(reading.evidence.get("off_length"))
                forced_right += bool(reading.evidence.get("forced")) and reading.text == label
                if reading.evidence.get("forced"):
                    confidence.append(calibration.number_confidence(reading))
            known += reading.text == label
        totals += [n, free, known, forced, forced_right, off]
        mean = f"{np.mean(confidence):.2f}" if confidence else ""
        print(f"| {source} {family} | {n} | {100 * free / n:.1f}% | {100 * known / n:.1f}% | {forced} | "
              f"{forced_right} | {off} | {mean} |  ({time.perf_counter() - start:.0f} s)", flush=True)
    n, free, known, forced, forced_right, off = totals
    print(f"| all | {n} | {100 * free / n:.2f}% | {100 * known / n:.2f}% | {forced} | {forced_right} | "
          f"{off} | |")


if __name__ == "__main__":
    main()
