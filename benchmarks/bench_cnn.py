"""One CNN training epoch, digitnet against PyTorch on the CPU, interleaved in one process.

    python -m benchmarks.bench_cnn            # 300 mini-batches each, extrapolated to an epoch
    python -m benchmarks.bench_cnn --batches 782

conv(1->32, 3x3, pad 1) - ReLU - maxpool 2 - conv(32->64, 3x3, pad 1) - ReLU - maxpool 2 -
fc 3136->128 - ReLU - fc 128->10, softmax + cross-entropy, SGD with Nesterov momentum,
mini-batch 64: the network of the `cnn` recipe without dropout and augmentation (the data
pipeline is not what is compared). The two take turns, 20 mini-batches at a time, in one
process, both on 2 threads (threadpoolctl for NumPy's BLAS, ``torch.set_num_threads``):
this machine's speed drifts by tens of percent between minutes, and a ratio of turns
taken side by side is what holds still.
"""

import argparse
import os
import sys
import time

import numpy as np

BATCH = 64
EPOCH_BATCHES = 50_000 // BATCH + 1


#: the `cnn` recipe's network without dropout, for ``digitnet.recipes.build_network``
SETTINGS = dict(model="cnn", channels=[32, 64], hidden=128, activation="relu", cost="ce", init="he")


def torch_model():
    """The same network in PyTorch, and its optimizer."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)


def digitnet_run(x, y, batches):
    from digitnet.nn.functional import one_hot
    from digitnet.nn.optim import SGD
    from digitnet.recipes import build_network

    net = build_network(SETTINGS, np.random.default_rng(0))
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

    model, opt = torch_model()
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


def main(argv=None):
    parser = argparse.ArgumentParser(description="CNN epoch: digitnet vs PyTorch")
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--turn", type=int, default=20, help="mini-batches per turn")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from digitnet.data import mnist

    threadpool_limits(args.threads)
    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    x, y = data.train.x, data.train.y
    steps = {"digitnet": digitnet_run(x, y, args.batches)}
    try:
        import torch

        torch.set_num_threads(args.threads)
        steps["torch"] = torch_run(x, y, args.batches)
    except ImportError:
        print("PyTorch is not installed: digitnet only")
    for step in steps.values():
        for i in range(5):
            step(i)
    turns = {impl: [] for impl in steps}
    for start in range(0, args.batches, args.turn):
        for impl, step in steps.items():
            begin = time.perf_counter()
            for i in range(start, min(start + args.turn, args.batches)):
                step(i)
            turns[impl].append(time.perf_counter() - begin)
    for impl, t in turns.items():
        seconds = sum(t)
        print(f"{impl}: {seconds * EPOCH_BATCHES / args.batches:.1f} s per epoch "
              f"({args.batches} mini-batches of {BATCH} in {seconds:.1f} s)")
    if len(turns) == 2:
        ratios = np.array(turns["digitnet"]) / np.array(turns["torch"])
        total = sum(turns["digitnet"]) / sum(turns["torch"])
        print(f"digitnet / PyTorch: {total:.2f}x the time (turn by turn: median "
              f"{np.median(ratios):.2f}x, range {ratios.min():.2f}-{ratios.max():.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
