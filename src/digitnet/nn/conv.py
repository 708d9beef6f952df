"""Convolutional layers on NCHW batches: (n_samples, channels, height, width).

Convolution is written as one matrix product (im2col): every k x k patch of the
input becomes a row, so that z = patches @ W^T + b, and backpropagation through it
is the same three products as for ``Linear`` (BP2-BP4), with the gradient of the
patches added back onto the image they came from (col2im). The only Python loops
run over the k * k kernel offsets, never over images or pixels.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .layers import Layer, register


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

    cache = ("cols",)

    #: The standard deviations of ``nn.init`` for weights of shape (out, in, k, k), drawn
    #: here in that shape, biases zero (``nn.init`` draws (in, out) matrices).
    INIT_STD = {"he": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
                "xavier": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),
                "normal": lambda fan_in, fan_out: 1.0}

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he",
                 rng=None, dtype=np.float32):
        super().__init__()
        if min(in_channels, out_channels, kernel_size, stride) < 1 or padding < 0:
            raise ValueError("invalid Conv2D settings: "
                             f"{in_channels}->{out_channels}, k={kernel_size}, s={stride}, p={padding}")
        if init not in self.INIT_STD:
            raise ValueError(f"unknown initialisation {init!r}; choose from {', '.join(self.INIT_STD)}")
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        self.init = init
        fan_in = in_channels * kernel_size * kernel_size
        fan_out = out_channels * kernel_size * kernel_size
        std = self.INIT_STD[init](fan_in, fan_out)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        weight = (rng.standard_normal(shape) * std).astype(dtype)
        bias = np.zeros(out_channels, dtype=dtype)
        self.params = {"weight": weight, "bias": bias}
        self.grads = {"weight": np.zeros_like(weight), "bias": np.zeros_like(bias)}

    def output_shape(self, input_shape):
        _, h, w = input_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        if min(h, w) + 2 * p < k:
            raise ValueError(f"a {k}x{k} kernel does not fit a {h}x{w} input padded by {p}")
        return (self.out_channels, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)

    def forward(self, x):
        # Work in channels-last memory (NHWC): each patch row is then k * k runs of c
        # contiguous values, the copy into rows is cheap, and what is returned is an
        # NCHW view of the product's memory.
        k, s, p = self.kernel_size, self.stride, self.padding
        n, c, h, w = x.shape
        self.output_shape((c, h, w))  # the kernel fits
        xh = pad_nhwc(x, p)
        self.padded_shape = xh.shape
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        self.cols = patch_rows(xh, k, s, [(0, 0)], ho, wo)
        weights = self.fixed_weights if self.fixed_weights is not None else self._weight_matrix()
        z = self.cols @ weights.T
        z += self.params["bias"]
        return z.reshape(n, ho, wo, self.out_channels).transpose(0, 3, 1, 2)

    #: ``_weight_matrix()`` made once, for a copy that only infers (``nn.network.for_inference``)
    fixed_weights = None

    def _weight_matrix(self):
        """The weight (out, in, kh, kw) as rows (out, kh * kw * in), in patch-row order."""
        return self.params["weight"].transpose(0, 2, 3, 1).reshape(self.out_channels, -1)

    def backward(self, delta, input_grad=True):
        """BP2-BP4 for the patch rows; the input gradient is each kernel tap's product
        added back where that tap looked (skipped with ``input_grad=False``)."""
        dh = np.ascontiguousarray(delta.transpose(0, 2, 3, 1))
        n, ho, wo, _ = dh.shape
        d = dh.reshape(n * ho * wo, self.out_channels)
        self.fill_grads(d, self.cols)                                                        # BP3, BP4
        if not input_grad:
            return None
        return input_gradient(dh, self.params["weight"], self.padded_shape, self.stride,  # BP2
                              self.padding).transpose(0, 3, 1, 2)

    def fill_grads(self, d, cols):
        """dC/dW = d^T cols (BP4) and dC/db = 1^T d (BP3; a product with a ones vector
        is several times faster than ``sum(axis=0)`` over a tall matrix)."""
        k, c = self.kernel_size, self.in_channels
        dw = (d.T @ cols).reshape(self.out_channels, k, k, c)
        self.grads["weight"][...] = dw.transpose(0, 3, 1, 2)
        np.matmul(np.ones(len(d), d.dtype), d, out=self.grads["bias"])

    def config(self):
        return {"type": "Conv2D", "in_channels": self.in_channels,
                "out_channels": self.out_channels, "kernel_size": self.kernel_size,
                "stride": self.stride, "padding": self.padding, "init": self.init}


def _patches(xh, k, s):
    """The k x k patches of the NHWC images ``xh`` at stride ``s``, as a read-only view
    (n, ho, wo, k, k, c): patch (i, j) starts at row i * s, column j * s. What
    ``sliding_window_view(xh, (k, k), axis=(1, 2))[:, ::s, ::s]`` gives (with the
    channels last), without its generality, which cost more than the copy for a
    batch of a few images."""
    n, h, w, c = xh.shape
    sn, sh, sw, sc = xh.strides
    shape = (n, (h - k) // s + 1, (w - k) // s + 1, k, k, c)
    return as_strided(xh, shape, (sn, sh * s, sw * s, sh, sw, sc), writeable=False)


def pad_nhwc(x, p):
    """The NCHW batch ``x`` in channels-last memory, zero-padded by ``p`` on each side
    (copied once into the middle of a zeroed buffer: the same as np.pad, whose
    generality costs more than the copy for small batches)."""
    n, c, h, w = x.shape
    xh = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=x.dtype)
    xh[:, p:p + h, p:p + w, :] = x.transpose(0, 2, 3, 1)
    return xh


def patch_rows(xh, k, s, starts, ho, wo, buffer=None):
    """Patch rows (len(starts) * n * ho * wo, k * k * c) of the padded NHWC images
    ``xh``: for each (row, column) offset in ``starts`` (in order), the ho x wo patches
    at stride ``s`` from there. One offset (0, 0) gives the rows of a plain convolution;
    ``nn.fused`` asks for one block of rows per position in a pooling window, and
    passes a ``buffer`` (flat, of at least the rows' size) to write them into.

    With one channel a patch row holds runs of only k values in the image, so the
    matrix is built transposed instead, one tap at a time, and returned as its
    (Fortran-ordered) transpose: matrix products read either order at full speed."""
    n, _, _, c = xh.shape
    q = len(starts)
    size = q * n * ho * wo * k * k * c
    memory = np.empty(size, xh.dtype) if buffer is None else buffer[:size]
    if c == 1:
        cols = memory.reshape(k * k, q, n, ho, wo)
        img = xh[..., 0]
        for b, (r0, c0) in enumerate(starts):
            for i in range(k):
                for j in range(k):
                    r, cc = r0 + i, c0 + j
                    cols[i * k + j, b] = img[:, r:r + s * (ho - 1) + 1:s, cc:cc + s * (wo - 1) + 1:s]
        return cols.reshape(k * k, -1).T
    cols = memory.reshape(q, n, ho, wo, k, k, c)
    for b, (r0, c0) in enumerate(starts):
        cols[b] = _patches(xh[:, r0:, c0:], k, s)[:, :ho, :wo]
    return cols.reshape(q * n * ho * wo, k * k * c)


def input_gradient(dh, weight, padded_shape, s, p):
    """BP2 of a convolution in NHWC memory: dC/dx for the output gradient ``dh`` (n, ho,
    wo, out) and ``weight`` (out, in, k, k). Each kernel tap (i, j) is one product of
    the gradient rows with that tap's (out, in) weights, added to the input positions
    the tap looked at: nine products into contiguous blocks, where one product
    followed by a col2im adds back runs of only ``in`` values at a time."""
    n, ho, wo, co = dh.shape
    k = weight.shape[2]
    d = dh.reshape(-1, co)
    taps = np.ascontiguousarray(weight.transpose(2, 3, 0, 1))  # (k, k, out, in)
    tap = np.empty((len(d), taps.shape[-1]), dh.dtype)  # one block, reused by every tap
    dx = np.zeros(padded_shape, dtype=dh.dtype)
    for i in range(k):
        for j in range(k):
            np.matmul(d, taps[i, j], out=tap)
            dx[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s, :] += tap.reshape(n, ho, wo, -1)
    return dx[:, p:dx.shape[1] - p, p:dx.shape[2] - p, :]


@register
class MaxPool2D(Layer):
    """Maximum over non-overlapping ``size`` x ``size`` windows (stride = size; rows
    and columns left over at the bottom and right are dropped, as in PyTorch).

    The gradient flows to the maximum of each window, and where several values tie
    for it, to the first of them in row order (PyTorch's choice too)."""

    cache = ("x", "max")

    def __init__(self, size=2):
        super().__init__()
        if int(size) < 1:
            raise ValueError(f"invalid pooling size: {size}")
        self.size = int(size)

    def output_shape(self, input_shape):
        c, h, w = input_shape
        if min(h, w) < self.size:
            raise ValueError(f"a {self.size}x{self.size} pooling window does not fit a {h}x{w} input")
        return (c, h // self.size, w // self.size)

    def forward(self, x):
        self.input_shape_ = x.shape
        xh = x.transpose(0, 2, 3, 1)  # channels-last, usually already contiguous
        n, h, w, c = xh.shape
        k = self.size
        _, ho, wo = self.output_shape((c, h, w))
        self.x = xh
        # the maximum of the k * k strided views, one per position in the window
        self.max = np.array(xh[:, 0:ho * k:k, 0:wo * k:k])
        for i, j in self._offsets()[1:]:
            np.maximum(self.max, xh[:, i:ho * k:k, j:wo * k:k], out=self.max)
        return self.max.transpose(0, 3, 1, 2)

    def _offsets(self):
        return [(i, j) for i in range(self.size) for j in range(self.size)]

    def backward(self, grad):
        n, c, h, w = self.input_shape_
        k = self.size
        ho, wo = self.max.shape[1], self.max.shape[2]
        covered = h == ho * k and w == wo * k  # no rows or columns left over
        dx = (np.empty if covered else np.zeros)((n, h, w, c), dtype=grad.dtype)
        offsets = self._offsets()
        windows = [dx[:, i:ho * k:k, j:wo * k:k] for i, j in offsets]
        rest = np.array(grad.transpose(0, 2, 3, 1))  # what is not yet handed to a position
        for (i, j), out in zip(offsets[:-1], windows):
            np.multiply(rest, self.x[:, i:ho * k:k, j:wo * k:k] == self.max, out=out)
            rest -= out  # zero where this position took it
        windows[-1][...] = rest  # the last position is the maximum wherever none before was
        return dx.transpose(0, 3, 1, 2)

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


@register
class Columns(Layer):
    """Images -> one row per column: (n, c, h, w) -> (n * w, c * h), image by image and
    left to right, so that the layers after it (``Linear``) score every column of every
    image alike: a per-column classifier, for sequences read along the width (CTC,
    ``nn.ctc``). The width may differ from batch to batch."""

    def forward(self, x):
        self.input_shape_ = x.shape
        n, c, h, w = x.shape
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).reshape(n * w, c * h)

    def backward(self, grad):
        n, c, h, w = self.input_shape_
        return grad.reshape(n, w, c, h).transpose(0, 2, 3, 1)

    def output_shape(self, input_shape):
        c, h, _ = input_shape
        return (c * h,)
