"""Weight initialisations. Each returns (weight, bias) for a layer with
``fan_in`` inputs and ``fan_out`` outputs, weight of shape (fan_in, fan_out)."""

import numpy as np


def normal(fan_in, fan_out, rng, dtype=np.float32):
    """N(0, 1) for weights and biases, as in the tutorials (np.random.randn)."""
    weight = rng.standard_normal((fan_in, fan_out)).astype(dtype)
    bias = rng.standard_normal(fan_out).astype(dtype)
    return weight, bias


def xavier(fan_in, fan_out, rng, dtype=np.float32):
    """Glorot & Bengio (2010): N(0, 2 / (fan_in + fan_out)), zero biases.
    Suits sigmoid, tanh and softmax layers."""
    std = np.sqrt(2.0 / (fan_in + fan_out))
    weight = (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)
    return weight, np.zeros(fan_out, dtype=dtype)


def he(fan_in, fan_out, rng, dtype=np.float32):
    """He et al. (2015): N(0, 2 / fan_in), zero biases. Suits ReLU layers."""
    std = np.sqrt(2.0 / fan_in)
    weight = (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)
    return weight, np.zeros(fan_out, dtype=dtype)


INITS = {"normal": normal, "xavier": xavier, "he": he}


def get(name):
    try:
        return INITS[name]
    except KeyError:
        raise ValueError(f"unknown initialisation {name!r}; choose from {', '.join(INITS)}") from None
