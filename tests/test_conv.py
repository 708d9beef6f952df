"""Convolution, pooling, dropout: gradient checks in float64, and PyTorch cross-checks."""

import numpy as np
import pytest

from digitnet import load_model, save_model
from digitnet.nn import Linear, Network, ReLU, Tanh, gradcheck, losses
from digitnet.nn.conv import Conv2D, Flatten, MaxPool2D, Reshape
from digitnet.nn.functional import one_hot
from digitnet.nn.regularization import Dropout


def small_cnn(rng, k=3, stride=1, padding=1, dtype=np.float64):
    layers = [Reshape((2, 6, 6)), Conv2D(2, 3, k, stride, padding, rng=rng, dtype=dtype), Tanh(),
              MaxPool2D(2), Flatten()]
    n_flat = Network(layers, losses.SoftmaxCrossEntropy(), (72,)).n_outputs
    layers.append(Linear(n_flat, 4, "xavier", rng, dtype))
    return Network(layers, losses.SoftmaxCrossEntropy(), (72,))


@pytest.mark.parametrize("k,stride,padding", [(3, 1, 1), (3, 1, 0), (2, 2, 0), (3, 2, 1), (1, 1, 0)])
def test_cnn_gradients_match_finite_differences(k, stride, padding):
    rng = np.random.default_rng(0)
    net = small_cnn(rng, k, stride, padding)
    x = rng.standard_normal((3, 72))
    y = one_hot(rng.integers(0, 4, 3), 4, np.float64)
    assert gradcheck.check_network(net, x, y) < 1e-6


def test_relu_cnn_gradients():
    rng = np.random.default_rng(1)
    layers = [Reshape((1, 8, 8)), Conv2D(1, 4, 3, 1, 1, rng=rng, dtype=np.float64), ReLU(),
              MaxPool2D(2), Conv2D(4, 2, 3, 1, 1, rng=rng, dtype=np.float64), ReLU(),
              Flatten(), Linear(32, 3, "he", rng, np.float64)]
    net = Network(layers, losses.SoftmaxCrossEntropy(), (64,))
    x = rng.standard_normal((2, 64)) + 0.05  # no pre-activation is within eps of ReLU's kink
    assert gradcheck.check_network(net, x, one_hot(np.array([0, 2]), 3, np.float64)) < 1e-6


def test_dropout_is_identity_at_inference_and_scales_in_training():
    rng = np.random.default_rng(0)
    layer = Dropout(0.25, rng=rng)
    x = np.ones((1000, 50))
    assert layer.training  # a new layer is for training
    layer.training = False
    assert layer.forward(x) is x
    layer.training = True
    out = layer.forward(x)
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(2)
    dropout = Dropout(0.5, rng=np.random.default_rng(7))
    net = Network([Linear(5, 4, "xavier", rng, np.float64), dropout, Tanh(),
                   Linear(4, 3, "xavier", rng, np.float64)], losses.SoftmaxCrossEntropy(), (5,))
    x = rng.standard_normal((4, 5))
    y = one_hot(np.array([0, 1, 2, 0]), 3, np.float64)
    state = dropout.rng.bit_generator.state

    def same_mask_forward(original=dropout.forward):
        def forward(z):
            dropout.rng.bit_generator.state = state
            return original(z)
        return forward

    dropout.forward = same_mask_forward()
    assert gradcheck.check_network(net, x, y) < 1e-6


def test_cnn_model_file_round_trip(tmp_path):
    net = small_cnn(np.random.default_rng(3), dtype=np.float32)
    save_model(tmp_path / "cnn.npz", net)
    loaded = load_model(tmp_path / "cnn.npz")
    x = np.random.default_rng(4).random((5, 72), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))




@pytest.mark.parametrize("k,stride,padding", [(3, 1, 1), (3, 2, 0), (5, 1, 2), (2, 2, 1)])
def test_conv2d_matches_pytorch(k, stride, padding):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    conv = Conv2D(3, 5, k, stride, padding, rng=rng, dtype=np.float64)
    x = rng.standard_normal((4, 3, 9, 9))
    z = conv.forward(x)
    g = rng.standard_normal(z.shape)
    dx = conv.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(conv.params["weight"], requires_grad=True)
    bt = torch.tensor(conv.params["bias"], requires_grad=True)
    out = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(z, out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], wt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(conv.grads["bias"], bt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("size", [7, 8])
def test_maxpool_matches_pytorch(size):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    pool = MaxPool2D(2)
    x = rng.standard_normal((2, 3, size, size))
    y = pool.forward(x)
    g = rng.standard_normal(y.shape)
    dx = pool.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.max_pool2d(xt, 2)
    out.backward(torch.tensor(g))
    np.testing.assert_array_equal(y, out.detach().numpy())
    np.testing.assert_array_equal(dx, xt.grad.numpy())


@pytest.mark.parametrize("conv", [False, True])
def test_batchnorm_gradients_in_training_mode(conv):
    from digitnet.nn.regularization import BatchNorm

    rng = np.random.default_rng(5)
    if conv:
        layers = [Reshape((1, 4, 4)), Conv2D(1, 2, 3, 1, 1, rng=rng, dtype=np.float64),
                  BatchNorm(2, dtype=np.float64), Tanh(), Flatten(), Linear(32, 3, "xavier", rng, np.float64)]
        n_in = 16
    else:
        layers = [Linear(5, 4, "xavier", rng, np.float64), BatchNorm(4, dtype=np.float64), Tanh(),
                  Linear(4, 3, "xavier", rng, np.float64)]
        n_in = 5
    net = Network(layers, losses.SoftmaxCrossEntropy(), (n_in,))
    bn = next(layer for layer in net.layers if type(layer).__name__ == "BatchNorm")
    bn.params["weight"][...] = rng.uniform(0.5, 1.5, bn.features)
    x = rng.standard_normal((6, n_in))
    assert gradcheck.check_network(net, x, one_hot(rng.integers(0, 3, 6), 3, np.float64)) < 1e-6


@pytest.mark.parametrize("conv", [False, True])
def test_batchnorm_evaluation_mode_formula_and_gradients(conv):
    """Evaluation mode computes x * scale + shift in one affine map per feature; it must
    equal (x - running_mean) / sqrt(running_var + eps) * weight + bias, and its
    gradients (x_hat recomputed on demand) must pass the float64 check."""
    from digitnet.nn.regularization import BatchNorm

    rng = np.random.default_rng(9)
    bn = BatchNorm(3, dtype=np.float64)
    bn.running_mean[:] = rng.normal(0, 1, 3)
    bn.running_var[:] = rng.uniform(0.5, 2, 3)
    bn.params["weight"][:] = rng.uniform(0.5, 1.5, 3)
    bn.params["bias"][:] = rng.normal(0, 0.5, 3)
    shape = (1, -1, 1, 1) if conv else (1, -1)
    x = rng.standard_normal((4, 3, 2, 2) if conv else (4, 3))
    bn.training = False
    expected = ((x - bn.running_mean.reshape(shape)) / np.sqrt(bn.running_var.reshape(shape) + bn.eps)
                * bn.params["weight"].reshape(shape) + bn.params["bias"].reshape(shape))
    np.testing.assert_allclose(bn.forward(x), expected, rtol=1e-12)
    if conv:
        layers = [Reshape((3, 2, 2)), bn, Tanh(), Flatten(), Linear(12, 3, "xavier", rng, np.float64)]
    else:
        layers = [bn, Tanh(), Linear(3, 3, "xavier", rng, np.float64)]
    net = Network(layers, losses.SoftmaxCrossEntropy(), (12 if conv else 3,))
    y = one_hot(rng.integers(0, 3, 4), 3, np.float64)
    assert gradcheck.check_network(net, x.reshape(4, -1), y, training=False) < 1e-6
    assert not bn.training


@pytest.mark.parametrize("conv", [False, True])
def test_fold_batchnorm_keeps_evaluation_outputs(conv):
    """Folding each BatchNorm into the Conv2D or Linear before it gives the same
    evaluation-mode outputs, without BatchNorm layers, and leaves the original alone."""
    from digitnet.nn.network import fold_batchnorm
    from digitnet.nn.regularization import BatchNorm

    rng = np.random.default_rng(12)
    f64 = np.float64
    if conv:
        layers = [Reshape((1, 6, 6)), Conv2D(1, 3, 3, 1, 1, rng=rng, dtype=f64), BatchNorm(3, dtype=f64),
                  ReLU(), MaxPool2D(2), Conv2D(3, 4, 3, 2, 0, rng=rng, dtype=f64),
                  BatchNorm(4, dtype=f64), ReLU(), Flatten(), Linear(4, 3, "xavier", rng, f64)]
    else:
        layers = [Linear(36, 5, "xavier", rng, f64), BatchNorm(5, dtype=f64), Tanh(),
                  Linear(5, 3, "xavier", rng, f64), BatchNorm(3, dtype=f64)]
    net = Network(layers, losses.SoftmaxCrossEntropy(), (36,))
    for layer in net.layers:
        if "bias" in layer.params:
            layer.params["bias"][:] = rng.normal(0, 0.5, layer.params["bias"].shape)
    for bn in (layer for layer in net.layers if isinstance(layer, BatchNorm)):
        bn.running_mean[:] = rng.normal(0, 1, bn.features)
        bn.running_var[:] = rng.uniform(0.3, 3, bn.features)
        bn.params["weight"][:] = rng.uniform(0.5, 1.5, bn.features)
        bn.params["bias"][:] = rng.normal(0, 0.5, bn.features)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    x = rng.standard_normal((7, 36))
    folded = fold_batchnorm(net.train(False))
    assert not any(isinstance(layer, BatchNorm) for layer in folded.layers)
    assert len(folded.layers) == len(net.layers) - 2
    np.testing.assert_allclose(folded.predict_proba(x), net.predict_proba(x), rtol=1e-10, atol=1e-12)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_for_inference_pools_before_rectifying_with_the_same_outputs():
    """for_inference: BatchNorm folded, Dropout gone, each ReLU that came before a
    MaxPool2D after it; exactly the same outputs, the original untouched."""
    from digitnet.nn.network import for_inference
    from digitnet.nn.regularization import BatchNorm, Dropout

    rng = np.random.default_rng(13)
    f64 = np.float64
    layers = [Reshape((1, 8, 8)), Conv2D(1, 3, 3, 1, 1, rng=rng, dtype=f64), BatchNorm(3, dtype=f64),
              ReLU(), MaxPool2D(2), Conv2D(3, 4, 3, 1, 1, rng=rng, dtype=f64), ReLU(), MaxPool2D(2),
              Flatten(), Linear(16, 6, "he", rng, f64), ReLU(), Dropout(0.5, rng=rng),
              Linear(6, 3, "xavier", rng, f64)]
    net = Network(layers, losses.SoftmaxCrossEntropy(), (64,))
    for layer in net.layers:
        if "bias" in layer.params:
            layer.params["bias"][:] = rng.normal(0, 0.5, layer.params["bias"].shape)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    x = rng.standard_normal((9, 64))
    fast = for_inference(net)
    names = [type(layer).__name__ for layer in fast.layers]
    assert names == ["Reshape", "Conv2D", "MaxPool2D", "ReLU", "Conv2D", "MaxPool2D", "ReLU",
                     "Flatten", "Linear", "ReLU", "Linear"]
    np.testing.assert_allclose(fast.predict_proba(x), net.predict_proba(x), rtol=1e-12, atol=1e-15)
    assert [type(layer).__name__ for layer in net.layers][3:5] == ["ReLU", "MaxPool2D"]
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_for_inference_rearranges_each_member_of_an_ensemble_and_keeps_its_shortcut():
    # `digitnet read` and the server's /api/read classify with for_inference(model)
    from digitnet.nn.ensemble import Ensemble
    from digitnet.nn.network import for_inference
    from digitnet.nn.regularization import BatchNorm

    rng = np.random.default_rng(14)
    members = [Network([Reshape((1, 6, 6)), Conv2D(1, 2, 3, 1, 1, rng=rng, dtype=np.float64),
                        BatchNorm(2, dtype=np.float64), ReLU(), MaxPool2D(2), Flatten(),
                        Linear(18, 4, "he", rng, np.float64)], losses.SoftmaxCrossEntropy(), (36,))
               for _ in range(2)]
    ensemble = Ensemble(members, shortcut=0.7)
    fast = for_inference(ensemble)
    assert isinstance(fast, Ensemble) and fast.shortcut == 0.7 and len(fast.members) == 2
    assert not any(isinstance(layer, BatchNorm) for m in fast.members for layer in m.layers)
    assert all(any(isinstance(layer, BatchNorm) for layer in m.layers) for m in members)  # untouched
    x = rng.standard_normal((7, 36))
    np.testing.assert_allclose(fast.predict_proba(x), ensemble.predict_proba(x), rtol=1e-12, atol=1e-15)


def test_batchnorm_eval_mode_uses_running_statistics(tmp_path):
    from digitnet.nn.regularization import BatchNorm

    bn = BatchNorm(3, momentum=1.0)
    x = np.random.default_rng(0).normal(5.0, 2.0, (1000, 3)).astype(np.float32)
    bn.training = True
    out = bn.forward(x)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-4)
    bn.training = False
    np.testing.assert_allclose(bn.forward(x), out, atol=1e-2)
    net = Network([Linear(3, 3, rng=np.random.default_rng(0)), bn], losses.SoftmaxCrossEntropy(), (3,))
    save_model(tmp_path / "bn.npz", net)
    np.testing.assert_array_equal(load_model(tmp_path / "bn.npz").layers[1].running_mean, bn.running_mean)


def test_batchnorm_running_statistics_follow_pytorchs_rule():
    """running -> (1 - momentum) running + momentum batch, the variance unbiased
    (divided by m - 1): per feature for (n, features), per channel for images."""
    from digitnet.nn.regularization import BatchNorm

    rng = np.random.default_rng(4)
    for shape, axes in [((5, 3), (0,)), ((4, 3, 2, 2), (0, 2, 3))]:
        bn = BatchNorm(3, momentum=0.1, dtype=np.float64)
        mean, var = np.zeros(3), np.ones(3)
        for _ in range(3):
            x = rng.normal(2.0, 3.0, shape)
            bn.forward(x)
            mean = 0.9 * mean + 0.1 * x.mean(axis=axes)
            var = 0.9 * var + 0.1 * x.var(axis=axes, ddof=1)
        np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, var, rtol=1e-12)


def test_early_stopping_restores_the_best_validation_weights(tiny_mnist):
    from digitnet import fit
    from digitnet.data import mnist
    from digitnet.nn import mlp
    from digitnet.train import EarlyStopping

    data = mnist.load("mnist", tiny_mnist)
    net = mlp([784, 16, 10], "relu", "ce", rng=0)
    stopper = EarlyStopping(patience=2)
    history = fit(net, data.train.x, data.train.y, epochs=30, batch_size=50, lr=2.0, rng=0,
                  validation=(data.validation.x, data.validation.y), callbacks=[stopper])
    best = max(r.correct for r in history.epochs)
    assert len(history.epochs) < 30 and stopper.best_epoch < len(history.epochs) - 1
    assert int((net.predict(data.validation.x) == data.validation.y).sum()) == best


def test_training_backward_stops_at_the_first_layer_with_parameters():
    """A CNN starts with Reshape: training needs no dC/dx of the image (col2im of the
    first convolution is skipped), and the parameter gradients are unchanged."""
    from digitnet.nn.functional import one_hot
    from digitnet.recipes import build_network

    settings = dict(model="cnn", channels=[2, 3], hidden=5, activation="relu", cost="ce",
                    init="he")
    net = build_network(settings, np.random.default_rng(0), dtype=np.float64)
    x = np.random.default_rng(1).random((4, 784))
    y = one_hot(np.arange(4), 10)
    net.forward(x)
    _, delta = net.loss(net.forward(x), y)
    dx = net.backward(delta, input_grad=True)
    assert dx.shape == (4, 784)
    full = [g.copy() for _, g in net.parameters()]
    assert net.backward(delta, input_grad=False) is None
    for (_, g), expected in zip(net.parameters(), full):
        np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_cnn_inference_runs_in_small_batches():
    """Regression: three CNNs evaluated on 10,000 images at once held 14 GB of patch rows."""
    from digitnet.recipes import build_network

    net = build_network(dict(model="cnn", channels=[2, 3], hidden=5, activation="relu", cost="ce",
                             init="he"), np.random.default_rng(0))
    seen = []
    forward = net.forward
    net.forward = lambda x: seen.append(len(x)) or forward(x)
    p = net.predict_proba(np.zeros((300, 784), np.float32))
    assert p.shape == (300, 10) and seen == [128, 128, 44]


def test_cnn_inference_memory_stays_bounded():
    """Regression: a three-stage CNN predicting 300 images at once peaked at 230 MB (the
    patch rows and activations of 300 images), now those of at most 128: 131 MB."""
    import tracemalloc

    from digitnet.recipes import build_network

    net = build_network(dict(model="cnn", channels=[32, 64, 128], hidden=128, batchnorm=True,
                             activation="relu", cost="ce", init="he"), np.random.default_rng(0))
    x = np.zeros((300, 784), np.float32)
    tracemalloc.start()
    try:
        net.predict_proba(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 160e6, f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("k, s", [(1, 1), (2, 2), (3, 1), (3, 2), (5, 3), (4, 1)])
def test_patches_are_sliding_windows(k, s):
    from numpy.lib.stride_tricks import sliding_window_view

    from digitnet.nn.conv import _patches

    xh = np.random.default_rng(k * 10 + s).standard_normal((2, 9, 11, 3))
    expected = sliding_window_view(xh, (k, k), axis=(1, 2))[:, ::s, ::s].transpose(0, 1, 2, 4, 5, 3)
    np.testing.assert_array_equal(_patches(xh, k, s), expected)
