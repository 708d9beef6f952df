"""Inference throughput of a model file: fused convolution stages against the plain layers.

    python -m benchmarks.bench_predict                     # the shipped ensemble, 10,000 digits
    python -m benchmarks.bench_predict --model src/digitnet/models/cnn.npz --rounds 5

Predictions per second on the MNIST test digits (DIGITNET_DATA), for the model as
loaded (``predict_proba``, what ``digitnet evaluate`` and ``predict`` run) and for
``nn.network.for_inference``'s copy (batch norm folded, ReLU after the pool: what
``digitnet read`` and ``digitnet serve`` run), each with ``Network.fuse`` on and off.
The variants take turns in every round (this machine drifts); NumPy's BLAS on
``--threads`` threads (2).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _set_fuse(model, fuse):
    for member in getattr(model, "members", [model]):
        member.fuse = fuse


def main(argv=None):
    parser = argparse.ArgumentParser(description="predictions/s, fused stages vs plain layers")
    parser.add_argument("--model", default=str(ROOT / "src" / "digitnet" / "models" / "ensemble.npz"))
    parser.add_argument("--digits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--plain", action="store_true",
                        help="the plain layers only (for a checkout from before nn.fused)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from digitnet import load_model
    from digitnet.data import mnist
    from digitnet.nn.network import for_inference

    threadpool_limits(args.threads)
    if not os.environ.get("DIGITNET_DATA"):
        print("set DIGITNET_DATA to the MNIST folder")
        return 2
    x = mnist.load("mnist", os.environ["DIGITNET_DATA"]).test.x[:args.digits]
    loaded = load_model(args.model)
    fast = for_inference(loaded)
    variants = {"as loaded, fused": (loaded, True), "as loaded, plain layers": (loaded, False),
                "for_inference, fused": (fast, True), "for_inference, plain layers": (fast, False)}
    if args.plain:
        variants = {name: v for name, v in variants.items() if not v[1]}
    rates = {name: [] for name in variants}
    answers = {}
    for _ in range(args.rounds):
        for name, (model, fuse) in variants.items():
            _set_fuse(model, fuse)
            start = time.perf_counter()
            answers[name] = model.predict_proba(x)
            rates[name].append(len(x) / (time.perf_counter() - start))
    reference = answers["as loaded, plain layers"]
    print(f"{Path(args.model).name}, {len(x)} digits, {args.rounds} interleaved rounds, "
          f"{args.threads} BLAS threads")
    for name, r in rates.items():
        diff = np.abs(answers[name] - reference).max()
        print(f"{name:30s} {np.median(r):7.0f} predictions/s (range {min(r):.0f}-{max(r):.0f}); "
              f"largest difference in probabilities {diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
