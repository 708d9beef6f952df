import itertools

import numpy as np

from digitnet import fit
from digitnet.nn import NAND, Perceptron, add_bits, mlp, nand, step

BITS = list(itertools.product([0, 1], repeat=2))


def test_step_function():
    np.testing.assert_array_equal(step([-1.0, 0.0, 0.5]), [0, 0, 1])


def test_nand_truth_table():
    assert [nand(a, b) for a, b in BITS] == [1, 1, 1, 0]
    np.testing.assert_array_equal(NAND(np.array(BITS)), [1, 1, 1, 0])


def test_adder_built_from_nand_perceptrons():
    for x1, x2 in BITS:
        assert add_bits(x1, x2) == ((x1 + x2) % 2, (x1 + x2) // 2)


def test_perceptron_learning_rule_learns_and_or():
    for target in ([0, 0, 0, 1], [0, 1, 1, 1]):
        p = Perceptron.zeros(2)
        assert p.fit(BITS, target)
        np.testing.assert_array_equal(p(np.array(BITS)), target)


def test_one_perceptron_cannot_learn_xor():
    p = Perceptron.zeros(2)
    assert not p.fit(BITS, [0, 1, 1, 0], max_epochs=1000)
    assert (p(np.array(BITS)) != [0, 1, 1, 0]).any()


def test_a_small_sigmoid_network_learns_xor():
    x = np.array(BITS, dtype=np.float64)
    labels = np.array([0, 1, 1, 0])
    net = mlp([2, 4, 2], "sigmoid", "ce", init="xavier", rng=0, dtype=np.float64)
    fit(net, np.repeat(x, 25, axis=0), np.repeat(labels, 25), epochs=200,
        batch_size=10, lr=1.0, rng=0)
    np.testing.assert_array_equal(net.predict(x), labels)
