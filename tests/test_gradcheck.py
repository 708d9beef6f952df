"""Backpropagation against central differences, in float64, for every activation,
cost and layer, in networks of several depths."""

import numpy as np
import pytest

from digitnet.nn import Identity, Linear, Network, Softmax, gradcheck, losses, mlp
from digitnet.nn.functional import one_hot

TOLERANCE = 1e-6


def batch(n_in, n_out, m=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, n_in))
    y = one_hot(rng.integers(0, n_out, m), n_out, np.float64)
    return x, y


@pytest.mark.parametrize("sizes", [[4, 3], [5, 4, 3], [6, 5, 4, 3], [4, 7, 6, 5, 3]])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("cost,output", [("quadratic", "sigmoid"), ("quadratic", "tanh"),
                                         ("quadratic", "identity"), ("bce", None), ("ce", None)])
def test_backprop_matches_finite_differences(sizes, activation, cost, output):
    net = mlp(sizes, activation, cost, output, init="xavier", rng=1, dtype=np.float64)
    x, y = batch(sizes[0], sizes[-1])
    if activation == "relu":
        x = x + 0.01  # any input; a pre-activation within eps of ReLU's kink would fail the check
    assert gradcheck.check_network(net, x, y) < TOLERANCE


@pytest.mark.parametrize("init", ["normal", "xavier", "he"])
def test_gradients_with_every_initialisation(init):
    net = mlp([5, 4, 3], "sigmoid", "quadratic", init=init, rng=2, dtype=np.float64)
    assert gradcheck.check_network(net, *batch(5, 3)) < TOLERANCE


def test_softmax_layer_with_quadratic_cost_on_identity_output():
    """The standalone Softmax layer's Jacobian product, checked in a network."""
    rng = np.random.default_rng(3)
    layers = [Linear(4, 3, "xavier", rng, np.float64), Softmax(), Identity()]
    net = Network(layers, losses.QuadraticCost("identity"), (4,))
    assert gradcheck.check_network(net, *batch(4, 3)) < TOLERANCE


def test_gradient_check_catches_a_wrong_gradient():
    net = mlp([4, 3, 2], "sigmoid", "quadratic", rng=4, dtype=np.float64)
    layer = net.layers[1]
    original = layer.backward
    layer.backward = lambda grad: original(grad) * 1.01
    assert gradcheck.check_network(net, *batch(4, 2)) > 1e-4


def test_gradient_check_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        gradcheck.check_network(mlp([2, 2]), *batch(2, 2))


def test_relu_never_overwrites_the_callers_input():
    """Regression: in-place ReLU must only reuse arrays a layer made itself."""
    from digitnet.nn import ReLU

    net = Network([ReLU(), Linear(3, 2, "xavier", np.random.default_rng(0), np.float64)],
                  losses.SoftmaxCrossEntropy(), (3,))
    x = np.array([[-1.0, 2.0, -3.0]])
    net.forward(x)
    np.testing.assert_array_equal(x, [[-1.0, 2.0, -3.0]])
    assert not net.layers[0].inplace
    assert mlp([4, 3, 2], "relu", "ce").layers[1].inplace
