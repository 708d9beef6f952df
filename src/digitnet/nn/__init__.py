"""digitnet.nn: a small neural-network library written from scratch in NumPy.

It knows nothing of MNIST, files or terminals. Batch-first: inputs are
(n_samples, n_features) arrays.
"""

# conv and regularization are imported so that their layers are registered for
# Network.from_config (a model file may hold them).
from . import conv, functional, gradcheck, init, layers, losses, optim, regularization
from .layers import Identity, Layer, Linear, ReLU, Sigmoid, Softmax, Tanh
from .losses import BinaryCrossEntropy, QuadraticCost, SoftmaxCrossEntropy
from .network import Network, accuracy, mlp
from .optim import SGD
from .perceptron import NAND, Perceptron, add_bits, nand, step

__all__ = [
    "functional", "gradcheck", "init", "layers", "losses", "optim", "conv", "regularization",
    "Layer", "Linear", "Sigmoid", "Tanh", "ReLU", "Softmax", "Identity",
    "QuadraticCost", "BinaryCrossEntropy", "SoftmaxCrossEntropy",
    "Network", "mlp", "accuracy", "SGD",
    "Perceptron", "NAND", "nand", "add_bits", "step",
]
