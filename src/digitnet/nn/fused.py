"""Convolution [+ batch normalisation] + ReLU + max-pooling run as one stage.

``Network`` runs a ``ConvPoolStage`` in place of the layers ``Conv2D [BatchNorm] ReLU
MaxPool2D`` (or ``... MaxPool2D ReLU``, or without the ReLU) when they follow each
other. It computes what those layers compute, with their own parameters, and fills
their gradients; the layers themselves stay the readable reference
(tests/test_fused.py checks that both give the same outputs and gradients).

The patch rows are ordered by position in the pooling window. With a pool of s x s,
the convolution's output at row s*i + a, column s*j + b (pooled position (i, j),
window position (a, b)) comes from block q = a*s + b of the rows:

    P_q[(n, i, j)]  = the k x k x c input patch under that output        (NHWC memory)
    Z_q = P_q W^T                      W: (out, k*k*c), one product for all blocks
    M   = max_q Z_q                    element-wise over s*s contiguous (R, out) blocks
    A   = max(M + b, 0)                bias and ReLU after the maximum

Adding b and rectifying are non-decreasing maps, so max_q relu(Z_q + b) =
relu(max_q Z_q + b) exactly: they touch a quarter of the values. With batch
normalisation the bias and the normalisation come before the maximum, Y = BN(Z + b),
computed by the BatchNorm layer itself on the (s*s*R, out) matrix (a channel's
statistics do not depend on the order of its values), then A = max(max_q Y_q, 0).

Backward, from G = dC/dA (BP2-BP4, with the pool's and ReLU's derivatives):

    D      = G (.) [A > 0]                            ReLU
    dZ_q   = D (.) [q is the first block with Z_q = M]  the pool: to the maximum, ties
                                                      to the first in row order
    db     = 1^T dZ       (with BatchNorm, its backward first: dZ = bn'(dY))
    dW     = dZ^T P                                   one product over all rows
    dX     = sum over taps (u, v) of dZ W_uv, added at the input positions shifted by (u, v)

Output rows and columns that the pool drops (odd sizes) are not computed at all; their
gradient is zero. Batch normalisation in training mode would count them in its
statistics, so such a stage runs its plain layers instead (``ConvPoolStage.exact``).
"""

import numpy as np

from .conv import Conv2D, MaxPool2D, input_gradient, pad_nhwc, patch_rows
from .layers import ReLU
from .regularization import BatchNorm


class ConvPoolStage:
    """Conv2D, an optional BatchNorm, an optional ReLU and a MaxPool2D, as one stage.

    Parameters
    ----------
    layers : list of Layer
        The layers it runs, in network order (``plan`` finds them). Their parameters
        are read and their gradients filled in place.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.conv = self.layers[0]
        self.norm = next((layer for layer in self.layers if isinstance(layer, BatchNorm)), None)
        self.relu = any(isinstance(layer, ReLU) for layer in self.layers)
        self.pool = next(layer for layer in self.layers if isinstance(layer, MaxPool2D))
        self.plain = False
        self.buffers = {}

    @property
    def params(self):
        return self.conv.params

    def forget(self):
        """Let go of what ``forward`` kept for ``backward`` (as ``Layer.forget``)."""
        for name in ("xh", "cols", "z", "max", "a"):
            self.__dict__.pop(name, None)
        for layer in self.layers:
            layer.forget()

    def exact(self, x):
        """Whether the fused computation is exactly the layers' for the batch ``x``."""
        if self.norm is None or not self.norm.training:
            return True
        _, ho, wo = self.conv.output_shape(x.shape[1:])
        return ho % self.pool.size == 0 and wo % self.pool.size == 0

    def _buffer(self, name, shape, dtype):
        """A scratch array (``shape`` an int: flat, of at least that size), kept between
        calls while training, which repeats the same shapes thousands of times (no page
        faults for fresh megabytes). Evaluation keeps none: an ensemble in a server would
        hold tens of megabytes per member for nothing."""
        if not self.conv.training:
            self.buffers.clear()
            return np.empty(shape, dtype)
        buf = self.buffers.get(name)
        size = shape if isinstance(shape, int) else int(np.prod(shape))
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self.buffers[name] = np.empty(size, dtype)
        return buf[:size] if isinstance(shape, int) else buf[:size].reshape(shape)

    def forward(self, x):
        """The stage's output A for the NCHW batch ``x``, as an NCHW view of NHWC memory."""
        self.plain = not self.exact(x)
        if self.plain:
            for layer in self.layers:
                x = layer.forward(x)
            return x
        conv, s = self.conv, self.pool.size
        k, stride, p = conv.kernel_size, conv.stride, conv.padding
        n, c, h, w = x.shape
        _, ho, wo = self.pool.output_shape(conv.output_shape((c, h, w)))  # they fit
        self.xh = pad_nhwc(x, p)
        starts = [(a * stride, b * stride) for a in range(s) for b in range(s)]
        size = s * s * n * ho * wo * k * k * c
        self.cols = patch_rows(self.xh, k, stride * s, starts, ho, wo, self._buffer("cols", size, x.dtype))
        weights = conv.fixed_weights if conv.fixed_weights is not None else conv._weight_matrix()
        z = self._buffer("z", (len(self.cols), conv.out_channels), x.dtype)
        np.matmul(self.cols, weights.T, out=z)
        bias = conv.params["bias"]
        if self.norm is not None:
            z += bias
            z = self.norm.forward(z)
        self.z = z.reshape(s * s, -1, conv.out_channels)
        self.max = np.array(self.z[0])
        for block in self.z[1:]:
            np.maximum(self.max, block, out=self.max)
        a = self.max + bias if self.norm is None else self.max.copy()
        if self.relu:
            np.maximum(a, 0, out=a)
        self.a = a
        return a.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)

    def backward(self, grad, input_grad=True):
        """Fill the layers' gradients from dC/dA; return dC/dx (NCHW), unless
        ``input_grad`` is False."""
        if self.plain:
            for layer in reversed(self.layers[1:]):
                grad = layer.backward(grad)
            return self.conv.backward(grad, input_grad=input_grad)
        conv, s = self.conv, self.pool.size
        n, _, ho, wo = grad.shape
        d = np.array(grad.transpose(0, 2, 3, 1)).reshape(-1, conv.out_channels)
        if self.relu:
            d *= self.a > 0
        dz = self._pool_backward(d)
        if self.norm is not None:
            dz = self.norm.backward(dz)
        conv.fill_grads(dz, self.cols)
        if not input_grad:
            return None
        # the gradient rows back in image order (n, s*ho, s*wo, out) for the input gradient
        dh = dz.reshape(s, s, n, ho, wo, -1).transpose(2, 3, 0, 4, 1, 5)
        dh = np.ascontiguousarray(dh).reshape(n, s * ho, s * wo, -1)
        return input_gradient(dh, conv.params["weight"], self.xh.shape, conv.stride,
                              conv.padding).transpose(0, 3, 1, 2)

    def _pool_backward(self, d):
        """dZ (s*s*R, out): D handed to the first block of each window that holds the maximum."""
        dz = self._buffer("dz", (len(self.z) * len(d), d.shape[1]), d.dtype)
        blocks = dz.reshape(self.z.shape)
        rest = d.copy()  # what is not yet handed to a block
        for z, out in zip(self.z[:-1], blocks[:-1]):
            np.multiply(rest, z == self.max, out=out)
            rest -= out  # zero where this block took it
        blocks[-1] = rest  # the last block holds the maximum wherever none before did
        return dz


def plan(layers):
    """The steps that run ``layers``: each run of Conv2D [BatchNorm] [ReLU] MaxPool2D (or
    with the ReLU after the pool) becomes one ``ConvPoolStage``, other layers stay."""
    steps, i = [], 0
    while i < len(layers):
        run = _stage_at(layers, i)
        if run:
            steps.append(ConvPoolStage(run))
            i += len(run)
        else:
            steps.append(layers[i])
            i += 1
    return steps


def _stage_at(layers, i):
    """The layers of a fusable stage starting at ``layers[i]``, or an empty list."""
    if not isinstance(layers[i], Conv2D):
        return []
    run, j = [layers[i]], i + 1
    if j < len(layers) and isinstance(layers[j], BatchNorm):
        run.append(layers[j])
        j += 1
    rest = [type(layer) for layer in layers[j:j + 2]]
    for pattern in ([ReLU, MaxPool2D], [MaxPool2D, ReLU], [MaxPool2D]):
        if rest[:len(pattern)] == pattern:
            return run + layers[j:j + len(pattern)]
    return []
