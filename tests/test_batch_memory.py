"""The networks batch mode runs keep nothing between chunks: inference lets go of what
a forward pass keeps for a backward pass (``Layer.forget``). Regression: reading one
number with the shipped ensemble kept 400 MB of patch rows, 560 MB per process."""

import numpy as np

from digitnet.nn.network import for_inference
from digitnet.pretrained import resolve_model

CACHES = ("x", "a", "cols", "max", "xh", "z", "x_hat", "mask")


def kept(network):
    steps = [s for m in getattr(network, "members", [network]) for s in m.stages()]
    inner = [layer for s in steps for layer in getattr(s, "layers", [])]
    return {(type(s).__name__, name) for s in steps + inner for name in CACHES if name in vars(s)}


def test_inference_keeps_nothing_for_a_backward_pass():
    x = np.random.default_rng(0).random((40, 784), dtype=np.float32)
    for model in (resolve_model("cnn"), for_inference(resolve_model("ensemble"))):
        before = model.predict_proba(x)
        assert kept(model) == set()
        np.testing.assert_array_equal(model.predict_proba(x), before)


def test_a_forward_pass_for_training_still_keeps_what_backward_needs():
    network = resolve_model("cnn").train(True)
    network.forward(np.zeros((2, 784), np.float32))
    assert kept(network)
