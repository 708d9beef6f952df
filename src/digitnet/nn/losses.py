"""Costs. Each owns the output layer's activation, so it receives the output
layer's weighted input z^L and returns both the cost and delta^L = dC/dz^L (BP1).

All costs are the mean over the m examples of a mini-batch, so the deltas carry a
factor 1/m: summing them over the batch (BP3, BP4) gives the averaged gradient of
the tutorials' update rule w -> w - (eta/m) sum_x dC_x/dw.
"""


import numpy as np

from . import functional as F


class Loss:
    #: name of the output activation, for model files and descriptions
    activation = "identity"

    def output(self, z):
        """The network's output a^L for weighted input z^L."""
        raise NotImplementedError

    def __call__(self, z, y):
        """Return (cost, delta^L) for a batch of output weighted inputs and targets."""
        raise NotImplementedError

    def config(self):
        return {"type": type(self).__name__}


class QuadraticCost(Loss):
    """C = 1/2 ||y - a||^2 with a = sigma(z^L) for an element-wise activation sigma.

    BP1 in full: delta^L = (a - y) (.) sigma'(z^L).
    """

    _derivatives = {
        "sigmoid": (F.sigmoid, F.sigmoid_prime_from_a),
        "tanh": (F.tanh, F.tanh_prime_from_a),
        "identity": (F.identity, None),
    }

    def __init__(self, activation="sigmoid"):
        if activation not in self._derivatives:
            raise ValueError(f"quadratic cost needs an element-wise output activation "
                             f"({', '.join(self._derivatives)}), not {activation!r}")
        self.activation = activation
        self._f, self._prime = self._derivatives[activation]

    def output(self, z):
        return self._f(z)

    def __call__(self, z, y):
        a = self._f(z)
        delta = a - y
        cost = 0.5 * float(np.einsum("ij,ij->", delta, delta)) / len(z)  # F.quadratic_cost
        if self._prime is not None:
            delta *= self._prime(a)
        delta *= 1.0 / len(z)
        return cost, delta

    def config(self):
        return {"type": "QuadraticCost", "activation": self.activation}


class BinaryCrossEntropy(Loss):
    """Sigmoid outputs with C = -sum_k [y_k ln a_k + (1 - y_k) ln(1 - a_k)].

    The sigma'(z) of BP1 cancels against the cost's derivative: delta^L = a - y.
    """

    activation = "sigmoid"

    def output(self, z):
        return F.sigmoid(z)

    def __call__(self, z, y):
        delta = F.sigmoid(z)
        delta -= y
        delta /= len(z)
        return F.binary_cross_entropy_with_logits(z, y), delta


class SoftmaxCrossEntropy(Loss):
    """Softmax outputs with the categorical cross-entropy C = -sum_k y_k ln a_k.

    Fused: the cost comes from log-sum-exp of z, and BP1 becomes
    delta^L = a sum_k y_k - y, which is the familiar a - y when each target row sums
    to 1 (one-hot or smoothed labels) and stays right for any other targets.
    """

    activation = "softmax"

    def output(self, z):
        return F.softmax(z)

    def __call__(self, z, y):
        # One exp for both: with s = z - max(z) and a = exp(s) / sum(exp(s)),
        # ln a_k = s_k - ln sum_j exp(s_j), so C = (1/m) sum_x [sum_k y_k] ln sum_j exp(s_j)
        # - (1/m) sum_x sum_k y_k s_k (F.softmax_cross_entropy, without a second exp).
        shifted = z - z.max(axis=1, keepdims=True)
        delta = np.exp(shifted)
        total = delta.sum(axis=1, keepdims=True)
        y_sum = y.sum(axis=1, keepdims=True)
        cost = (float(np.log(total).ravel() @ y_sum.ravel())
                - float(np.einsum("ij,ij->", y, shifted))) / len(z)
        delta /= total  # softmax(z)
        delta *= y_sum  # dC/dz_k = a_k sum_j y_j - y_k; a no-op (bitwise) for rows summing to 1
        delta -= y
        delta *= 1.0 / len(z)
        return cost, delta


LOSSES: dict[str, type[Loss]] = {"quadratic": QuadraticCost, "bce": BinaryCrossEntropy,
                                  "ce": SoftmaxCrossEntropy}
_BY_CLASS = {cls.__name__: cls for cls in LOSSES.values()}


def get(name, activation=None):
    """A loss by its short name: "quadratic" (with ``activation``), "bce" or "ce"."""
    if name not in LOSSES:
        raise ValueError(f"unknown cost {name!r}; choose from {', '.join(LOSSES)}")
    if name == "quadratic":
        return QuadraticCost(activation or "sigmoid")
    expected = LOSSES[name].activation
    if activation not in (None, expected):
        raise ValueError(f"cost {name!r} goes with a {expected} output, not {activation}")
    return LOSSES[name]()


def from_config(cfg):
    cfg = dict(cfg)
    try:
        cls = _BY_CLASS[cfg.pop("type")]
    except KeyError:
        raise ValueError(f"unknown cost in {cfg!r}") from None
    return cls(**cfg)
