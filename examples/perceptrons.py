"""Perceptrons, as tutorial 1 introduces them.

    python examples/perceptrons.py
"""

import itertools

import numpy as np

from digitnet import fit
from digitnet.nn import Perceptron, add_bits, mlp, nand

bits = list(itertools.product([0, 1], repeat=2))

print("A NAND gate is one perceptron: weights -2, -2 and bias 3.")
for x1, x2 in bits:
    print(f"  NAND({x1}, {x2}) = {nand(x1, x2)}")

print("\nNAND is universal: an adder built only from NAND perceptrons.")
for x1, x2 in bits:
    total, carry = add_bits(x1, x2)
    print(f"  {x1} + {x2} = sum {total}, carry {carry}")

print("\nThe perceptron learning rule finds weights for AND ...")
p = Perceptron.zeros(2)
print(f"  converged: {p.fit(bits, [0, 0, 0, 1])}, weights {p.weights}, bias {p.bias}")

print("... but no single perceptron can compute XOR (it is not linearly separable).")
p = Perceptron.zeros(2)
print(f"  converged after 1000 epochs: {p.fit(bits, [0, 1, 1, 0], max_epochs=1000)}")

print("\nA small sigmoid network [2, 4, 2] learns XOR by gradient descent.")
x, labels = np.array(bits, dtype=np.float64), np.array([0, 1, 1, 0])
net = mlp([2, 4, 2], "sigmoid", "ce", init="xavier", rng=0, dtype=np.float64)
fit(net, np.repeat(x, 25, axis=0), np.repeat(labels, 25), epochs=200, batch_size=10, lr=1.0, rng=0)
for (x1, x2), digit in zip(bits, net.predict(x)):
    print(f"  XOR({x1}, {x2}) = {digit}")
