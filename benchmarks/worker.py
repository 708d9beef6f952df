"""One benchmark case for one implementation, in its own process; prints JSON.

    python -m benchmarks.worker IMPL CASE [--reps N] [--train N]

IMPL: tutorial, digitnet, torch, sklearn, products. CASE: seed (the tutorials' [784, 30, 10]
sigmoid network, quadratic cost, mini-batch 10, eta 3.0), relu32 and relu128
([784, 128, 64, 10] ReLU + softmax + cross-entropy, eta 0.1), infer (inference of the
10,000 test images with [784, 128, 64, 10]), memory (peak RSS of a training epoch).
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

CASES = {
    "seed": dict(sizes=[784, 30, 10], batch_size=10, lr=3.0),
    "relu32": dict(sizes=[784, 128, 64, 10], batch_size=32, lr=0.1),
    "relu128": dict(sizes=[784, 128, 64, 10], batch_size=128, lr=0.1),
}


def load(n_train):
    from digitnet.data import mnist

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    return data.train.x[:n_train], data.train.y[:n_train], data.test.x, data.test.y


def time_epochs(train_one_epoch, reps):
    train_one_epoch()  # warm-up: first-touch allocation, BLAS thread start-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        train_one_epoch()
        times.append(time.perf_counter() - start)
    return times


# -- implementations ---------------------------------------------------------------

def digitnet_epochs(case, x, y, reps):
    from digitnet import fit, mlp

    spec = CASES[case]
    if case == "seed":
        net = mlp(spec["sizes"], "sigmoid", "quadratic", init="normal", rng=0)
    else:
        net = mlp(spec["sizes"], "relu", "ce", init="he", rng=0)
    rng = np.random.default_rng(0)
    return time_epochs(lambda: fit(net, x, y, epochs=1, batch_size=spec["batch_size"],
                                   lr=spec["lr"], rng=rng), reps)


def tutorial_epochs(case, x, y, reps):
    from benchmarks.tutorial_network import Network, training_data

    if case != "seed":
        return None
    spec = CASES[case]
    rng = np.random.default_rng(0)
    net = Network(spec["sizes"], rng)
    data = training_data(x, y)
    return time_epochs(lambda: net.SGD(data, 1, spec["batch_size"], spec["lr"], rng), reps)


def products_epochs(case, x, y, reps):
    """Only the two matrix products that every step of the tutorials' network must make,
    as NumPy calls on one BLAS thread, mini-batch after mini-batch: the forward product
    of the first layer (10x784 by 784x30) and its weight gradient (30x10 by 10x784).
    Nothing else (no activations, no update, no shuffle): a lower bound on the time
    per epoch of any implementation that multiplies matrices with NumPy at every step."""
    from threadpoolctl import threadpool_limits

    if case != "seed":
        return None
    m, hidden = CASES[case]["batch_size"], CASES[case]["sizes"][1]
    weights = np.random.default_rng(0).standard_normal((hidden, x.shape[1])).astype(np.float32)
    z = np.empty((m, hidden), np.float32)
    gradient = np.empty_like(weights)

    def epoch():
        for k in range(0, len(x) - m + 1, m):
            batch = x[k:k + m]
            np.matmul(batch, weights.T, out=z)
            np.matmul(z.T, batch, out=gradient)

    with threadpool_limits(1, user_api="blas"):
        return time_epochs(epoch, reps)


def torch_model(case):
    import torch
    from torch import nn

    torch.manual_seed(0)
    sizes = CASES[case]["sizes"] if case in CASES else [784, 128, 64, 10]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layer = nn.Linear(fan_in, fan_out)
        if case == "seed":
            nn.init.normal_(layer.weight)
            nn.init.normal_(layer.bias)
        else:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        layers += [layer, nn.Sigmoid() if case == "seed" else nn.ReLU()]
    if case != "seed":
        layers.pop()  # logits; softmax is inside the cross-entropy
    return nn.Sequential(*layers)


def torch_epochs(case, x, y, reps):
    import torch

    spec = CASES[case]
    model = torch_model(case)
    optimizer = torch.optim.SGD(model.parameters(), lr=spec["lr"])
    X = torch.from_numpy(x)
    labels = torch.from_numpy(y)
    Y = torch.nn.functional.one_hot(labels, 10).float()
    cross_entropy = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    m = spec["batch_size"]

    def epoch():
        order = torch.randperm(len(X), generator=generator)
        for k in range(0, len(X), m):
            idx = order[k:k + m]
            out = model(X[idx])
            if case == "seed":
                loss = ((out - Y[idx]) ** 2).sum() / (2 * len(idx))
            else:
                loss = cross_entropy(out, labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return time_epochs(epoch, reps)


def sklearn_epochs(case, x, y, reps):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    if case == "seed":
        return None  # MLPClassifier has no quadratic cost on sigmoid outputs
    spec = CASES[case]
    model = MLPClassifier(hidden_layer_sizes=(128, 64), activation="relu", solver="sgd",
                          learning_rate_init=spec["lr"], momentum=0.0, nesterovs_momentum=False,
                          alpha=0.0, batch_size=spec["batch_size"], max_iter=1, shuffle=True,
                          random_state=0, tol=0.0)

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)

    return time_epochs(epoch, reps)


def inference(impl, x, reps, singles=1000):
    """Seconds for the whole test set in one batch, and per image one at a time."""
    if impl == "digitnet":
        from digitnet import mlp

        net = mlp([784, 128, 64, 10], "relu", "ce", init="he", rng=0)
        def batch():
            return net.predict_proba(x)
        def one(i):
            return net.predict_proba(x[i:i + 1])
    elif impl == "torch":
        import torch

        model = torch_model("relu128").eval()
        X = torch.from_numpy(x)
        def batch():
            with torch.no_grad():
                return torch.softmax(model(X), 1)
        def one(i):
            with torch.no_grad():
                return torch.softmax(model(X[i:i + 1]), 1)
    elif impl == "sklearn":
        import warnings

        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(hidden_layer_sizes=(128, 64), max_iter=1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x[:1000], np.arange(1000) % 10)  # untrained weights time the same
        def batch():
            return model.predict_proba(x)
        def one(i):
            return model.predict_proba(x[i:i + 1])
    else:
        return None
    batch_times = time_epochs(batch, reps * 5)
    for i in range(20):
        one(i)
    start = time.perf_counter()
    for i in range(singles):
        one(i)
    per_image = (time.perf_counter() - start) / singles
    return {"batch": batch_times, "per_image": per_image}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("impl")
    parser.add_argument("case")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--train", type=int, default=50_000)
    args = parser.parse_args()
    result = {"impl": args.impl, "case": args.case}
    if args.case == "infer":
        _, _, test_x, _ = load(10)
        result["inference"] = inference(args.impl, test_x, args.reps)
    elif args.case == "memory":
        x, y, _, _ = load(args.train)
        {"digitnet": digitnet_epochs, "torch": torch_epochs}[args.impl]("seed", x, y, 0)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    else:
        x, y, _, _ = load(args.train)
        run = {"tutorial": tutorial_epochs, "digitnet": digitnet_epochs,
               "torch": torch_epochs, "sklearn": sklearn_epochs,
               "products": products_epochs}[args.impl]
        times = run(args.case, x, y, args.reps)
        if times is not None:
            scale = 50_000 / len(x)
            result["seconds"] = [t * scale for t in times]
            result["median"] = statistics.median(result["seconds"])
            result["extrapolated"] = scale != 1
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
