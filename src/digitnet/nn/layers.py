"""Layers. ``forward(x)`` caches what the backward pass needs; ``backward(grad)``
takes dC/d(output) and returns dC/d(input), filling the layer's parameter gradients.

In the tutorials' notation (superscript l is the layer), a fully connected layer
followed by an activation computes

    z^l = w^l a^(l-1) + b^l,        a^l = sigma(z^l)

and backpropagation is four equations:

    (BP1)  delta^L = grad_a C (.) sigma'(z^L)                   output layer
    (BP2)  delta^l = ((w^(l+1))^T delta^(l+1)) (.) sigma'(z^l)   hidden layers
    (BP3)  dC/db^l = delta^l
    (BP4)  dC/dw^l = delta^l (a^(l-1))^T

Tutorial 2 writes the same with matrices of column examples: dZ^[L] = A^[L] - Y (BP1
for cross-entropy), dA^[l] = W^T dZ^[l+1] and dZ^[l] = dA^[l] (.) f'(Z^[l]) (BP2),
db = (1/m) sum dZ and dW = (1/m) dZ A^T (BP3, BP4); tutorial 4, one neuron per layer,
calls them dc_db, dc_dw and dc_da_prev.

Here the inputs are batches of rows, so ``Linear`` stores ``weight`` as the
transpose of the tutorials' w (shape ``(in_features, out_features)``) and computes
``z = x @ weight + bias`` for all examples at once; BP3 and BP4 sum over the batch.
The activation layers supply the "(.) sigma'(z)" half of BP1 and BP2.
"""

import inspect

import numpy as np

from . import functional as F
from . import init as initializers


class Layer:
    """Base class. Parameters and their gradients are parallel dicts of arrays."""

    #: The attributes ``forward`` keeps for ``backward`` (``forget`` lets them go).
    cache: tuple[str, ...] = ()

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True  # a new layer is for training; loading a model switches it off

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def forget(self):
        """Let go of what ``forward`` kept for ``backward``: after inference nothing will
        ask for it (an ensemble of five CNNs kept 400 MB of patch rows after reading one
        number)."""
        for name in self.cache:
            self.__dict__.pop(name, None)

    def parameters(self):
        """(parameter, gradient) pairs, updated in place by optimizers."""
        return [(self.params[k], self.grads[k]) for k in self.params]

    def buffers(self):
        """Arrays that are state but not trained (none for most layers)."""
        return {}

    def config(self):
        """JSON-serialisable description from which the layer can be rebuilt."""
        return {"type": type(self).__name__}

    def output_shape(self, input_shape):
        return input_shape

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Fully connected layer: z = x @ weight + bias.

    Parameters
    ----------
    in_features, out_features : int
    init : {"normal", "xavier", "he"}
    rng : numpy.random.Generator
    dtype : numpy dtype, float32 by default
    """

    cache = ("x",)

    def __init__(self, in_features, out_features, init="normal", rng=None, dtype=np.float32):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"invalid layer size: {in_features} -> {out_features}")
        rng = np.random.default_rng() if rng is None else rng
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        weight, bias = initializers.get(init)(self.in_features, self.out_features, rng, dtype)
        self.params = {"weight": weight, "bias": bias}
        self.grads = {"weight": np.zeros_like(weight), "bias": np.zeros_like(bias)}

    @property
    def weight(self):
        return self.params["weight"]

    @property
    def bias(self):
        return self.params["bias"]

    def forward(self, x):
        self.x = x
        z = x @ self.params["weight"]
        z += self.params["bias"]
        return z

    def backward(self, delta, input_grad=True):
        """Given delta = dC/dz for this layer, fill dC/dw (BP4) and dC/db (BP3)
        summed over the batch, and return w^T delta, the first half of BP2
        (skipped with ``input_grad=False``: nothing needs it below the first layer)."""
        np.matmul(self.x.T, delta, out=self.grads["weight"])
        np.add.reduce(delta, axis=0, out=self.grads["bias"])
        return delta @ self.params["weight"].T if input_grad else None

    def config(self):
        return {"type": "Linear", "in_features": self.in_features,
                "out_features": self.out_features, "init": self.init}

    def output_shape(self, input_shape):
        return (self.out_features,)


class Sigmoid(Layer):
    """a = sigma(z); backward multiplies by sigma'(z) = a (1 - a)."""

    cache = ("a",)

    def forward(self, z):
        self.a = F.sigmoid(z)
        return self.a

    def backward(self, grad):
        grad = grad * self.a  # grad (.) a (1 - a), in two temporaries
        grad -= grad * self.a
        return grad


class Tanh(Layer):
    """a = tanh(z); backward multiplies by 1 - a^2."""

    cache = ("a",)

    def forward(self, z):
        self.a = F.tanh(z)
        return self.a

    def backward(self, grad):
        grad = grad * F.tanh_prime_from_a(self.a)
        return grad


class ReLU(Layer):
    """a = max(z, 0); backward passes the gradient where z > 0.

    ``inplace=True`` overwrites z in the forward pass and the incoming gradient in the
    backward pass, which saves an allocation each: ``Network`` sets it where the layer
    before hands over a fresh array that nothing else reads (and inside a network
    every gradient handed back is one too)."""

    cache = ("a",)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, z):
        self.a = np.maximum(z, 0, out=z) if self.inplace else F.relu(z)
        return self.a

    def backward(self, grad):
        return np.multiply(grad, self.a > 0, out=grad if self.inplace else None)


class Softmax(Layer):
    """a = softmax(z) along the last axis; backward is the softmax Jacobian product.

    Prefer a final ``Linear`` with ``SoftmaxCrossEntropy``: the fused gradient
    a - y is cheaper and exact.
    """

    cache = ("a",)

    def forward(self, z):
        self.a = F.softmax(z)
        return self.a

    def backward(self, grad):
        return F.softmax_backward(self.a, grad)


class Identity(Layer):
    def forward(self, z):
        return z

    def backward(self, grad):
        return grad


ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "softmax": Softmax,
               "identity": Identity}

LAYERS: dict[str, type] = {cls.__name__: cls for cls in (Linear, Sigmoid, Tanh, ReLU, Softmax, Identity)}


def register(cls):
    """Make a layer class loadable from model files by its name."""
    LAYERS[cls.__name__] = cls
    return cls


def activation(name):
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}") from None


def from_config(cfg, rng=None, dtype=np.float32):
    """Rebuild a layer from ``Layer.config()``."""
    cfg = dict(cfg)
    kind = cfg.pop("type")
    try:
        cls = LAYERS[kind]
    except KeyError:
        raise ValueError(f"unknown layer type {kind!r}") from None
    if "rng" in inspect.signature(cls).parameters:
        return cls(rng=rng, dtype=dtype, **cfg)
    return cls(**cfg)
