"""The CTC cost (nn.ctc): worked examples, float64 gradient checks, PyTorch cross-check,
decoding; and the per-column layer ``Columns`` it is used with."""

import itertools

import numpy as np
import pytest

from digitnet.nn import Linear, Network, ReLU, gradcheck, losses
from digitnet.nn.conv import Columns, Conv2D
from digitnet.nn.ctc import CTCCost, best_path, ctc_loss, log_probability
from digitnet.nn.functional import softmax


def brute_force(logits, label, blank):
    """P(label | input) summed over every path (C^T of them) that collapses to it."""
    y = softmax(logits)
    total = 0.0
    for path in itertools.product(range(logits.shape[1]), repeat=len(logits)):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(label):
            total += np.prod(y[np.arange(len(path)), path])
    return total


def test_a_worked_example_by_hand():
    # two steps, classes blank (0) and "a" (1), each with probability 1/2 at each step:
    # "a" comes from the paths aa, a-, -a: P = 3/4; "" from -- only: 1/4; "aa" from none
    logits = np.zeros((1, 2, 2))
    assert np.isclose(ctc_loss(logits, [[1]])[0][0], -np.log(0.75))
    assert np.isclose(ctc_loss(logits, np.zeros((1, 1), int), label_lengths=[0])[0][0], -np.log(0.25))
    assert ctc_loss(logits, [[1, 1]])[0][0] == np.inf


@pytest.mark.parametrize("label", [[1], [1, 2], [2, 2], [1, 2, 1], []])
def test_probability_is_the_sum_over_every_path(label):
    rng = np.random.default_rng(len(label))
    logits = rng.standard_normal((5, 3))
    assert np.isclose(np.exp(log_probability(logits, [label])[0]), brute_force(logits, label, 0))


def test_gradient_matches_finite_differences_with_ragged_lengths():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 7, 4))
    labels = np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0], [0, 0, 0]])
    steps, lengths = np.array([7, 5, 3, 6]), np.array([3, 2, 1, 0])

    def total():
        return ctc_loss(logits, labels, steps, lengths, blank=0, gradient=False)[0].sum()

    _, grad = ctc_loss(logits, labels, steps, lengths, blank=0)
    assert gradcheck.relative_error(grad, gradcheck.numerical_gradient(total, logits)) < 1e-7
    assert not grad[1, 5:].any() and not grad[2, 3:].any()  # beyond each input's length


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    n, t, c = 5, 12, 6
    logits = rng.standard_normal((n, t, c)) * 2
    labels = rng.integers(0, c - 1, (n, 4))
    labels[0, 1] = labels[0, 0]  # a repeat needs a blank between
    steps, lengths = np.array([12, 10, 8, 12, 4]), np.array([4, 3, 2, 0, 1])
    loss, grad = ctc_loss(logits, labels, steps, lengths, blank=c - 1)
    z = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.ctc_loss(
        torch.log_softmax(z, 2).transpose(0, 1), torch.tensor(labels), torch.tensor(steps),
        torch.tensor(lengths), blank=c - 1, reduction="none")
    expected.sum().backward()
    assert np.allclose(loss, expected.detach().numpy())
    assert np.allclose(grad, z.grad.numpy(), atol=1e-10)


def test_a_label_too_long_for_its_input_costs_inf_and_no_gradient():
    logits = np.random.default_rng(2).standard_normal((1, 3, 3))
    loss, grad = ctc_loss(logits, [[1, 1, 2]])  # needs four steps: 1 - 1 2
    assert loss[0] == np.inf and not grad.any()


def test_bad_arguments_are_refused():
    logits = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match="blank"):
        ctc_loss(logits, [[1], [1]], blank=3)
    with pytest.raises(ValueError, match="input lengths"):
        ctc_loss(logits, [[1], [1]], input_lengths=[5, 4])
    with pytest.raises(ValueError, match="label lengths"):
        ctc_loss(logits, [[1], [1]], label_lengths=[2, 1])


def test_best_path_collapses_repeats_and_drops_blanks():
    path = [0, 1, 1, 0, 1, 2, 2, 0]  # - a a - a b b -  ->  a a b
    logits = np.eye(3)[path][None] * 5
    assert best_path(logits, blank=0) == [[1, 1, 2]]
    assert best_path(logits, input_lengths=[3], blank=0) == [[1]]


def test_log_probability_of_several_strings_ranks_the_best_path_first():
    logits = np.eye(3)[[1, 0, 2, 2]] * 4
    lp = log_probability(logits, [[1, 2], [1], [2, 1], [1, 1, 1]])  # the last needs 5 steps
    assert lp.argmax() == 0 and lp[3] == -np.inf


def test_columns_layer_and_ctc_cost_gradients():
    rng = np.random.default_rng(3)
    layers = [Conv2D(1, 2, 3, 1, 1, rng=rng, dtype=np.float64), ReLU(), Columns(),
              Linear(2 * 4, 5, "he", rng, np.float64)]
    net = Network(layers, losses.QuadraticCost("identity"), (1, 4, 6))
    net.loss = CTCCost(blank=4)
    x = rng.standard_normal((3, 1, 4, 6)) + 0.05
    y = np.array([[0, 1, -1], [2, 2, 3], [-1, -1, -1]])
    assert net.forward(x).shape == (3 * 6, 5)
    assert gradcheck.check_network(net, x, y) < 1e-6


def test_columns_keeps_each_images_columns_in_order():
    x = np.arange(2 * 3 * 2 * 4, dtype=float).reshape(2, 3, 2, 4)
    rows = Columns().forward(x)
    assert rows.shape == (8, 6)
    assert np.array_equal(rows[5], x[1, :, :, 1].ravel())  # image 1, column 1
