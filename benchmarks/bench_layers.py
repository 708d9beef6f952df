"""One CNN training step, layer by layer: digitnet against PyTorch, interleaved in one process.

    python -m benchmarks.bench_layers              # 30 rounds
    python -m benchmarks.bench_layers --rounds 60
    python -m benchmarks.bench_layers --only torch    # one library a process

The network of ``bench_cnn`` (conv 1->32 3x3 pad 1 - ReLU - max-pool 2 - conv 32->64 -
ReLU - max-pool 2 - fc 3136->128 - ReLU - fc 128->10, mini-batch 64 of MNIST digits when
DIGITNET_DATA is set, random images otherwise). Every round times each variant once, in
turn, so that the machine's drift hits all of them alike; the table gives the median
and the range (min-max) of the rounds, in milliseconds. NumPy's BLAS and PyTorch both
run on 2 threads (threadpoolctl, ``torch.set_num_threads``; ``--threads`` to change).

Rows: digitnet's plain layers (the readable reference, each layer on its own), the
fused convolution + ReLU + max-pool stages that ``Network`` runs in their place, the
PyTorch modules one by one (autograd on each module's output), and whole training
steps (forward, cost, backward, SGD update) of digitnet fused, digitnet plain and
PyTorch.
"""

import argparse
import copy
import os
import sys
import time

import numpy as np

from .bench_cnn import BATCH, SETTINGS, torch_model


def _images(rng):
    from digitnet.data import mnist

    if os.environ.get("DIGITNET_DATA"):
        data = mnist.load("mnist", os.environ["DIGITNET_DATA"])
        return data.train.x[:BATCH], data.train.y[:BATCH]
    return rng.random((BATCH, 784), dtype=np.float32), rng.integers(0, 10, BATCH)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _stage_forward(stage, x):
    return lambda: stage.forward(x)


def _stage_backward(stage, x, grad, input_grad):
    def run():
        stage.forward(x)  # its cache, which the whole steps' forward passes overwrite
        return _timed(lambda: stage.backward(grad, input_grad))
    return run


def digitnet_variants(x, y):
    """(name, function) pairs timing digitnet's layers, stages and training steps."""
    from digitnet.nn.functional import one_hot
    from digitnet.nn.optim import SGD
    from digitnet.recipes import build_network

    net = build_network(SETTINGS, np.random.default_rng(0))
    targets = one_hot(y, 10)
    opt = SGD(net.parameters(), 0.05, momentum=0.9, nesterov=True)
    names = {1: "conv 1->32", 2: "relu 1", 3: "max-pool 1", 4: "conv 32->64", 5: "relu 2",
             6: "max-pool 2"}
    inputs = {}
    a = x
    for i, layer in enumerate(net.layers):
        inputs[i] = a
        a = layer.forward(a)
    grads = {}
    g = np.ones_like(a) / len(a)
    for i in range(len(net.layers) - 1, 0, -1):
        grads[i] = g
        g = net.layers[i].backward(g.copy())

    def plain(i, direction):
        layer = net.layers[i]

        def run():  # the copies (ReLU works in place) are not timed
            if direction == "forward":
                xi = inputs[i].copy() if i in (2, 5) else inputs[i]
                return _timed(lambda: layer.forward(xi))
            layer.forward(inputs[i].copy())  # its cache, which the whole steps overwrite
            gi = grads[i].copy()
            return _timed(lambda: layer.backward(gi, **({"input_grad": False} if i == 1 else {})))
        return run

    variants = []
    for i, name in names.items():
        variants += [(f"digitnet {name} forward", plain(i, "forward")),
                     (f"digitnet {name} backward", plain(i, "backward"))]
    stages = net.stages() if hasattr(net, "stages") else []  # none in a checkout from before nn.fused
    for k, stage in enumerate(s for s in stages if hasattr(s, "layers")):
        first, last = net.layers.index(stage.layers[0]), net.layers.index(stage.layers[-1])
        variants += [(f"fused stage {k + 1} forward", _stage_forward(stage, inputs[first])),
                     (f"fused stage {k + 1} backward",
                      _stage_backward(stage, inputs[first], grads[last], first > 1))]

    def step(fuse):
        def run():
            net.fuse = fuse
            net.loss_and_gradients(x, targets)
            opt.step()
        return run
    variants += [("digitnet whole step (fused)", step(True)),
                 ("digitnet whole step (plain layers)", step(False))]
    return variants


def torch_variants(x, y):
    import torch
    from torch import nn

    model, opt = torch_model()
    X = torch.from_numpy(x).reshape(-1, 1, 28, 28)
    Y = torch.from_numpy(np.asarray(y, dtype=np.int64))
    loss_fn = nn.CrossEntropyLoss()
    layers = copy.deepcopy(model)  # the step's updates would invalidate the retained graphs
    inputs, a = [], X
    with torch.no_grad():
        for module in layers:
            inputs.append(a)
            a = module(a)
    names = {0: "conv 1->32", 1: "relu 1", 2: "max-pool 1", 3: "conv 32->64", 4: "relu 2",
             5: "max-pool 2"}

    def forward(i):
        def run():
            with torch.no_grad():
                layers[i](inputs[i])
        return run

    def backward(i):
        xi = inputs[i].clone().requires_grad_(i > 0)
        out = layers[i](xi)
        grad = torch.ones_like(out)
        return lambda: torch.autograd.backward(out, grad, retain_graph=True)

    def step():
        loss = loss_fn(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    variants = []
    for i, name in names.items():
        variants += [(f"PyTorch {name} forward", forward(i)),
                     (f"PyTorch {name} backward", backward(i))]
    return variants + [("PyTorch whole step", step)]


def main(argv=None):
    parser = argparse.ArgumentParser(description="CNN training step per layer: digitnet vs PyTorch")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2, help="for NumPy's BLAS and PyTorch")
    parser.add_argument("--only", choices=["digitnet", "torch"], help=(
        "one library in this process: the other's thread pool, spinning after its calls, "
        "cannot slow it (run both ways in turn and compare the whole steps)"))
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    x, y = _images(np.random.default_rng(0))
    variants = digitnet_variants(x, y) if args.only != "torch" else []
    try:
        import torch

        torch.set_num_threads(args.threads)
        variants += torch_variants(x, y) if args.only != "digitnet" else []
    except ImportError:
        print("PyTorch is not installed: digitnet only")
    times = {name: [] for name, _ in variants}
    for _ in range(3):  # warm-up
        for _, fn in variants:
            fn()
    for _ in range(args.rounds):
        for name, fn in variants:
            start = time.perf_counter()
            ms = fn()  # a variant that times only part of itself returns that time
            times[name].append(ms if isinstance(ms, float) else (time.perf_counter() - start) * 1000)
    print(f"| variant | median ms | range ms | ({args.rounds} interleaved rounds) |")
    print("| --- | --- | --- | --- |")
    for name, t in times.items():
        print(f"| {name} | {np.median(t):.2f} | {min(t):.2f}-{max(t):.2f} | |")
    if "PyTorch whole step" in times:
        torch_step = np.array(times["PyTorch whole step"])
        for name in [n for n in times if n.startswith("digitnet whole step")]:
            ratio = np.array(times[name]) / torch_step  # round by round: same moment, same load
            print(f"{name} / PyTorch: median {np.median(ratio):.2f}x "
                  f"(rounds {ratio.min():.2f}-{ratio.max():.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
