"""CPU-seconds per number of `read`, for comparing two trees run one after the other.

    python -m benchmarks.read_cpu [--numbers 40]
    PYTHONPATH=/path/to/other/tree/src python -m benchmarks.read_cpu [--numbers 40]

Reads the same numbers of MNIST *validation* digits (2 to 6 digits; every other one with
pairs touching as a pen makes them touch, ``data.touching``, the others apart) with the
default model, after one reading that loads the side models, and prints which digitnet
it ran and its process CPU time per number (process time, so that other jobs on a busy
machine count less than in wall time). Run the trees alternately and compare medians.
"""

import argparse
import os
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=40)
    args = parser.parse_args(argv)

    import digitnet
    from digitnet.data import mnist
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_number

    validation = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).validation
    rng = np.random.default_rng(7)
    items = []
    for i in range(args.numbers):
        idx = rng.integers(0, len(validation.x), int(rng.integers(2, 7)))
        rows = validation.x[idx]
        items.append(touching_number(rows, rng, touching=0.4)[0] if i % 2 else number(rows, rng)[0])
    model = for_inference(resolve_model(None))
    read_number(items[0], model)  # loads the judge and the pair reader
    start = time.process_time()
    for image in items:
        read_number(image, model)
    print(os.path.dirname(digitnet.__file__), f"{(time.process_time() - start) / args.numbers:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
