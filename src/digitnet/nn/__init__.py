"""digitnet.nn: a small neural-network library written from scratch in NumPy.

It knows nothing of MNIST, files or terminals. Batch-first: inputs are
(n_samples, n_features) arrays.
"""

# conv and regularization are imported so that their layers are registered for
# Network.from_config (a model file may hold them).
from . import averaging, conv, functional, gradcheck, init, layers, losses, optim, regularization, schedules
from .averaging import WeightAverage, update_batchnorm
from .conv import Columns, Conv2D, Flatten, MaxPool2D, Reshape
from .ensemble import Ensemble
from .layers import Identity, Layer, Linear, ReLU, Sigmoid, Softmax, Tanh
from .losses import BinaryCrossEntropy, QuadraticCost, SoftmaxCrossEntropy
from .network import Network, accuracy, mlp
from .optim import SGD, Adam, clip_grad_norm
from .perceptron import NAND, Perceptron, add_bits, nand, step
from .regularization import BatchNorm, Dropout

__all__ = [
    "functional", "gradcheck", "init", "layers", "losses", "optim", "schedules", "conv",
    "regularization", "averaging",
    "Layer", "Linear", "Sigmoid", "Tanh", "ReLU", "Softmax", "Identity",
    "Conv2D", "MaxPool2D", "Flatten", "Reshape", "Columns", "Dropout", "BatchNorm", "Ensemble",
    "WeightAverage", "update_batchnorm",
    "QuadraticCost", "BinaryCrossEntropy", "SoftmaxCrossEntropy",
    "Network", "mlp", "accuracy", "SGD", "Adam", "clip_grad_norm",
    "Perceptron", "NAND", "nand", "add_bits", "step",
]
