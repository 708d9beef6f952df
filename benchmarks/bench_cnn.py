"""One CNN training epoch, digitnet against PyTorch on the CPU, side by side.

    python -m benchmarks.bench_cnn            # 300 mini-batches each, extrapolated to an epoch
    python -m benchmarks.bench_cnn --batches 782

conv(1->32, 3x3, pad 1) - ReLU - maxpool 2 - conv(32->64, 3x3, pad 1) - ReLU - maxpool 2 -
fc 3136->128 - ReLU - fc 128->10, softmax + cross-entropy, SGD with Nesterov momentum,
mini-batch 64: the network of the `cnn` recipe without dropout and augmentation (the data
pipeline is not what is compared). Each framework runs in its own process.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BATCH = 64
EPOCH_BATCHES = 50_000 // BATCH + 1


def digitnet_run(x, y, batches):
    from digitnet.nn.functional import one_hot
    from digitnet.nn.optim import SGD
    from digitnet.recipes import build_network

    settings = dict(model="cnn", channels=[32, 64], hidden=128, activation="relu", cost="ce",
                    init="he")
    net = build_network(settings, np.random.default_rng(0))
    opt = SGD(net.parameters(), 0.05, momentum=0.9, nesterov=True)
    targets = one_hot(y, 10)
    net.train(True)

    def step(i):
        idx = slice((i * BATCH) % 49_000, (i * BATCH) % 49_000 + BATCH)
        net.loss_and_gradients(x[idx], targets[idx])
        opt.step()
    return step


def torch_run(x, y, batches):
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    X = torch.from_numpy(x).reshape(-1, 1, 28, 28)
    Y = torch.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()

    def step(i):
        start = (i * BATCH) % 49_000
        loss = loss_fn(model(X[start:start + BATCH]), Y[start:start + BATCH])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def measure(impl, batches):
    from digitnet.data import mnist

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    x, y = data.train.x, data.train.y
    step = {"digitnet": digitnet_run, "torch": torch_run}[impl](x, y, batches)
    for i in range(5):
        step(i)
    start = time.perf_counter()
    for i in range(batches):
        step(i)
    seconds = time.perf_counter() - start
    return {"impl": impl, "batches": batches, "seconds": seconds,
            "epoch_seconds": seconds * EPOCH_BATCHES / batches}


def main(argv=None):
    parser = argparse.ArgumentParser(description="CNN epoch: digitnet vs PyTorch")
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--worker", choices=["digitnet", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.batches)))
        return 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    results = {}
    for impl in ("digitnet", "torch"):
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_cnn", "--worker", impl,
                               "--batches", str(args.batches)], capture_output=True, text=True,
                              env=env, cwd=ROOT)
        if done.returncode:
            print(f"{impl}: failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        results[impl] = json.loads(done.stdout)
        print(f"{impl}: {results[impl]['epoch_seconds']:.1f} s per epoch "
              f"({args.batches} mini-batches of {BATCH} in {results[impl]['seconds']:.1f} s)")
    if len(results) == 2:
        ratio = results["digitnet"]["epoch_seconds"] / results["torch"]["epoch_seconds"]
        print(f"digitnet / PyTorch: {ratio:.2f}x the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
