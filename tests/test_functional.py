import numpy as np
import pytest

from digitnet.nn import functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_for_huge_inputs(dtype):
    z = np.array([[-1000.0, -710.0, -30.0, 0.0, 30.0, 710.0, 1000.0]], dtype=dtype)
    a = F.sigmoid(z)  # warnings are errors in this suite: an overflow would fail here
    assert a.dtype == dtype
    assert a[0, 0] == 0.0 and a[0, -1] == 1.0 and a[0, 3] == 0.5
    assert np.all(np.diff(a) >= 0)


def test_sigmoid_matches_the_textbook_formula():
    z = np.linspace(-20, 20, 101)
    np.testing.assert_allclose(F.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14, atol=1e-16)


def test_softmax_is_stable_and_normalised():
    z = np.array([[1000.0, 1000.0, -1000.0], [-800.0, 0.0, 800.0]])
    a = F.softmax(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(np.exp(F.log_softmax(z)), a, atol=1e-300)


def test_softmax_cross_entropy_uses_log_sum_exp():
    z = np.array([[800.0, 0.0]])
    y = np.array([[0.0, 1.0]])
    assert F.softmax_cross_entropy(z, y) == pytest.approx(800.0)


def test_binary_cross_entropy_with_logits_matches_definition():
    z = np.array([[-2.0, 0.5, 3.0]])
    y = np.array([[0.0, 1.0, 1.0]])
    a = 1 / (1 + np.exp(-z))
    expected = -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum()
    assert F.binary_cross_entropy_with_logits(z, y) == pytest.approx(expected)
    assert np.isfinite(F.binary_cross_entropy_with_logits(np.array([[1000.0]]), np.array([[0.0]])))


def test_quadratic_cost_is_half_squared_norm_averaged():
    a = np.array([[0.5, 0.0], [1.0, 1.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert F.quadratic_cost(a, y) == pytest.approx((0.5 * 0.25 + 0.5 * 1.0) / 2)


def test_relu_and_derivatives():
    z = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(F.relu(z), [[0, 0, 2]])
    np.testing.assert_array_equal(F.relu_prime(z), [[0, 0, 1]])
    a = F.tanh(z)
    np.testing.assert_allclose(F.tanh_prime_from_a(a), 1 - np.tanh(z) ** 2)


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


def test_softmax_cross_entropy_loss_matches_the_reference_formulas():
    """The loss computes cost and delta from one exp; both must equal the separate
    formulas, for huge logits and for targets that are not one-hot."""
    from digitnet.nn.losses import SoftmaxCrossEntropy

    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 10)) * 30
    z[0, 3] = 900.0
    y = rng.dirichlet(np.ones(10), size=6)
    y[1] = 0.0
    y[1, 7] = 1.0
    cost, delta = SoftmaxCrossEntropy()(z, y)
    assert cost == pytest.approx(F.softmax_cross_entropy(z, y), rel=1e-12)
    np.testing.assert_allclose(delta, (F.softmax(z) - y) / len(z), rtol=1e-12, atol=1e-15)
