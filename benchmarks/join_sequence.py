"""Join sequence readers into one file that `read` reads them from together.

    python -m benchmarks.join_sequence OUT A.npz*2 B.npz C.npz

Each reader (a model file written by ``benchmarks.fit_sequence``) may carry a weight after
'*' (default 1): how many votes it has. The readers are saved as an ensemble file, in
half precision, their weights and training runs in its metadata; ``read`` reads a line
by the weighted mean of their columns' ln P, normalised again
(``digitnet.read.sequence.Averaged``). The shipped ``models/sequence.npz`` is made so
(BENCHMARKS.md, "Three sequence readers read together, shipped").
"""

import argparse
import sys

from digitnet.errors import DigitnetError


def weighted(part: str) -> tuple[str, float]:
    """'A.npz*2' -> ('A.npz', 2.0); 'A.npz' -> ('A.npz', 1.0)."""
    path, _, weight = part.rpartition("*") if "*" in part else (part, "", "1")
    try:
        value = float(weight)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"a reader's weight is a positive number, not {weight!r}")
    return path, value


def join(out, readers):
    """Write the readers [(path, weight)] to ``out`` as one ensemble file."""
    from digitnet.io import load_model, read_config, save_model
    from digitnet.nn.ensemble import Ensemble

    configs = [read_config(path) for path, _ in readers]
    if any(not isinstance(c.get("training"), dict) for c in configs):
        raise DigitnetError("join readers trained by fit_sequence, one to a file")
    metadata = {
        "preprocessing": configs[0]["preprocessing"], "outputs": configs[0]["outputs"],
        "weights": [weight for _, weight in readers],
        "readers": "read together as a product of experts: the weighted mean of their "
                   "columns' ln P, normalised again (digitnet.read.sequence.Averaged)",
        "training": [c["training"] for c in configs],
        "metrics": [c.get("metrics", {}) for c in configs],
    }
    save_model(out, Ensemble([load_model(path) for path, _ in readers]), metadata=metadata, half=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the file to write")
    parser.add_argument("readers", nargs="+", type=weighted, help="READER.npz, or READER.npz*WEIGHT")
    args = parser.parse_args(argv)
    try:
        join(args.out, args.readers)
    except DigitnetError as error:
        print(f"join_sequence: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {len(args.readers)} readers, weights "
          f"{', '.join(f'{w:g}' for _, w in args.readers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
