"""A feedforward network: a stack of layers and a cost that owns the output activation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import layers as L
from . import losses
from .conv import Conv2D, MaxPool2D
from .fused import ConvPoolStage, plan
from .regularization import BatchNorm, Dropout

#: Images per forward pass when a convolutional network predicts. Its layers keep what
#: a backward pass would need, about 1 MB per image for a three-stage CNN, so 500 at
#: a time held 380 MB per network, more than a gigabyte for an ensemble of three,
#: and was no faster (the 10,000 test images through the shipped ensemble: 25-27 s
#: at 128, 33 s at 500, on a busy machine).
CONV_BATCH = 128


class Network:
    """Sequential network.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; the last one produces the output weighted input z^L.
    loss : Loss
        The cost, which also supplies the output activation a^L = f(z^L).
    input_shape : tuple of int
        Shape of one example, e.g. ``(784,)``.
    """

    def __init__(self, layers, loss, input_shape):
        self.layers = list(layers)
        self.loss = loss
        self.input_shape = tuple(input_shape)
        self._pack()
        self._steps, self._planned = [], []
        for before, layer in zip(self.layers, self.layers[1:]):
            if isinstance(layer, L.ReLU) and isinstance(before, (L.Linear, Conv2D, BatchNorm)):
                layer.inplace = True  # their outputs are fresh arrays nobody else holds

    def _pack(self):
        """Keep all parameters in one contiguous buffer, and all gradients in another,
        each layer's arrays being views into them: an optimizer can then update every
        weight of the network with one NumPy call instead of one per array."""
        pairs = [(layer, name) for layer in self.layers for name in layer.params]
        arrays = [layer.params[name] for layer, name in pairs]
        if not arrays or len({a.dtype for a in arrays}) != 1:
            return
        size = sum(a.size for a in arrays)
        self.flat_params = np.empty(size, arrays[0].dtype)
        self.flat_grads = np.zeros(size, arrays[0].dtype)
        offset = 0
        for (layer, name), array in zip(pairs, arrays):
            end = offset + array.size
            layer.params[name] = self.flat_params[offset:end].reshape(array.shape)
            layer.params[name][...] = array
            layer.grads[name] = self.flat_grads[offset:end].reshape(array.shape)
            offset = end

    # -- the forward pass ---------------------------------------------------------

    #: Whether ``forward`` and ``backward`` run each Conv2D [BatchNorm] ReLU MaxPool2D as one
    #: fused stage (``nn.fused``; same outputs and gradients, faster) or layer by layer.
    fuse = True

    def stages(self):
        """The steps that ``forward`` runs: the layers, or with ``fuse``, the layers with
        each convolution-to-pool run replaced by one ``nn.fused.ConvPoolStage``."""
        if not self.fuse:
            return self.layers
        if self._planned != self.layers:  # planned afresh whenever the layers change
            self._steps, self._planned = plan(self.layers), list(self.layers)
        return self._steps

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Weighted input z^L of the output layer for a batch x of shape (n, *input_shape)."""
        for step in self.stages():
            x = step.forward(x)
        return x

    def predict_proba(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Output activations a^L, shape (n, n_outputs), evaluated in inference mode.

        Softmax outputs sum to one. Sigmoid outputs (the tutorials' networks) are
        returned as they are; see ``confidences`` for normalised scores. The layers
        are left in the mode (training or not) they were in."""
        modes = [layer.training for layer in self.layers]
        self.train(False)
        x = np.asarray(x, dtype=self.dtype)
        if batch_size is None:
            batch_size = CONV_BATCH if self.convolutional else 10_000
        # Weights that are finite but huge overflow to inf/NaN scores here; that is the
        # model's answer (training reports divergence itself), not a warning to print.
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                out = [self.loss.output(self.forward(x[i:i + batch_size]))
                       for i in range(0, len(x), batch_size)]
        finally:
            for layer, mode in zip(self.layers, modes):
                layer.training = mode
            for step in self.stages():
                step.forget()  # no backward pass follows: what forward kept for one can go
        return np.concatenate(out) if out else np.zeros((0, self.n_outputs), self.dtype)

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """The index of the most active output neuron for each example: the digit."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def confidences(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Scores that sum to one per example: softmax outputs as they are,
        other outputs divided by their sum."""
        a = self.predict_proba(x, batch_size)
        if self.loss.activation == "softmax":
            return a
        a = np.clip(a, 0, None)
        return a / np.maximum(a.sum(axis=1, keepdims=True), np.finfo(a.dtype).tiny)

    # -- the backward pass --------------------------------------------------------

    def backward(self, delta, input_grad=True):
        """Propagate delta^L back through every layer (BP2), filling the gradients
        of all parameters (BP3, BP4). Returns dC/dx, the gradient of the input,
        unless ``input_grad`` is False (training never needs it)."""
        # Below the first layer with parameters nothing needs a gradient in training.
        steps = self.stages()
        start = 0 if input_grad else next((i for i, step in enumerate(steps) if step.params), 0)
        for step in reversed(steps[start + 1:]):
            delta = step.backward(delta)
        first = steps[start]
        if not input_grad and isinstance(first, (L.Linear, Conv2D, ConvPoolStage)):
            return first.backward(delta, input_grad=False)
        return first.backward(delta)

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray) -> float:
        """Forward, cost, and backward for one mini-batch; returns the cost."""
        z = self.forward(x)
        cost, delta = self.loss(z, y)
        self.backward(delta, input_grad=False)
        return cost

    # -- state --------------------------------------------------------------------

    def train(self, mode=True):
        """Training mode (dropout drops, batch normalisation uses the batch's statistics
        and updates its running ones) or, with ``mode=False``, evaluation mode. A new
        network is in training mode; ``load_model`` gives one in evaluation mode, and
        ``predict_proba`` evaluates whatever the mode."""
        for layer in self.layers:
            layer.training = mode
        return self

    def parameters(self):
        return [pair for layer in self.layers for pair in layer.parameters()]

    def state_dict(self):
        """All arrays, named "<layer index>.<name>"."""
        state = {}
        for i, layer in enumerate(self.layers):
            for name, value in {**layer.params, **layer.buffers()}.items():
                state[f"{i}.{name}"] = value
        return state

    def load_state_dict(self, state):
        """Copy arrays into the network, checking every name and shape."""
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"arrays do not match the architecture: missing {missing}, "
                             f"unexpected {unexpected}")
        for name, target in own.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"array {name} has shape {value.shape}, "
                                 f"the architecture needs {target.shape}")
            target[...] = value

    def config(self):
        return {"input_shape": list(self.input_shape),
                "layers": [layer.config() for layer in self.layers],
                "loss": self.loss.config(), "dtype": np.dtype(self.dtype).name}

    @classmethod
    def from_config(cls, cfg, rng=None):
        dtype = np.dtype(cfg.get("dtype", "float32"))
        rng = np.random.default_rng(0) if rng is None else rng
        layers = [L.from_config(c, rng=rng, dtype=dtype) for c in cfg["layers"]]
        return cls(layers, losses.from_config(cfg["loss"]), cfg["input_shape"])

    @property
    def convolutional(self):
        """Whether any layer is a convolution (memory and threads are planned by it)."""
        return any(isinstance(layer, Conv2D) for layer in self.layers)

    @property
    def dtype(self):
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.dtype(np.float32)

    @property
    def n_outputs(self):
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape[-1]

    @property
    def n_params(self):
        return sum(p.size for p, _ in self.parameters())

    def __repr__(self):
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Network(input_shape={self.input_shape}, [\n{inner}\n], loss={self.loss.config()})"


def mlp(sizes: Sequence[int], activation: str = "sigmoid", cost: str = "quadratic",
        output: str | None = None, init: str = "normal",
        rng: np.random.Generator | int | None = None, dtype=np.float32) -> Network:
    """A fully connected network such as the tutorials' ``Network([784, 30, 10])``.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input layer first, e.g. ``[784, 30, 10]``.
    activation : {"sigmoid", "tanh", "relu"}
        Activation of the hidden layers.
    cost : {"quadratic", "bce", "ce"}
        Quadratic, binary cross-entropy (sigmoid outputs) or categorical
        cross-entropy fused with softmax outputs.
    output : str, optional
        Output activation for the quadratic cost (default: sigmoid).
    init : {"normal", "xavier", "he"}
    rng : numpy.random.Generator or int seed, optional
    dtype : float32 (default) or float64
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"invalid layer sizes {sizes}: need at least an input and an "
                         "output layer, each with at least one neuron")
    if activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError(f"unknown hidden activation {activation!r}; choose sigmoid, tanh or relu")
    rng = np.random.default_rng(rng)
    loss = losses.get(cost, output)
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [L.Linear(fan_in, fan_out, init, rng, dtype), L.activation(activation)]
    layers.append(L.Linear(sizes[-2], sizes[-1], init, rng, dtype))
    return Network(layers, loss, (sizes[0],))


def fold_batchnorm(network: Network) -> Network:
    """A copy of ``network`` for inference, in which every BatchNorm that directly
    follows a Conv2D or Linear layer is folded into that layer.

    In evaluation mode batch normalisation is one affine map per channel,
    y = z * scale + shift with scale = gamma / sqrt(running_var + eps) and
    shift = beta - running_mean * scale; since z = x W + b, that is the layer
    with weights W * scale and bias b * scale + shift. Same outputs in evaluation
    mode, one pass less over each activation. The copy is for inference only:
    training it would no longer normalise anything.
    """
    from copy import deepcopy

    layers: list = []
    for layer in deepcopy(network.layers):
        before = layers[-1] if layers else None
        if isinstance(layer, BatchNorm) and isinstance(before, (L.Linear, Conv2D)):
            scale = layer.params["weight"] / np.sqrt(layer.running_var + layer.eps)
            shift = layer.params["bias"] - layer.running_mean * scale
            weight = before.params["weight"]
            # Conv2D weights are (out, in, kh, kw), Linear's (in, out)
            weight *= scale.reshape(-1, 1, 1, 1) if isinstance(before, Conv2D) else scale
            before.params["bias"][...] = before.params["bias"] * scale + shift
            continue
        layers.append(layer)
    folded = Network(layers, network.loss, network.input_shape)
    return folded.train(False)


def for_inference(network):
    """A copy of ``network`` that computes the same outputs in evaluation mode with
    less work, for serving: batch normalisation folded (``fold_batchnorm``), dropout
    (the identity in evaluation) left out, and each ReLU that comes just before a
    MaxPool2D moved after it. ReLU is non-decreasing, so the maximum of the rectified
    values is the rectified maximum, exactly; after the pool it touches a quarter of
    the values. Convolution weights are rearranged into their matrix once instead
    of at every call. Each Conv2D - MaxPool2D - ReLU that this leaves then runs as one
    fused stage (``nn.fused``, as in any network with ``fuse`` on). For inference
    only, like ``fold_batchnorm``'s copy: its weights must not change. An ensemble gets
    each of its members' copies."""
    members = getattr(network, "members", None)
    if members is not None:
        from .ensemble import Ensemble

        return Ensemble([for_inference(m) for m in members], shortcut=network.shortcut)
    layers = [layer for layer in fold_batchnorm(network).layers if not isinstance(layer, Dropout)]
    for i in range(len(layers) - 1):
        if isinstance(layers[i], L.ReLU) and isinstance(layers[i + 1], MaxPool2D):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
            layers[i + 1].inplace = True  # the pool's output is a fresh array
    fast = Network(layers, network.loss, network.input_shape).train(False)
    for layer in fast.layers:
        if isinstance(layer, Conv2D):  # its weights will not change: rearrange them once
            layer.fixed_weights = layer._weight_matrix().copy()
    return fast


def accuracy(network, x, labels):
    """Number of examples whose predicted digit equals the label."""
    return int((network.predict(x) == labels).sum())


__all__ = ["Network", "mlp", "fold_batchnorm", "for_inference", "accuracy"]
