"""A scikit-learn classifier backed by a digitnet network (needs scikit-learn).

>>> from digitnet.sklearn import DigitNetClassifier
>>> from sklearn.model_selection import GridSearchCV
>>> search = GridSearchCV(DigitNetClassifier(epochs=5), {"learning_rate": [0.05, 0.1]}, cv=3)
>>> search.fit(X, y).best_params_  # doctest: +SKIP
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .nn.optim import SGD
from .recipes import build_network
from .train import fit as train


class DigitNetClassifier(ClassifierMixin, BaseEstimator):
    """Fully connected network trained by mini-batch SGD, for any tabular inputs
    (MNIST's 784 pixels or anything else) and any label type.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
    activation : {"relu", "sigmoid", "tanh"}, default "relu"
    cost : {"ce", "bce", "quadratic"}, default "ce"
        Softmax + cross-entropy, sigmoid + binary cross-entropy, or the tutorials'
        quadratic cost on sigmoid outputs.
    init : {"he", "xavier", "normal"}, default "he"
    epochs : int, default 10
    batch_size : int, default 32
    learning_rate : float, default 0.1
    momentum : float, default 0.0
    weight_decay : float, default 0.0
    dropout : float, default 0.0
    random_state : int, numpy Generator or None
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", cost="ce", init="he",
                 epochs=10, batch_size=32, learning_rate=0.1, momentum=0.0, weight_decay=0.0,
                 dropout=0.0, random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.cost = cost
        self.init = init
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.random_state = random_state

    def _initialise(self, n_features):
        self._rng = np.random.default_rng(self.random_state)
        sizes = [n_features, *self.hidden_layer_sizes, len(self.classes_)]
        settings = dict(model="mlp", sizes=sizes, activation=self.activation, cost=self.cost,
                        init=self.init, dropout=self.dropout)
        self.network_ = build_network(settings, self._rng)
        self._optimizer = SGD(self.network_.parameters(), self.learning_rate, self.momentum,
                              weight_decay=self.weight_decay)

    def _labels(self, y):
        index = np.searchsorted(self.classes_, y)
        known = self.classes_[index.clip(0, len(self.classes_) - 1)]
        if np.any(index >= len(self.classes_)) or np.any(known != y):
            raise ValueError("y holds labels not seen in the first call to partial_fit")
        return index

    def fit(self, X, y):
        """Train a new network for ``epochs`` passes over (X, y)."""
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("DigitNetClassifier needs samples of at least 2 classes; got 1 class")
        self._initialise(X.shape[1])
        self._epochs(X, self._labels(y), self.epochs)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from the current weights; the first call
        needs ``classes``, the full list of labels."""
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be given in the first call to partial_fit")
            self.classes_ = np.unique(classes)
            self._initialise(X.shape[1])
        self._epochs(X, self._labels(y), 1)
        return self

    def _epochs(self, X, labels, epochs):
        history = train(self.network_, X, labels, epochs=epochs, batch_size=self.batch_size,
                        lr=self.learning_rate, optimizer=self._optimizer, rng=self._rng)
        self.loss_curve_ = getattr(self, "loss_curve_", []) + [r.loss for r in history.epochs]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self.network_.confidences(X)  # float32, the precision it was computed in

    def predict(self, X):
        """The most probable class of each sample."""
        check_is_fitted(self, "network_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
