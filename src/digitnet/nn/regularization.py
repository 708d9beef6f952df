"""Regularisation layers: active in training mode only (``layer.training``)."""

import numpy as np

from .layers import Layer, register


@register
class Dropout(Layer):
    """Zero each unit with probability ``p`` while training, scaling the survivors by
    1 / (1 - p) so that nothing changes at inference ("inverted" dropout)."""

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
