"""Training: mini-batch stochastic gradient descent over epochs, with evaluation.

No printing here: progress reaches the caller through callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .nn.ensemble import Ensemble
    from .nn.network import Network

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import TrainingDiverged
from .nn.averaging import WeightAverage, update_batchnorm
from .nn.functional import one_hot
from .nn.network import accuracy
from .nn.optim import SGD, clip_grad_norm
from .nn.regularization import BatchNorm


@dataclass
class EpochResult:
    """What one epoch did. ``correct``/``total`` count the monitored split
    (validation by default), as in the tutorials' ``Epoch 0: 9032 / 10000``."""

    epoch: int
    loss: float
    correct: int
    total: int
    seconds: float
    split: str = "validation"

    @property
    def accuracy(self):
        return self.correct / self.total if self.total else float("nan")

    def as_dict(self):
        return {**asdict(self), "accuracy": self.accuracy}


@dataclass
class Position:
    """Where training stands: ``batch`` mini-batches of ``epoch`` are done.

    ``loss_sum`` is the cost summed over those batches, and ``epoch_rng_state`` the
    state of the shuffling generator when the epoch began, from which its order of
    examples is drawn again on resume. At an epoch boundary ``batch`` is 0."""

    epoch: int
    batch: int = 0
    loss_sum: float = 0.0
    epoch_rng_state: dict | None = None
    seconds: float = 0.0


@dataclass
class History:
    epochs: list = field(default_factory=list)
    #: Set when a callback stopped training in the middle of an epoch.
    stopped: Position | None = None

    @property
    def best(self):
        return max(self.epochs, key=lambda r: r.accuracy, default=None)


class Callback:
    """Hooks called by ``fit``. Return True from ``on_epoch_end`` to stop training, or
    from ``on_batch_end`` to stop at once (``History.stopped`` then says where, and
    ``fit(..., resume=history.stopped)`` continues exactly)."""

    def on_epoch_begin(self, epoch, n_batches):
        pass

    def on_batch_end(self, epoch, batch, loss):
        pass

    def on_epoch_end(self, result, network):
        return False


class EarlyStopping(Callback):
    """Stop when validation accuracy has not improved for ``patience`` epochs, and
    put back the weights of the best epoch (chosen on validation, never on test)."""

    def __init__(self, patience=5, restore_best=True):
        self.patience, self.restore_best = patience, restore_best
        self.best, self.best_epoch, self.best_state = -1.0, None, None

    def on_epoch_end(self, result, network):
        if result.accuracy > self.best:
            self.best, self.best_epoch = result.accuracy, result.epoch
            self.best_state = {k: v.copy() for k, v in network.state_dict().items()}
            return False
        if result.epoch - self.best_epoch >= self.patience:
            if self.restore_best:
                network.load_state_dict(self.best_state)
            return True
        return False

    def on_train_end(self, network):
        if self.restore_best and self.best_state is not None:
            network.load_state_dict(self.best_state)


class AverageWeights(Callback):
    """Stochastic weight averaging: from epoch ``start`` on, add the weights at the end
    of every epoch to a running mean (``nn.averaging.WeightAverage``); when training
    ends, give the network that mean and gather its batch-normalisation statistics
    again over ``x``, the training inputs. Train at a constant (or cyclic) learning
    rate meanwhile: a rate that decays to zero leaves little to average."""

    def __init__(self, network, x, start=0):
        self.average = WeightAverage(network)
        self.x, self.start = x, start

    def on_epoch_end(self, result, network):
        if result.epoch >= self.start:
            self.average.update()
        return False

    def on_train_end(self, network):
        if self.average.count:
            self.average.copy_to(network)
            update_batchnorm(network, np.asarray(self.x, dtype=network.dtype))

    def state(self):
        return self.average.state()

    def load_state(self, state):
        self.average.load_state(state)


def evaluate(network: Network | Ensemble, x: np.ndarray, labels: np.ndarray) -> int:
    """Number of correctly classified examples (``nn.network.accuracy``)."""
    return accuracy(network, x, labels)


def fit(network: Network, x: np.ndarray, labels: np.ndarray, *, epochs: int = 30,
        batch_size: int = 10, lr: float = 3.0, optimizer=None,
        rng: np.random.Generator | int | None = None,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        split_name: str = "validation", callbacks: Sequence[Callback] = (),
        start_epoch: int = 0, resume: Position | None = None,
        augment: Callable | None = None, schedule: Callable[[float], float] | None = None,
        clip: float | None = None) -> History:
    """Train ``network`` by mini-batch SGD.

    Parameters
    ----------
    network : digitnet.nn.Network
    x : ndarray, shape (n, *network.input_shape)
        Training inputs, converted once to the network's dtype.
    labels : ndarray of int, shape (n,)
        Class indices; turned into one-hot targets y(x).
    epochs, batch_size : int
        Passes over the data, and the mini-batch size m.
    lr : float
        The learning rate eta, for the default optimizer ``SGD``.
    optimizer : object with ``step()``, optional
    rng : numpy.random.Generator or int seed, optional
        Shuffles the training data each epoch.
    validation : (x, labels), optional
        Evaluated after every epoch (never pass the test set here to choose a model).
    callbacks : list of Callback
    augment : callable (x_batch, rng) -> x_batch, optional
        Random transformation of each training mini-batch (``data.augment.Augment``).
    schedule : callable epoch -> factor, optional
        Learning-rate schedule (``nn.schedules``): before each mini-batch the
        optimizer's ``lr`` is set to ``lr * schedule(epoch + batch / n_batches)``.
    clip : float, optional
        Clip the gradients' joint L2 norm to this before each step.
    resume : Position, optional
        Continue from where an earlier run stopped (a checkpoint's position, or
        ``History.stopped``). ``network``, ``optimizer`` and ``rng`` must be in the
        state they had then (``digitnet.checkpoint`` restores them); the result is
        then bitwise identical to a run that was never stopped.

    Returns
    -------
    History
        One ``EpochResult`` per epoch.

    Raises
    ------
    TrainingDiverged
        If the cost becomes NaN or infinite.
    """
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"invalid epochs {epochs} or batch size {batch_size}")
    if validation is None and any(isinstance(cb, EarlyStopping) for cb in callbacks):
        raise ValueError("early stopping watches validation accuracy: pass validation=(x, labels)")
    rng = np.random.default_rng(rng)
    dtype = network.dtype
    x = np.ascontiguousarray(x, dtype=dtype)
    labels = np.asarray(labels)
    n_classes = network.n_outputs
    targets = one_hot(labels, n_classes, dtype)
    optimizer = optimizer or SGD(network.parameters(), lr)
    history = History()
    resume = resume or Position(start_epoch)
    # Overflow is detected below by checking the cost and weights, and reported as
    # TrainingDiverged, so NumPy's own warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), blas_threads(network, batch_size):
        _run_epochs(network, x, labels, targets, optimizer, rng, validation, split_name,
                    callbacks, history, resume, epochs, batch_size, lr, augment, schedule, clip)
    if history.stopped is None:
        for cb in callbacks:
            if hasattr(cb, "on_train_end"):
                cb.on_train_end(network)
    return history


#: Dense mini-batches up to this size train on one BLAS thread (``blas_threads``).
SINGLE_THREAD_BATCH = 64


def blas_threads(network, batch_size):
    """Run dense networks' small mini-batches on one BLAS thread.

    A [784, 128, 64, 10] step at mini-batch 32 multiplies matrices so small that a
    second BLAS thread saves almost nothing (0.404 against 0.414 s per epoch, quiet),
    and when another program also keeps the cores busy, spinning BLAS threads slow
    each other down many times over (see BENCHMARKS.md). From mini-batch 128 up the
    second thread pays (0.223 against 0.310 s per epoch), and convolutions always keep
    every thread. Needs threadpoolctl; without it nothing changes."""
    small = batch_size <= SINGLE_THREAD_BATCH and not network.convolutional
    if small:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            small = False
    return threadpool_limits(1, user_api="blas") if small else contextlib.nullcontext()


def _shuffle(rng, n, epoch, resume):
    """This epoch's order of examples, and the state of ``rng`` when it was drawn."""
    if epoch == resume.epoch and resume.batch:
        now = rng.bit_generator.state
        rng.bit_generator.state = resume.epoch_rng_state
        order = rng.permutation(n)
        rng.bit_generator.state = now
        return order, resume.epoch_rng_state
    state = rng.bit_generator.state
    return rng.permutation(n), state


def _normalises_features(network):
    """Whether a BatchNorm of the network normalises features, not channels: in a
    mini-batch of one example it would see one value per feature (a channel of an
    image has h x w values even then)."""
    shape = network.input_shape
    for layer in network.layers:
        if isinstance(layer, BatchNorm) and len(shape) == 1:
            return True
        shape = layer.output_shape(shape)
    return False


def _run_epochs(network, x, labels, targets, optimizer, rng, validation, split_name,
                callbacks, history, resume, epochs, batch_size, lr, augment, schedule, clip):
    n = len(x)
    n_batches = math.ceil(n / batch_size)
    if n % batch_size == 1 and n > 1 and _normalises_features(network):
        n_batches -= 1  # a last mini-batch of one example has no statistics per feature
    for epoch in range(resume.epoch, epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, n_batches)
        start = time.perf_counter()
        network.train(True)
        order, epoch_rng_state = _shuffle(rng, n, epoch, resume)
        first, total_cost, earlier = 0, 0.0, 0.0
        if epoch == resume.epoch:
            first, total_cost, earlier = resume.batch, resume.loss_sum, resume.seconds
        for b in range(first, n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            inputs = x[idx] if augment is None else augment(x[idx], rng)
            if schedule is not None:
                optimizer.lr = lr * schedule(epoch + b / n_batches)
            cost = network.loss_and_gradients(inputs, targets[idx])
            if not math.isfinite(cost):
                raise TrainingDiverged(
                    f"the cost became {cost} in epoch {epoch}, batch {b}: the learning rate "
                    f"{getattr(optimizer, 'lr', lr)} is probably too large; try a smaller one")
            if clip is not None:
                clip_grad_norm(network.parameters(), clip)
            optimizer.step()
            total_cost += cost * len(idx)
            stop = False
            for cb in callbacks:
                stop = bool(cb.on_batch_end(epoch, b, cost)) or stop
            if stop:
                history.stopped = Position(epoch, b + 1, total_cost, epoch_rng_state,
                                           earlier + time.perf_counter() - start)
                return
        network.train(False)
        for param, _ in network.parameters():
            if not np.isfinite(param).all():
                raise TrainingDiverged(f"weights became NaN or infinite in epoch {epoch}; "
                                       "try a smaller learning rate")
        correct, total = 0, 0
        if validation is not None:
            correct, total = evaluate(network, *validation), len(validation[1])
        result = EpochResult(epoch, total_cost / min(n, n_batches * batch_size), correct, total,
                             earlier + time.perf_counter() - start, split_name)
        history.epochs.append(result)
        stop = False
        for cb in callbacks:
            stop = bool(cb.on_epoch_end(result, network)) or stop
        if stop:
            break
