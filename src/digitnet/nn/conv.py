"""Convolutional layers on NCHW batches: (n_samples, channels, height, width).

Convolution is written as one matrix product (im2col): every k x k patch of the
input becomes a row, so that z = patches @ W^T + b, and backpropagation through it
is the same three products as for ``Linear`` (BP2-BP4), with the gradient of the
patches added back onto the image they came from (col2im). The only Python loops
run over the k * k kernel offsets, never over images or pixels.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .layers import Layer, register


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


@register
class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in PyTorch): weight (out, in, kh, kw).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
    stride, padding : int
    init : {"he", "xavier", "normal"}
    rng : numpy.random.Generator
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he",
                 rng=None, dtype=np.float32):
        super().__init__()
        if min(in_channels, out_channels, kernel_size, stride) < 1 or padding < 0:
            raise ValueError("invalid Conv2D settings: "
                             f"{in_channels}->{out_channels}, k={kernel_size}, s={stride}, p={padding}")
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        self.init = init
        fan_in = in_channels * kernel_size * kernel_size
        fan_out = out_channels * kernel_size * kernel_size
        std = {"he": np.sqrt(2.0 / fan_in), "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
               "normal": 1.0}[init]
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        weight = (rng.standard_normal(shape) * std).astype(dtype)
        bias = np.zeros(out_channels, dtype=dtype)
        self.params = {"weight": weight, "bias": bias}
        self.grads = {"weight": np.zeros_like(weight), "bias": np.zeros_like(bias)}

    def output_shape(self, input_shape):
        _, h, w = input_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        return (self.out_channels, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)

    def forward(self, x):
        n, c, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.padded_shape = x.shape
        # (n, c, ho, wo, k, k) view -> rows of patches (n * ho * wo, c * k * k), one copy
        windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
        ho, wo = windows.shape[2], windows.shape[3]
        self.cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
        z = self.cols @ self.params["weight"].reshape(self.out_channels, -1).T
        z += self.params["bias"]
        self.out_hw = (ho, wo)
        return z.reshape(n, ho, wo, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, delta):
        n = delta.shape[0]
        ho, wo = self.out_hw
        k, s, p = self.kernel_size, self.stride, self.padding
        c = self.in_channels
        d = delta.transpose(0, 2, 3, 1).reshape(n * ho * wo, self.out_channels)
        np.matmul(d.T, self.cols, out=self.grads["weight"].reshape(self.out_channels, -1))  # BP4
        np.sum(d, axis=0, out=self.grads["bias"])                                             # BP3
        dcols = (d @ self.params["weight"].reshape(self.out_channels, -1))                   # BP2
        dcols = dcols.reshape(n, ho, wo, c, k, k)
        dx = np.zeros(self.padded_shape, dtype=delta.dtype)
        for i in range(k):
            for j in range(k):
                dx[:, :, i:i + s * ho:s, j:j + s * wo:s] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        if p:
            dx = dx[:, :, p:-p, p:-p]
        return dx

    def config(self):
        return {"type": "Conv2D", "in_channels": self.in_channels,
                "out_channels": self.out_channels, "kernel_size": self.kernel_size,
                "stride": self.stride, "padding": self.padding, "init": self.init}


@register
class MaxPool2D(Layer):
    """Maximum over non-overlapping ``size`` x ``size`` windows (stride = size).
    The gradient flows to the (first) maximum of each window."""

    def __init__(self, size=2):
        super().__init__()
        self.size = int(size)

    def output_shape(self, input_shape):
        c, h, w = input_shape
        return (c, h // self.size, w // self.size)

    def forward(self, x):
        n, c, h, w = x.shape
        k = self.size
        ho, wo = h // k, w // k
        self.input_shape_ = x.shape
        x = x[:, :, :ho * k, :wo * k]
        windows = x.reshape(n, c, ho, k, wo, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, k * k)
        self.argmax = windows.argmax(axis=-1)
        return np.take_along_axis(windows, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, grad):
        n, c, h, w = self.input_shape_
        k = self.size
        ho, wo = grad.shape[2], grad.shape[3]
        windows = np.zeros((n, c, ho, wo, k * k), dtype=grad.dtype)
        np.put_along_axis(windows, self.argmax[..., None], grad[..., None], axis=-1)
        dx = windows.reshape(n, c, ho, wo, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * k, wo * k)
        if (ho * k, wo * k) != (h, w):
            dx = np.pad(dx, ((0, 0), (0, 0), (0, h - ho * k), (0, w - wo * k)))
        return dx

    def config(self):
        return {"type": "MaxPool2D", "size": self.size}


@register
class Flatten(Layer):
    """(n, c, h, w) -> (n, c * h * w)."""

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad):
        return grad.reshape(self.shape)

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


@register
class Reshape(Layer):
    """Rows of pixels -> images: (n, 784) -> (n, 1, 28, 28) for ``shape=(1, 28, 28)``."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x):
        self.input_shape_ = x.shape
        return x.reshape((len(x),) + self.shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape_)

    def output_shape(self, input_shape):
        return self.shape

    def config(self):
        return {"type": "Reshape", "shape": list(self.shape)}
