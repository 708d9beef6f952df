"""Regularisation layers, which act differently in training and evaluation mode
(``layer.training``): dropout only drops while training; batch normalisation uses the
batch's statistics while training and its running averages afterwards."""

import numpy as np

from .layers import Layer, register


@register
class Dropout(Layer):
    """Zero each unit with probability ``p`` while training, scaling the survivors by
    1 / (1 - p) so that nothing changes at inference ("inverted" dropout)."""

    cache = ("mask",)

    def __init__(self, p=0.5, rng=None, dtype=np.float32):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"invalid dropout probability: {p}")
        self.p = float(p)
        self.rng = np.random.default_rng() if rng is None else rng
        self.mask = None

    def forward(self, x):
        if not self.training or self.p == 0:
            self.mask = None
            return x
        self.mask = (self.rng.random(x.shape, dtype=np.float32) >= self.p).astype(x.dtype)
        self.mask *= 1.0 / (1.0 - self.p)
        return x * self.mask

    def backward(self, grad):
        return grad if self.mask is None else grad * self.mask

    def config(self):
        return {"type": "Dropout", "p": self.p}


@register
class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy, 2015) over the batch, per feature (inputs
    (n, features)) or per channel (inputs (n, channels, h, w)).

    Training mode normalises with the batch's mean and variance and updates running
    averages; evaluation mode uses the running averages (kept as buffers, so they are
    saved in model files). Each batch moves them by ``momentum`` towards its own
    statistics (running = (1 - momentum) running + momentum batch, the variance with
    Bessel's correction), as PyTorch does.
    """

    cache = ("x", "x_hat")

    def __init__(self, features, momentum=0.1, eps=1e-5, rng=None, dtype=np.float32):
        super().__init__()
        if int(features) < 1 or not eps > 0 or not 0 <= momentum <= 1:
            raise ValueError(f"invalid BatchNorm settings: features={features}, "
                             f"momentum={momentum}, eps={eps}")
        self.features, self.momentum, self.eps = int(features), float(momentum), float(eps)
        self.params = {"weight": np.ones(self.features, dtype), "bias": np.zeros(self.features, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(self.features, dtype)
        self.running_var = np.ones(self.features, dtype)

    def _axes(self, x):
        return (0,) if x.ndim == 2 else (0, 2, 3)

    def _shape(self, x):
        return (1, -1) if x.ndim == 2 else (1, -1, 1, 1)

    def forward(self, x):
        axes, shape = self._axes(x), self._shape(x)
        if self.training:
            m = x.size // self.features
            if m < 2:
                raise ValueError("batch normalisation needs more than one value per feature "
                                 "to train (a mini-batch of one example, without channels)")
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * mean
            self.running_var *= 1 - self.momentum
            self.running_var += self.momentum * var * m / (m - 1)
        else:
            # evaluation: one affine map per feature, x * scale + shift (two passes over
            # x instead of four; x_hat is only computed if a backward pass asks for it)
            self.inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            scale = self.params["weight"] * self.inv_std
            shift = self.params["bias"] - self.running_mean * scale
            self.x, self.x_hat = x, None
            out = x * scale.reshape(shape)
            out += shift.reshape(shape)
            return out
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = (x - mean.reshape(shape)) * self.inv_std.reshape(shape)
        return self.x_hat * self.params["weight"].reshape(shape) + self.params["bias"].reshape(shape)

    def backward(self, grad):
        axes, shape = self._axes(grad), self._shape(grad)
        if self.x_hat is None:  # after an evaluation-mode forward
            self.x_hat = (self.x - self.running_mean.reshape(shape)) * self.inv_std.reshape(shape)
        self.grads["weight"][...] = (grad * self.x_hat).sum(axis=axes)
        self.grads["bias"][...] = grad.sum(axis=axes)
        g = grad * self.params["weight"].reshape(shape)
        if not self.training:
            return g * self.inv_std.reshape(shape)
        # d x_hat -> d x through the batch statistics
        return (g - g.mean(axis=axes, keepdims=True)
                - self.x_hat * (g * self.x_hat).mean(axis=axes, keepdims=True)) * self.inv_std.reshape(shape)

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def config(self):
        return {"type": "BatchNorm", "features": self.features, "momentum": self.momentum,
                "eps": self.eps}
