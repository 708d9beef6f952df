"""Weight averaging (stochastic weight averaging, Izmailov et al., 2018).

Late in training, SGD at a constant learning rate keeps moving around a wide valley of
low cost without settling. The mean of the weights it visits lies nearer the valley's
centre than any one of them, and usually generalises better. Averaging is done on the
weights, not the predictions: the result is one network, as cheap to run as any.

Batch normalisation's running statistics belong to the weights they were gathered
with, so after averaging they are gathered again (``update_batchnorm``).
"""

import numpy as np

from .regularization import BatchNorm


class WeightAverage:
    """The running mean of a network's parameters over the snapshots given to
    ``update``: after k snapshots, ``mean = (w_1 + ... + w_k) / k``.

    Parameters
    ----------
    network : Network
    """

    def __init__(self, network):
        self.network = network
        self.count = 0
        self.means = [np.zeros_like(param) for param, _ in network.parameters()]

    def update(self):
        """Add the network's current weights to the average."""
        self.count += 1
        for mean, (param, _) in zip(self.means, self.network.parameters()):
            mean += (param - mean) / self.count

    def copy_to(self, network=None):
        """Put the averaged weights into ``network`` (default: the averaged one)."""
        if self.count == 0:
            raise ValueError("no weights averaged yet: call update() first")
        network = self.network if network is None else network
        for mean, (param, _) in zip(self.means, network.parameters()):
            param[...] = mean
        return network

    def state(self):
        """Arrays and numbers to save in a checkpoint (``load_state`` takes them back)."""
        return {"count": self.count, **{str(i): mean for i, mean in enumerate(self.means)}}

    def load_state(self, state):
        if not state:  # a checkpoint from before averaging was asked for
            return
        if len(state) != len(self.means) + 1:
            raise ValueError(f"the saved average holds {len(state) - 1} arrays, "
                             f"the network {len(self.means)}")
        for i, mean in enumerate(self.means):
            mean[...] = state[str(i)]
        self.count = int(state["count"])


def update_batchnorm(network, x, batch_size=256):
    """Gather every BatchNorm layer's running mean and variance afresh, as the plain
    average over the mini-batches of ``x`` (the network's weights are not changed, and
    dropout does not drop). Returns ``network``; a network without BatchNorm is
    returned as it was."""
    norms = [layer for layer in network.layers if isinstance(layer, BatchNorm)]
    if not norms:
        return network
    modes = [layer.training for layer in network.layers]
    momenta = [norm.momentum for norm in norms]
    for layer in network.layers:
        layer.training = isinstance(layer, BatchNorm)
    for norm in norms:
        norm.running_mean[...] = 0
        norm.running_var[...] = 1
    try:
        for k, start in enumerate(range(0, len(x), batch_size), 1):
            batch = x[start:start + batch_size]
            if len(batch) < 2 < len(x):
                break  # one example left over: no statistics per feature in it
            for norm in norms:
                norm.momentum = 1.0 / k  # running = running + (batch - running) / k
            network.forward(batch)
    finally:
        for layer, mode in zip(network.layers, modes):
            layer.training = mode
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
    return network
