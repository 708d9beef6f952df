"""The fused convolution-to-pool stage (nn.fused) against the plain layers it replaces:
same outputs and gradients in float64, finite differences, PyTorch, the shipped
models, and a pinned short training run."""

import os
from pathlib import Path

import numpy as np
import pytest

from digitnet.nn import BatchNorm, Linear, Network, ReLU, gradcheck, losses
from digitnet.nn.conv import Conv2D, Flatten, MaxPool2D, Reshape
from digitnet.nn.functional import one_hot
from digitnet.nn.fused import ConvPoolStage, plan
from digitnet.nn.network import for_inference

MODELS = Path(__file__).resolve().parents[1] / "src" / "digitnet" / "models"
DATA = os.environ.get("DIGITNET_DATA")
F64 = np.float64

# (input channels, size, out channels, kernel, stride, padding, pool, batch norm, order)
STAGES = [
    (1, 8, 3, 3, 1, 1, 2, False, "relu-pool"),
    (2, 8, 3, 3, 1, 1, 2, False, "pool-relu"),
    (2, 7, 3, 3, 1, 1, 2, False, "relu-pool"),   # a row and a column left over
    (3, 9, 2, 3, 1, 0, 3, False, "pool"),        # no ReLU, 3x3 pool
    (2, 9, 3, 3, 2, 1, 2, False, "relu-pool"),   # strided convolution, 5x5 -> 2x2
    (1, 8, 4, 2, 1, 0, 2, False, "relu-pool"),   # even kernel, 7x7 -> 3x3
    (2, 8, 3, 3, 1, 1, 2, True, "relu-pool"),
    (2, 7, 3, 3, 1, 1, 2, True, "pool-relu"),    # batch norm and leftovers: plain in training
]


def stage_network(c, size, out, k, stride, padding, pool, norm, order, rng):
    layers = [Reshape((c, size, size)), Conv2D(c, out, k, stride, padding, rng=rng, dtype=F64)]
    if norm:
        layers.append(BatchNorm(out, dtype=F64))
    tail = {"relu-pool": [ReLU(), MaxPool2D(pool)], "pool-relu": [MaxPool2D(pool), ReLU()],
            "pool": [MaxPool2D(pool)]}[order]
    layers += tail + [Flatten()]
    n_flat = Network(layers, losses.SoftmaxCrossEntropy(), (c * size * size,)).n_outputs
    layers.append(Linear(n_flat, 4, "xavier", rng, F64))
    net = Network(layers, losses.SoftmaxCrossEntropy(), (c * size * size,))
    net.layers[1].params["bias"][...] = rng.normal(0, 0.3, out)
    if norm:
        net.layers[2].params["weight"][...] = rng.normal(0, 1, out)  # some negative scales
        net.layers[2].running_mean[...] = rng.normal(0, 0.2, out)
    return net


def run(net, x, y, fuse):
    """Outputs, input gradient, parameter gradients and buffers for one path."""
    net.fuse = fuse
    z = net.forward(x)
    _, delta = net.loss(z, y)
    dx = net.backward(delta)
    return [z, dx] + [g.copy() for _, g in net.parameters()] + [
        b.copy() for layer in net.layers for b in layer.buffers().values()]


def inputs(rng, n, features, classes=4):
    x = rng.standard_normal((n, features))
    x[:, : features // 3] = 0  # blank regions: windows whose values tie
    return x, one_hot(rng.integers(0, classes, n), classes, F64)


@pytest.mark.parametrize("spec", STAGES)
@pytest.mark.parametrize("training", [True, False])
def test_fused_stage_gives_the_plain_layers_outputs_and_gradients(spec, training):
    rng = np.random.default_rng(STAGES.index(spec))
    net = stage_network(*spec, rng=rng)
    x, y = inputs(rng, 5, net.input_shape[0])
    net.train(training)
    state = {k: v.copy() for k, v in net.state_dict().items()}
    fused = run(net, x, y, True)
    stage = net.stages()[1]
    assert isinstance(stage, ConvPoolStage)
    assert stage.plain == (training and spec[7] and spec[1] == 7)  # see ConvPoolStage.exact
    net.load_state_dict(state)  # batch norm's running statistics as before
    plain = run(net, x, y, False)
    for a, b in zip(fused, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_the_network_plans_fused_stages_and_replans_when_its_layers_change():
    rng = np.random.default_rng(0)
    net = stage_network(2, 8, 3, 3, 1, 1, 2, True, "relu-pool", rng)
    steps = net.stages()
    assert [type(s).__name__ for s in steps] == ["Reshape", "ConvPoolStage", "Flatten", "Linear"]
    assert steps[1].layers == net.layers[1:5] and net.stages() is steps
    net.layers.insert(4, ReLU())  # conv, bn, relu, relu, pool: no longer a stage
    assert not any(isinstance(s, ConvPoolStage) for s in net.stages())
    net.fuse = False
    assert net.stages() is net.layers
    odd = [Conv2D(1, 2, 3), ReLU(), Conv2D(2, 2, 3), MaxPool2D(2), ReLU(), ReLU()]
    assert [type(s).__name__ for s in plan(odd)] == ["Conv2D", "ReLU", "ConvPoolStage", "ReLU"]


@pytest.mark.parametrize("spec", [s for s in STAGES if s[-1] != "pool"])
@pytest.mark.parametrize("fuse", [True, False])
def test_stage_gradients_match_finite_differences(spec, fuse):
    rng = np.random.default_rng(3)
    net = stage_network(*spec, rng=rng)
    net.fuse = fuse
    x, y = inputs(rng, 3, net.input_shape[0])
    x[:, : net.input_shape[0] // 3] = 0.01 * rng.standard_normal((3, net.input_shape[0] // 3))
    assert gradcheck.check_network(net, x, y, training=True) < 1e-6
    assert gradcheck.check_network(net, x, y, training=False) < 1e-6


@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("fuse", [True, False])
def test_stage_matches_pytorch(norm, fuse):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    net = stage_network(3, 8, 4, 3, 1, 1, 2, norm, "relu-pool", rng)
    conv = net.layers[1]
    stage = net.stages()[1]
    h = rng.standard_normal((6, 3, 8, 8))
    if fuse:
        out = stage.forward(h)
        g = rng.standard_normal(out.shape)
        dx = stage.backward(g)
    else:
        out = h
        for layer in stage.layers:
            out = layer.forward(out)
        g = dx = rng.standard_normal(out.shape)
        for layer in reversed(stage.layers):
            dx = layer.backward(dx)
    xt = torch.tensor(h, requires_grad=True)
    wt = torch.tensor(conv.params["weight"], requires_grad=True)
    bt = torch.tensor(conv.params["bias"], requires_grad=True)
    zt = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
    if norm:
        bn = net.layers[2]
        gamma = torch.tensor(bn.params["weight"], requires_grad=True)
        zt = torch.nn.functional.batch_norm(zt, None, None, gamma, torch.tensor(bn.params["bias"]),
                                            training=True, eps=bn.eps)
    ot = torch.nn.functional.max_pool2d(torch.relu(zt), 2)
    ot.backward(torch.tensor(g))
    np.testing.assert_allclose(out, ot.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], wt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(conv.grads["bias"], bt.grad.numpy(), atol=1e-12)
    if norm:
        np.testing.assert_allclose(net.layers[2].grads["weight"], gamma.grad.numpy(), atol=1e-12)


def digit_images(n):
    """MNIST test digits when DIGITNET_DATA is set, else blurred random strokes."""
    if DATA:
        from digitnet.data import mnist

        return mnist.load("mnist", DATA).test.x[:n]
    rng = np.random.default_rng(0)
    x = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        r, c = rng.integers(6, 22, 2)
        x[i, r - 5:r + 5, c - 1:c + 2] = 1
        x[i, r - 1:r + 1, c - 6:c + 4] = rng.random()
    return x.reshape(n, 784)


def members(model):
    return getattr(model, "members", [model])


@pytest.mark.parametrize("name", ["cnn", "ensemble"])
def test_shipped_models_give_the_same_probabilities(name):
    from digitnet import load_model

    model = load_model(MODELS / f"{name}.npz")
    x = digit_images(300)
    for m in members(model):
        m.fuse = False
    plain = model.predict_proba(x)
    for m in members(model):
        m.fuse = True
    assert any(isinstance(s, ConvPoolStage) for s in members(model)[0].stages())
    np.testing.assert_allclose(model.predict_proba(x), plain, atol=1e-5)
    fast = for_inference(model)
    assert all(any(isinstance(s, ConvPoolStage) for s in m.stages()) for m in members(fast))
    np.testing.assert_allclose(fast.predict_proba(x), plain, atol=1e-5)


# measured with the plain layers before the fused stage existed: (batch norm) ->
# [(loss, correct of 1000) per epoch], sum of |parameters|. Without batch norm float32
# rounding moves the last digits only; with it, training in float32 amplifies the
# rounding of the batch statistics (the plain layers' own speed-ups alone moved the
# first epoch's loss by 1e-3 and its count by 7), so the same accuracy is what is pinned.
PINNED_CNN = [
    (False, [(0.8850520148674647, 864), (0.28008155409495034, 915)], 1305.9227294921875, 1e-4, 3),
    (True, [(1.0494432036479313, 843), (0.31859882589181265, 882)], 1326.6304931640625, 5e-3, 10),
]


@pytest.mark.skipif(not DATA, reason="set DIGITNET_DATA to the MNIST folder")
@pytest.mark.parametrize("norm,epochs,weight_sum,rel,count", PINNED_CNN)
def test_short_seeded_cnn_run_is_unchanged(norm, epochs, weight_sum, rel, count):
    from digitnet import fit
    from digitnet.data import mnist
    from digitnet.recipes import build_network

    data = mnist.load("mnist", DATA)
    settings = dict(model="cnn", channels=[8, 16], hidden=32, activation="relu", cost="ce",
                    init="he", batchnorm=norm)
    net = build_network(settings, np.random.default_rng(0))
    assert any(isinstance(s, ConvPoolStage) for s in net.stages())
    history = fit(net, data.train.x[:3000], data.train.y[:3000], epochs=2, batch_size=32,
                  lr=0.05, rng=0, validation=(data.validation.x[:1000], data.validation.y[:1000]))
    for result, (loss, correct) in zip(history.epochs, epochs, strict=True):
        assert result.loss == pytest.approx(loss, rel=rel)
        assert abs(result.correct - correct) <= count
    total = float(sum(np.abs(p).sum() for p, _ in net.parameters()))
    assert total == pytest.approx(weight_sum, rel=rel)
