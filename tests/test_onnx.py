"""ONNX export: the file, run by onnxruntime, gives digitnet's probabilities."""

import os

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from digitnet import load_model, save_model  # noqa: E402
from digitnet.cli import main  # noqa: E402
from digitnet.nn import Ensemble, mlp  # noqa: E402
from digitnet.recipes import build_network  # noqa: E402


def inputs(n=1000):
    """1,000 MNIST test images when the data is there, else random images."""
    directory = os.environ.get("DIGITNET_DATA")
    if directory:
        from digitnet.data import mnist

        return mnist.load("mnist", directory).test.x[:n]
    return np.random.default_rng(0).random((n, 784), dtype=np.float32)


def cnn(seed, batchnorm=False):
    settings = dict(model="cnn", channels=[4, 8], hidden=16, activation="relu", cost="ce",
                    init="he", dropout=0.2, batchnorm=batchnorm)
    net = build_network(settings, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 100)
    for layer in net.layers:
        if hasattr(layer, "running_var"):  # trained-looking statistics, per channel
            layer.running_mean[:] = rng.normal(0, 0.5, layer.features)
            layer.running_var[:] = rng.uniform(0.5, 2, layer.features)
            layer.params["bias"][:] = rng.normal(0, 0.1, layer.features)
    return net


def batchnorm_mlp():
    from digitnet.nn import BatchNorm, Linear, Network, ReLU, losses

    rng = np.random.default_rng(7)
    bn = BatchNorm(24)
    bn.running_mean[:] = rng.normal(0, 1, 24)
    bn.running_var[:] = rng.uniform(0.5, 2, 24)
    bn.params["weight"][:] = rng.uniform(0.5, 1.5, 24)
    return Network([Linear(784, 24, "he", rng), bn, ReLU(), Linear(24, 10, "he", rng)],
                   losses.SoftmaxCrossEntropy(), (784,))


MODELS = {
    "mlp-sigmoid-quadratic": lambda: mlp([784, 30, 10], rng=0),
    "mlp-relu-softmax": lambda: mlp([784, 32, 16, 10], "relu", "ce", init="he", rng=1),
    "mlp-tanh-bce": lambda: mlp([784, 20, 10], "tanh", "bce", init="xavier", rng=2),
    "cnn": lambda: cnn(3),
    "cnn-batchnorm": lambda: cnn(8, batchnorm=True),
    "mlp-batchnorm": lambda: batchnorm_mlp(),
    "ensemble": lambda: Ensemble([cnn(4), cnn(5), mlp([784, 16, 10], "relu", "ce", rng=6)]),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_onnx_round_trip(kind, tmp_path, capsys):
    model_path, onnx_path = tmp_path / "model.npz", tmp_path / "model.onnx"
    save_model(model_path, MODELS[kind]())
    assert main(["export", str(model_path), str(onnx_path)]) == 0
    model = load_model(model_path)
    x = inputs()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ours = model.confidences(x)
    theirs = session.run(["probabilities"], {"input": x})[0]
    assert theirs.shape == (len(x), 10)
    assert np.abs(ours - theirs).max() < 1e-5


def test_export_errors(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "m.onnx")]) == 2
    save_model(tmp_path / "m.npz", mlp([784, 10]))
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "no" / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
