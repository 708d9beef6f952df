"""digitnet: read handwritten digits with a neural network written from scratch in NumPy.

>>> import digitnet
>>> net = digitnet.mlp([784, 30, 10], rng=0)           # the tutorials' network
>>> data = digitnet.load_mnist()                        # doctest: +SKIP
>>> digitnet.fit(net, data.train.x, data.train.y, epochs=30, batch_size=10, lr=3.0,
...              validation=(data.validation.x, data.validation.y))  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .data.mnist import load as load_mnist
from .errors import DataError, DigitnetError, ModelFileError, TrainingDiverged
from .io import load_model, save_model
from .nn import Network, mlp
from .train import Callback, evaluate, fit

__all__ = [
    "__version__", "mlp", "Network", "fit", "evaluate", "Callback", "load_mnist",
    "load_model", "save_model", "DigitnetError", "DataError", "ModelFileError",
    "TrainingDiverged",
]
