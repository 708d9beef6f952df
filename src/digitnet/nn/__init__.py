"""digitnet.nn: a small neural-network library written from scratch in NumPy.

It knows nothing of MNIST, files or terminals. Batch-first: inputs are
(n_samples, n_features) arrays.
"""

from . import functional, gradcheck, init, layers, losses, optim
from .layers import Identity, Layer, Linear, ReLU, Sigmoid, Softmax, Tanh
from .losses import BinaryCrossEntropy, QuadraticCost, SoftmaxCrossEntropy
from .network import Network, accuracy, mlp
from .optim import SGD
from .perceptron import NAND, Perceptron, add_bits, nand, step

__all__ = [
    "functional", "gradcheck", "init", "layers", "losses", "optim",
    "Layer", "Linear", "Sigmoid", "Tanh", "ReLU", "Softmax", "Identity",
    "QuadraticCost", "BinaryCrossEntropy", "SoftmaxCrossEntropy",
    "Network", "mlp", "accuracy", "SGD",
    "Perceptron", "NAND", "nand", "add_bits", "step",
]
