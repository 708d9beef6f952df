"""Perceptrons: the step-function neurons the tutorials start from.

    output = 0 if w . x + b <= 0
             1 if w . x + b > 0          (the tutorials' equation 2)
"""

import numpy as np


def step(z):
    """The perceptron's activation: 1 where z > 0, else 0."""
    return (np.asarray(z) > 0).astype(np.int64)


class Perceptron:
    """A single perceptron with weights ``w`` and bias ``b``.

    Inputs are batch-first: ``x`` of shape (n_samples, n_inputs), or one example.
    """

    def __init__(self, weights, bias):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)

    def __call__(self, x):
        return step(np.asarray(x, dtype=np.float64) @ self.weights + self.bias)

    def fit(self, x, y, lr=1.0, max_epochs=100):
        """Rosenblatt's learning rule, w -> w + eta (y - output) x, b -> b + eta (y - output),
        one example at a time. Returns True if an epoch passed with no mistakes
        (which happens only for linearly separable data)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y)
        for _ in range(max_epochs):
            mistakes = 0
            for xi, yi in zip(x, y):
                error = yi - self(xi)
                if error:
                    self.weights += lr * error * xi
                    self.bias += lr * error
                    mistakes += 1
            if mistakes == 0:
                return True
        return False

    @classmethod
    def zeros(cls, n_inputs):
        return cls(np.zeros(n_inputs), 0.0)


#: The tutorials' NAND gate: two inputs, each with weight -2, and a bias of 3.
NAND = Perceptron([-2, -2], 3)


def nand(x1, x2):
    return int(NAND([x1, x2]))


def add_bits(x1, x2):
    """Add two bits with a circuit made only of NAND perceptrons.

    Returns (sum, carry): sum = x1 XOR x2, carry = x1 AND x2.
    """
    n1 = nand(x1, x2)
    total = nand(nand(x1, n1), nand(x2, n1))
    carry = nand(n1, n1)  # the tutorials' single connection of weight -4
    return total, carry
