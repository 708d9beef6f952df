"""Pure NumPy math: activations, their derivatives, and costs.

Every function works on whole mini-batches: arrays of shape ``(n_samples, n_units)``.
Forward and derivative sit side by side. Derivatives are written in terms of the
activation ``a`` where that is cheaper than recomputing from ``z``.
"""

import numpy as np

# --- activations ---------------------------------------------------------------


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), the tutorials' formula to the last bit.

    For very negative z (below -709 in float64, -88 in float32) exp(-z) overflows to
    inf and 1 / (1 + inf) is exactly 0, the right limit, so that overflow is silenced
    (only then: entering np.errstate costs more than the rest of this function).
    Scalars and integers, as in the tutorials' ``sigmoid(z)``, give floats."""
    if not (isinstance(z, np.ndarray) and z.ndim and z.dtype.kind == "f"):
        z = np.asarray(z)
        if z.dtype.kind != "f":
            z = z.astype(np.float64)
        return sigmoid(z.reshape(-1)).reshape(z.shape)[()]  # a scalar back for a scalar
    a = np.negative(z)
    if a.size and np.maximum.reduce(a, axis=None) > 80.0:
        with np.errstate(over="ignore"):
            np.exp(a, out=a)
    else:
        np.exp(a, out=a)
    a += 1.0
    return np.reciprocal(a, out=a)


def sigmoid_prime_from_a(a):
    """sigma'(z) = sigma(z) * (1 - sigma(z)), given a = sigma(z)."""
    return a * (1.0 - a)


def tanh(z):
    return np.tanh(z)


def tanh_prime_from_a(a):
    """tanh'(z) = 1 - tanh(z)**2, given a = tanh(z)."""
    return 1.0 - a * a


def relu(z):
    return np.maximum(z, 0)


def relu_prime(z):
    """1 where z > 0, else 0 (the conventional choice at z = 0)."""
    return (z > 0).astype(z.dtype)


def identity(z):
    return z


def log_softmax(z):
    """log(softmax(z)) along the last axis, by the log-sum-exp trick."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z):
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) along the last axis, shifted by
    max(z) first so that exp never overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward(a, grad):
    """Vector-Jacobian product of softmax: given a = softmax(z) and dC/da, return
    dC/dz = a * (dC/da - sum_j dC/da_j a_j)."""
    return a * (grad - (grad * a).sum(axis=-1, keepdims=True))


def softplus(z):
    """log(1 + exp(z)) without overflow."""
    return np.logaddexp(0, z)


# --- costs (mean over the mini-batch of the per-example cost) ------------------


def quadratic_cost(a, y):
    """C = (1/m) sum_x 1/2 ||y(x) - a||^2 (the tutorials' equation 6, per mini-batch)."""
    d = a - y
    return 0.5 * float(np.einsum("ij,ij->", d, d)) / len(a)


def binary_cross_entropy_with_logits(z, y):
    """C = -(1/m) sum [y ln a + (1 - y) ln(1 - a)] with a = sigma(z), computed from z
    as softplus(z) - y z so that it never takes log(0)."""
    return float((softplus(z) - y * z).sum()) / len(z)


def softmax_cross_entropy(z, y):
    """C = -(1/m) sum_x sum_k y_k ln softmax(z)_k, computed by log-sum-exp."""
    return -float((y * log_softmax(z)).sum()) / len(z)


def one_hot(labels, n_classes, dtype=np.float32):
    """Labels of shape (n,) -> one-hot rows of shape (n, n_classes)."""
    labels = np.asarray(labels)
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must be whole numbers from 0 to {n_classes - 1}")
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out
