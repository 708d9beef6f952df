"""Tutorial 4's worked examples, reproduced by digitnet's layers to 1e-12."""

import numpy as np
import pytest

from digitnet.nn import SGD, mlp

TOL = dict(rel=0, abs=1e-12)


def one_neuron_per_layer():
    """Input 0.8 -> L1 (w=1.58, b=-0.14) -> L2 (w=2.45, b=-0.11), sigmoid, C = (a-y)^2 / 2."""
    net = mlp([1, 1, 1], "sigmoid", "quadratic", dtype=np.float64)
    hidden, _, output = net.layers
    hidden.weight[:] = 1.58
    hidden.bias[:] = -0.14
    output.weight[:] = 2.45
    output.bias[:] = -0.11
    return net


def test_forward_pass_values():
    net = one_neuron_per_layer()
    hidden, sigmoid, output = net.layers
    x = np.array([[0.8]])
    z_l1 = hidden.forward(x)
    a_l1 = sigmoid.forward(z_l1)
    z_l2 = output.forward(a_l1)
    a_l2 = net.loss.output(z_l2)
    assert z_l1.item() == pytest.approx(1.124, **TOL)
    assert a_l1.item() == pytest.approx(0.7547299213576082, **TOL)
    assert z_l2.item() == pytest.approx(1.73908830732614, **TOL)
    assert a_l2.item() == pytest.approx(0.850571226530534, **TOL)


def test_backward_pass_update_and_cost():
    net = one_neuron_per_layer()
    hidden, _, output = net.layers
    x, y = np.array([[0.8]]), np.array([[1.0]])

    original_cost = net.loss_and_gradients(x, y)
    assert original_cost == pytest.approx(0.011164479170294499, **TOL)
    # BP1 and BP3: dC/db for L2 is delta^L = (a - y) sigma'(z)
    assert output.grads["bias"].item() == pytest.approx(-0.018992369482903983, **TOL)
    # BP4: dC/dw = a^(L-1) delta^L
    assert output.grads["weight"].item() == pytest.approx(-0.014334109526226761, **TOL)
    # BP2, first half: dC/da for L1 = w delta
    delta_l2 = np.array([[output.grads["bias"].item()]])
    assert output.backward(delta_l2).item() == pytest.approx(-0.04653130523311476, **TOL)
    assert hidden.grads["bias"].item() == pytest.approx(-0.008613534018377424, **TOL)
    assert hidden.grads["weight"].item() == pytest.approx(-0.006890827214701939, **TOL)

    SGD(net.parameters(), lr=0.1).step()
    assert output.bias.item() == pytest.approx(-0.1081007630517096, **TOL)
    assert output.weight.item() == pytest.approx(2.451433410952623, **TOL)
    assert hidden.bias.item() == pytest.approx(-0.13913864659816227, **TOL)
    assert hidden.weight.item() == pytest.approx(1.5806890827214704, **TOL)

    z_l1 = hidden.forward(x)
    assert z_l1.item() == pytest.approx(1.125412619579014, **TOL)
    assert net.layers[1].forward(z_l1).item() == pytest.approx(0.7549913210309638, **TOL)
    z_l2 = net.forward(x)
    assert z_l2.item() == pytest.approx(1.7427101863028525, **TOL)
    assert net.loss.output(z_l2).item() == pytest.approx(0.8510309824120517, **TOL)
    updated_cost = net.loss_and_gradients(x, y)
    assert updated_cost == pytest.approx(0.011095884100559231, **TOL)
    assert updated_cost < original_cost


# -- the 2-3-2 demo: digitnet against the tutorial's own column-vector code ------------

DEMO_B = [np.array([[0.54001045], [0.75958375], [0.01870296]]),
          np.array([[-0.32783478], [0.06061246]])]
DEMO_W = [np.array([[-0.11499179, 0.454649], [-0.65801895, 0.56618695],
                    [-0.15686814, -0.87499479]]),
          np.array([[0.01071228, -0.49139708, -0.81775586],
                    [-0.87455946, -0.08351883, -0.77534763]])]


def tutorial_step(w, b, inputs, y, step_size):
    """The tutorial's Network.feed_forward + propagate_backward, one example at a time."""
    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    w, b = [x.copy() for x in w], [x.copy() for x in b]
    a, zs = [np.asarray([inputs]).T], []
    for wl, bl in zip(w, b):
        zs.append(wl @ a[-1] + bl)
        a.append(sigmoid(zs[-1]))
    grad_a = a[-1] - np.asarray([y]).T
    for layer in reversed(range(len(w))):
        grad_b = sigmoid(zs[layer]) * (1 - sigmoid(zs[layer])) * grad_a
        grad_w = grad_b @ a[layer].T
        grad_a = w[layer].T @ grad_b
        b[layer] -= grad_b * step_size
        w[layer] -= grad_w * step_size
    return w, b


def test_two_three_two_demo_matches_the_tutorial_code():
    net = mlp([2, 3, 2], "sigmoid", "quadratic", dtype=np.float64)
    linears = net.layers[0::2]
    for layer, w, b in zip(linears, DEMO_W, DEMO_B):
        layer.weight[:] = w.T  # digitnet stores the transpose: z = x @ W + b
        layer.bias[:] = b.ravel()
    net.loss_and_gradients(np.array([[0.8, 0.2]]), np.array([[0.0, 1.0]]))
    SGD(net.parameters(), lr=0.1).step()

    expected_w, expected_b = tutorial_step(DEMO_W, DEMO_B, [0.8, 0.2], [0, 1], 0.1)
    for layer, w, b in zip(linears, expected_w, expected_b):
        np.testing.assert_allclose(layer.weight, w.T, rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.bias, b.ravel(), rtol=0, atol=1e-12)
        assert not np.allclose(w, [x for x in DEMO_W if x.shape == w.shape][0])


def test_mini_batch_update_is_the_average_of_single_example_gradients():
    """The tutorials' equations 20-21: w -> w - (eta/m) sum_x dC_x/dw."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 2))
    y = np.eye(2)[rng.integers(0, 2, 4)]
    net = mlp([2, 3, 2], "sigmoid", "quadratic", rng=1, dtype=np.float64)
    start = [p.copy() for p, _ in net.parameters()]
    net.loss_and_gradients(x, y)
    batch_grads = [g.copy() for _, g in net.parameters()]
    per_example = [np.zeros_like(g) for g in batch_grads]
    for i in range(4):
        net.loss_and_gradients(x[i:i + 1], y[i:i + 1])
        for total, (_, g) in zip(per_example, net.parameters()):
            total += g / 4
    for a, b in zip(batch_grads, per_example):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for (p, _), s in zip(net.parameters(), start):
        np.testing.assert_array_equal(p, s)
