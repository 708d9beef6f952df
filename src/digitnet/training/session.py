"""One training run from settings, as ``digitnet train`` runs it, without the command line:
data prepared, network built (or restored from a checkpoint), trained with a checkpoint
after every epoch, tested once, saved with metadata that says how to reproduce it.

>>> from digitnet import training
>>> result = training.run(training.from_recipe("relu", {"epochs": 3}), out="relu.npz")  # doctest: +SKIP
>>> result.test_accuracy                                                                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..checkpoint import Checkpoint, Checkpointer, catch_interrupts, default_path
from ..errors import DigitnetError, ModelFileError, TrainingDiverged
from ..io import load_model, save_model
from ..recipes import build_network, build_optimizer, fit_options
from ..train import AverageWeights, Callback, EpochResult, Position, evaluate, fit
from . import settings as schema


@dataclass
class RunSpec:
    """A run: its training settings, and what a checkpoint keeps beside them."""

    settings: dict
    recipe: str = schema.RUN_DEFAULTS["recipe"]
    seed: int = schema.RUN_DEFAULTS["seed"]
    dtype: str = schema.RUN_DEFAULTS["dtype"]
    monitor: str = schema.RUN_DEFAULTS["monitor"]
    dataset: str = schema.RUN_DEFAULTS["dataset"]
    data_dir: str | None = None
    test: str | None = None
    log: str | None = None
    commands: list = field(default_factory=list)

    def document(self) -> dict:
        """The settings document of the run's checkpoint."""
        return {"recipe": self.recipe, "seed": self.seed, "dtype": self.dtype,
                "monitor": self.monitor, "data_dir": self.data_dir, "test": self.test,
                "log": self.log, "dataset": self.dataset, "training": self.settings,
                "commands": self.commands}


@dataclass
class Result:
    """What a run did. ``interrupted`` names the signal that stopped it (its checkpoint
    then holds where), else the run finished and ``validation``/``test`` count the
    digits it got right."""

    network: Any
    epochs: list[EpochResult]
    seconds: float
    validation: int | None = None
    n_validation: int = 0
    test: int | None = None
    n_test: int = 0
    interrupted: str | None = None
    where: Position | None = None

    @property
    def validation_accuracy(self) -> float | None:
        return _fraction(self.validation, self.n_validation)

    @property
    def test_accuracy(self) -> float | None:
        return _fraction(self.test, self.n_test)


def _fraction(correct: int | None, total: int) -> float | None:
    return correct / total if correct is not None and total else None


def fail(message: str):
    raise DigitnetError(message)


def where(position: Position | None) -> str:
    """A position in training, in words."""
    if position is None:
        return "no position"
    if position.batch == 0:
        return f"the start of epoch {position.epoch}"
    return f"epoch {position.epoch} after {position.batch} mini-batches"


def command_line(argv: Sequence[str] | None = None) -> str:
    """This command as a shell would take it back (paths with spaces quoted)."""
    return shlex.join(["digitnet", *(sys.argv[1:] if argv is None else argv)])


def equivalent_command(spec: RunSpec, out: str | Path) -> str:
    """The ``digitnet train`` command that makes the same run as ``spec``."""
    from ..recipes import RECIPES

    recipe = RECIPES.get(spec.recipe, {})
    argv = ["train", "--recipe", spec.recipe]
    for key in schema.OVERRIDES:
        value = spec.settings.get(key)
        if value is None or value == recipe.get(key):
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv += [flag] if value else [f"--no-{key}"]
        else:
            argv += [flag, *map(str, value if isinstance(value, list) else [value])]
    for flag, value, default in (("--seed", spec.seed, schema.RUN_DEFAULTS["seed"]),
                                 ("--dtype", spec.dtype, schema.RUN_DEFAULTS["dtype"]),
                                 ("--dataset", spec.dataset, schema.RUN_DEFAULTS["dataset"]),
                                 ("--data", spec.data_dir, None), ("--test", spec.test, None)):
        if value != default:
            argv += [flag, str(value)]
    return command_line([*argv, "--out", str(out)])


def data_fingerprint(data) -> dict:
    return {"name": data.name, "train_images": len(data.train),
            "train_sha256": hashlib.sha256(data.train.y.tobytes() + data.train.x.tobytes())
            .hexdigest()}


def environment() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "machine": platform.machine()}


def with_validation_in_training(data):
    """``data`` with its validation split moved into the training split (``full``)."""
    from ..data.mnist import Split

    if not len(data.validation):
        fail("--full: this data has no validation split to train on")
    train = Split(np.concatenate([data.train.x, data.validation.x]),
                  np.concatenate([data.train.y, data.validation.y]))
    empty = Split(data.validation.x[:0], data.validation.y[:0])
    return dataclasses.replace(data, train=train, validation=empty)


def prepare_data(data, settings: dict, explicit_sizes: bool = False):
    """The data a run trains on (``full``: validation included), and the output layer
    fitted to its classes."""
    if settings.get("full"):
        data = with_validation_in_training(data)
    schema.fit_outputs(settings, data.classes, explicit_sizes)
    return data


def refuse_unfinished_run(checkpoint: str | Path) -> None:
    """A new run must not overwrite the checkpoint of an unfinished one: say what it is."""
    from ..checkpoint import load_checkpoint

    try:
        load_checkpoint(checkpoint)
    except ModelFileError as e:
        fail(f"--checkpoint {e}; choose another --checkpoint (it would be overwritten)")
    fail(f"{checkpoint} holds an unfinished run; continue it with --resume, or "
         f"delete it to start again")


def start_model(path: str):
    """The model of ``start_from``, read before any work; refuses an ensemble."""
    from ..nn import Ensemble

    try:
        start = load_model(path)
    except ModelFileError as e:
        fail(f"--start-from {e}")
    if isinstance(start, Ensemble):
        fail(f"--start-from {path} is an ensemble of {len(start.members)} networks; start "
             f"from one network")
    return start


def _layer_names(network) -> list[str]:
    return [type(layer).__name__ for layer in network.layers]


def _start_weights(net, start, path, data) -> str:
    """Copy the weights of ``start``, the model file ``path``, into ``net``; returns the
    command that trained that model, if it says, else the path. Refuses another
    architecture and other classes."""
    from ..io import check_classes

    check_classes(start, data)
    ours, theirs = _layer_names(net), _layer_names(start)
    if ours != theirs:
        fail(f"--start-from {path} is {', '.join(theirs)}; this run builds {', '.join(ours)}: "
             f"give the settings it was trained with (--recipe, --channels, --hidden, ...)")
    try:
        net.load_state_dict({k: v.astype(net.dtype) for k, v in start.state_dict().items()})
    except ValueError as e:
        fail(f"--start-from {path}: {e}; give the settings it was trained with")
    training = start.metadata.get("training") if isinstance(start.metadata, dict) else None
    command = training.get("command") if isinstance(training, dict) else None
    return command if isinstance(command, str) else str(path)


class Session:
    """A run prepared to train: ``train`` it, then ``save`` it.

    Parameters
    ----------
    spec : RunSpec
    data : digitnet.data.mnist.Dataset
        As loaded; ``prepare_data`` is applied here.
    checkpoint : path of the checkpoint written after every epoch
    resumed : Checkpoint, optional
        Continue this checkpoint's run (its settings are ``spec``'s).
    start : a model to begin from (``start_from``), read with ``start_model``
    lr : a learning rate that replaces the resumed optimizer's
    """

    def __init__(self, spec: RunSpec, data, checkpoint: str | Path,
                 resumed: Checkpoint | None = None, start: Any = None, lr: float | None = None,
                 explicit_sizes: bool = False):
        settings = spec.settings
        self.spec, self.resumed = spec, resumed
        self.checkpoint_path = Path(checkpoint)
        self.data = data = prepare_data(data, settings, explicit_sizes)
        self.rng = np.random.default_rng(spec.seed)
        self.network = net = build_network(settings, self.rng, np.dtype(spec.dtype))
        self.start_from = None
        if start is not None:
            self.start_from = _start_weights(net, start, settings["start_from"], data)
        self.optimizer = build_optimizer(settings, net)
        fingerprint = data_fingerprint(data)
        self.stateful: dict[str, Any] = {}
        if settings.get("average_from") is not None:
            self.stateful["average"] = AverageWeights(net, data.train.x, settings["average_from"])
        self.checkpointer = Checkpointer(self.checkpoint_path, net, self.optimizer, self.rng,
                                         data=fingerprint, stateful=self.stateful,
                                         settings=spec.document())
        if resumed:
            if resumed.data != fingerprint:
                fail(f"{self.checkpoint_path}: the checkpoint was made on other training data "
                     f"({resumed.data.get('train_images')} images from {resumed.data.get('name')})")
            resumed.restore(net, self.optimizer, self.rng, self.stateful)
            if lr is not None:  # a new rate given with --resume, e.g. after divergence
                self.optimizer.lr = lr
            self.checkpointer.history = list(resumed.history)
            self.checkpointer.saved = resumed.position
        else:
            self.checkpointer.save(Position(0))  # so that even epoch 0 can be interrupted

    def describe(self) -> str:
        """The line that announces the run."""
        s, data = self.spec.settings, self.data
        return (f"Training {schema.describe(s)} on {len(data.train):,} images from "
                f"{data.source}: {s['epochs']} epochs, mini-batch {s['batch_size']}, "
                f"eta {s['lr']}, seed {self.spec.seed}")

    def train(self, callbacks: Sequence[Callback] = ()) -> Result:
        """Train until the last epoch, or until SIGINT or SIGTERM (the checkpoint then
        saved where it stopped). Raises TrainingDiverged naming the last good checkpoint."""
        s, data, checkpointer = self.spec.settings, self.data, self.checkpointer
        monitor = data.validation if self.spec.monitor == "validation" else data.test
        start = time.perf_counter()
        try:
            with catch_interrupts(checkpointer):
                # the average is updated before the checkpointer saves the epoch
                history = fit(self.network, data.train.x, data.train.y, epochs=s["epochs"],
                              batch_size=s["batch_size"], lr=s["lr"], optimizer=self.optimizer,
                              rng=self.rng, validation=(monitor.x, monitor.y) if len(monitor) else None,
                              split_name=self.spec.monitor,
                              callbacks=[*callbacks, *self.stateful.values(), checkpointer],
                              resume=self.resumed.position if self.resumed else None,
                              **fit_options(s))
        except TrainingDiverged as e:
            raise TrainingDiverged(f"{e} (the last good checkpoint, at {where(checkpointer.saved)}, "
                                   f"is {self.checkpoint_path}: continue from it with --resume and "
                                   f"a smaller --lr)") from None
        seconds = time.perf_counter() - start
        if checkpointer.signal is not None:
            if history.stopped:
                checkpointer.save(history.stopped)
            return Result(self.network, checkpointer.history, seconds,
                          interrupted=signal.Signals(checkpointer.signal).name,
                          where=checkpointer.saved)
        n_val, n_test = len(data.validation), len(data.test)
        return Result(self.network, checkpointer.history, seconds,
                      evaluate(self.network, data.validation.x, data.validation.y) if n_val else None,
                      n_val, evaluate(self.network, data.test.x, data.test.y), n_test)

    def save(self, out: str | Path, result: Result, keep_checkpoint: bool = False) -> dict:
        """Save the trained network to ``out`` with its metadata (returned), then remove
        the checkpoint unless ``keep_checkpoint``."""
        spec, data = self.spec, self.data
        commands = spec.commands or [command_line()]
        metadata = {
            "classes": data.classes,
            "training": {"recipe": spec.recipe, **spec.settings, "seed": spec.seed,
                         "dtype": spec.dtype, "data": data.name, "train_images": len(data.train),
                         "seconds": round(result.seconds, 2), "digitnet_version": __version__,
                         "command": commands[0], "resumed": commands[1:],
                         "data_sha256": data_fingerprint(data)["train_sha256"],
                         "environment": environment(),
                         **({"start_from_command": self.start_from} if self.start_from else {})},
            "metrics": {"validation_accuracy": result.validation_accuracy,
                        "test_accuracy": result.test_accuracy,
                        "final_loss": result.epochs[-1].loss if result.epochs else None},
        }
        save_model(out, self.network, metadata)
        if not keep_checkpoint:
            self.checkpoint_path.unlink(missing_ok=True)
        return metadata


def run(settings: dict, *, out: str | Path = "model.npz", data=None,
        recipe: str = schema.RUN_DEFAULTS["recipe"],
        seed: int = schema.RUN_DEFAULTS["seed"], dtype: str = schema.RUN_DEFAULTS["dtype"],
        dataset: str = "mnist", data_dir: str | None = None, test: str | None = None,
        callbacks: Sequence[Callback] = ()) -> Result:
    """Train a network from ``settings`` (``from_recipe``) and save it to ``out``.

    Parameters
    ----------
    settings : dict
        Training settings, e.g. ``training.from_recipe("cnn", {"epochs": 5})``; checked.
    out : path of the model file; its checkpoint is written beside it while training
    data : digitnet.data.mnist.Dataset, optional
        Default: ``digitnet.data.formats.load(dataset, data_dir, test)``.
    recipe : the recipe ``settings`` started from, recorded in the model file
    seed, dtype : ``seed`` seeds every random choice; ``dtype`` is float32 or float64
    callbacks : ``digitnet.train.Callback`` objects, e.g. to print progress

    Returns
    -------
    Result
        The network, its epochs, and its validation and test counts. A run stopped by
        SIGINT or SIGTERM returns with ``interrupted`` set and saves no model; its
        checkpoint continues it (``digitnet train --resume``).
    """
    from ..data import formats
    from ..io import check_output

    schema.check(settings)
    settings = dict(settings)
    check_output(out)
    if default_path(out).exists():
        refuse_unfinished_run(default_path(out))
    if data is None:
        data = formats.load(dataset, data_dir, test)
    spec = RunSpec(settings, recipe, seed, dtype, dataset=dataset,
                   data_dir=None if data_dir is None else str(data_dir), test=test)
    spec.commands = [equivalent_command(spec, out)]
    start = start_model(settings["start_from"]) if settings.get("start_from") else None
    session = Session(spec, data, default_path(out), start=start)
    result = session.train(callbacks)
    if not result.interrupted:
        session.save(out, result)
    return result
