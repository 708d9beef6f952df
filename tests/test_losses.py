"""The costs' gradients for targets whose rows do not sum to 1 (soft, multi-label or
empty rows): checked against central differences in float64 and PyTorch's autograd."""

import numpy as np
import pytest

from digitnet.nn import gradcheck, losses

ROW_SUMS = [2.0, 0.5, 0.0]


def targets(row_sum, m=4, k=5, seed=0):
    """Non-negative targets, each row summing to ``row_sum``."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(k), size=m) * row_sum


def logits(m=4, k=5, seed=1):
    return np.random.default_rng(seed).normal(size=(m, k)) * 3


@pytest.mark.parametrize("row_sum", ROW_SUMS)
def test_softmax_cross_entropy_gradient_matches_central_differences(row_sum):
    z, y = logits(), targets(row_sum)
    loss = losses.SoftmaxCrossEntropy()
    _, delta = loss(z, y)
    numerical = gradcheck.numerical_gradient(lambda: loss(z, y)[0], z)
    assert gradcheck.relative_error(delta, numerical) < 1e-7


@pytest.mark.parametrize("row_sum", ROW_SUMS)
def test_softmax_cross_entropy_matches_pytorch_autograd(row_sum):
    torch = pytest.importorskip("torch")
    z, y = logits(), targets(row_sum)
    cost, delta = losses.SoftmaxCrossEntropy()(z, y)
    tz = torch.tensor(z, requires_grad=True)
    theirs = -(torch.tensor(y) * torch.log_softmax(tz, dim=1)).sum(dim=1).mean()
    theirs.backward()
    assert cost == pytest.approx(theirs.item(), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(delta, tz.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_one_hot_targets_give_softmax_minus_y_bitwise():
    """Rows summing to exactly 1 keep the a - y of before, bit for bit, in float32."""
    z = logits(8, 10).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(8) % 10]
    _, delta = losses.SoftmaxCrossEntropy()(z, y)
    shifted = z - z.max(axis=1, keepdims=True)
    expected = np.exp(shifted)
    expected /= expected.sum(axis=1, keepdims=True)
    expected -= y
    expected *= 1.0 / len(z)
    np.testing.assert_array_equal(delta, expected)


@pytest.mark.parametrize("row_sum", ROW_SUMS)
def test_a_softmax_network_backpropagates_any_targets(row_sum):
    from digitnet.nn import mlp

    net = mlp([4, 6, 5], "tanh", "ce", init="xavier", rng=3, dtype=np.float64)
    x = np.random.default_rng(4).standard_normal((4, 4))
    assert gradcheck.check_network(net, x, targets(row_sum)) < 1e-6
