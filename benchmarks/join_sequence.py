"""Join sequence readers into one file that `read` reads them from together.

    python -m benchmarks.join_sequence OUT A.npz*2 B.npz C.npz
    python -m benchmarks.join_sequence --apart src/digitnet/models/sequence.npz DIR

Each reader (a model file written by ``benchmarks.fit_sequence``) may carry a weight after
'*' (default 1): how many votes it has. The readers are saved as an ensemble file, in
half precision, their weights and training runs in its metadata; ``read`` reads a line
by the weighted mean of their columns' ln P, normalised again
(``digitnet.read.sequence.Averaged``). The shipped ``models/sequence.npz`` is made so
(BENCHMARKS.md, "Three sequence readers read together, shipped"). ``--apart`` takes a
joined file apart again: each reader into DIR as ``reader1.npz``, ``reader2.npz``, ...
with its own training run in its metadata, to train further (``fit_sequence --start``).
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


def apart(joined, out_dir):
    """Write each reader of the ensemble file ``joined`` to ``out_dir`` as its own model
    file; the paths and the readers' weights."""
    from pathlib import Path

    from digitnet.io import load_model, read_config, save_model

    config = read_config(joined)
    if not isinstance(config.get("training"), list):
        raise DigitnetError(f"{joined}: one reader, not several joined")
    model = load_model(joined)
    n = len(model.members)
    if len(config["training"]) != n or len(config.get("weights") or []) != n:
        raise DigitnetError(f"{joined}: {n} readers, but {len(config['training'])} training runs and "
                            f"{len(config.get('weights') or [])} weights in its metadata")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    written = []
    for n, (member, training, metrics) in enumerate(zip(
            model.members, config["training"], config.get("metrics") or [{}] * len(model.members)), 1):
        path = Path(out_dir) / f"reader{n}.npz"
        save_model(path, member, {"preprocessing": config["preprocessing"], "outputs": config["outputs"],
                                  "training": training, "metrics": metrics}, half=True)
        written.append(str(path))
    return written, config["weights"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the file to write (with --apart: the folder)")
    parser.add_argument("readers", nargs="*", type=weighted, help="READER.npz, or READER.npz*WEIGHT")
    parser.add_argument("--apart", metavar="JOINED", help="write the readers of JOINED to the folder OUT")
    args = parser.parse_args(argv)
    if bool(args.apart) == bool(args.readers):
        parser.error("give the readers to join, or --apart JOINED, not both")
    try:
        if args.apart:
            paths, weights = apart(args.apart, args.out)
            for path, weight in zip(paths, weights):
                print(f"{path}: weight {weight:g}")
            return 0
        join(args.out, args.readers)
    except DigitnetError as error:
        print(f"join_sequence: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {len(args.readers)} readers, weights "
          f"{', '.join(f'{w:g}' for _, w in args.readers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
