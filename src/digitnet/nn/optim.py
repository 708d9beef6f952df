"""Optimizers: each holds (parameter, gradient) pairs and applies one update rule."""

import numpy as np


class SGD:
    """Stochastic gradient descent: w -> w - eta dC/dw (the tutorials' equations 20, 21).

    Parameters
    ----------
    parameters : list of (param, grad) array pairs, e.g. ``network.parameters()``
    lr : float
        The learning rate eta.
    """

    def __init__(self, parameters, lr):
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"invalid learning rate: {lr}")
        self.parameters = list(parameters)
        self.lr = float(lr)

    def step(self):
        for param, grad in self.parameters:
            param -= self.lr * grad

    def state(self):
        """Arrays that must be saved to resume training exactly."""
        return {}

    def load_state(self, state):
        pass
