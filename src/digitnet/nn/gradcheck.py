"""Finite-difference gradient checks (use float64 networks)."""

import numpy as np


def numerical_gradient(f, param, eps=1e-6):
    """Central differences (f(p + eps) - f(p - eps)) / (2 eps) for every entry of
    ``param``, which f reads in place."""
    grad = np.zeros_like(param)
    flat, gflat = param.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """max |a - b| / max(|a| + |b|), 0 when both are zero."""
    scale = np.max(np.abs(a) + np.abs(b))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


def check_network(network, x, y, eps=1e-6, training=True):
    """Compare backpropagated and numerical gradients of every parameter, and of the
    input, in training mode (or evaluation mode: ``training=False``). Returns the
    largest relative error."""
    if network.dtype != np.float64:
        raise ValueError("gradient checks need a float64 network")
    network.train(training)

    def cost():
        return network.loss(network.forward(x), y)[0]

    network.loss_and_gradients(x, y)
    analytic = [g.copy() for _, g in network.parameters()]
    numerical = [numerical_gradient(cost, param, eps) for param, _ in network.parameters()]
    # relative to the largest gradient of the whole network: a parameter whose true
    # gradient is 0 (a bias before batch normalisation) is then no false alarm
    worst = relative_error(np.concatenate([g.ravel() for g in analytic] or [np.zeros(1)]),
                           np.concatenate([g.ravel() for g in numerical] or [np.zeros(1)]))
    z = network.forward(x)
    _, delta = network.loss(z, y)
    dx = network.backward(delta)
    worst = max(worst, relative_error(dx, numerical_gradient(cost, x, eps)))
    return worst
