"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one ``.npz`` file, written atomically like a model file and read
with ``allow_pickle=False``. It holds the network's arrays, the optimizer's state,
the state of every random generator (the shuffling one and any a layer owns), the
position in training (epoch, mini-batch, partial cost), the history of finished
epochs and the settings of the run, all but the arrays as one JSON document.

``Checkpointer`` is the ``train.Callback`` that writes one after every epoch and
stops training at the next mini-batch boundary once ``interrupt()`` is called;
``catch_interrupts`` calls it on SIGINT and SIGTERM. Resuming (``load_checkpoint``,
``Checkpoint.restore``, ``fit(..., resume=checkpoint.position)``) then gives
bitwise the same weights as a run that was never interrupted.
"""

import json
import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ._version import __version__
from .errors import ModelFileError
from .io import CHECKPOINT_KEY, MAX_PARAMETERS, READ_ERRORS, atomic_write, open_archive
from .train import Callback, EpochResult, Position

FORMAT = "digitnet-checkpoint"
FORMAT_VERSION = 1
KEY = CHECKPOINT_KEY


def default_path(model_path):
    """``model.npz`` -> ``model.ckpt.npz``, beside the model."""
    path = Path(model_path)
    stem = path.name[:-4] if path.name.endswith(".npz") else path.name
    return path.with_name(stem + ".ckpt.npz")


@dataclass
class Checkpoint:
    """A checkpoint read back: ``restore`` puts its state into a freshly built run."""

    network_config: dict
    arrays: dict
    position: Position
    history: list
    settings: dict = field(default_factory=dict)
    rng_states: dict = field(default_factory=dict)
    optimizer_state: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def restore(self, network, optimizer=None, rng=None, stateful=None):
        """Copy the saved state into ``network``, ``optimizer``, ``rng`` (the shuffling
        generator), the generators the layers own, and each ``stateful[name]`` (any
        object with ``load_state``). Raises ModelFileError if they do not fit."""
        if network.config() != self.network_config:
            raise ModelFileError("the checkpoint was made with a different network (its "
                                 "architecture, cost or dtype); it cannot resume this one")
        try:
            network.load_state_dict(_prefixed(self.arrays, "net"))
            if optimizer is not None and hasattr(optimizer, "load_state"):
                optimizer.load_state(self.optimizer_state)
            generators = dict(_generators(network))
            if rng is not None:
                generators["fit"] = rng
            if set(generators) != set(self.rng_states):
                raise ValueError(f"random generators {sorted(self.rng_states)} saved, "
                                 f"{sorted(generators)} to restore")
            for name, generator in generators.items():
                generator.bit_generator.state = self.rng_states[name]
            for name, obj in (stateful or {}).items():
                obj.load_state(self.states.get(name, {}))
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"checkpoint does not fit this training run: {e}") from None


def save_checkpoint(path, network, optimizer, rng, position, history, settings=None,
                    stateful=None, data=None):
    """Write a checkpoint atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or Path
    network : Network
    optimizer : object with ``state()`` (a dict of arrays and JSON values), or None
    rng : numpy.random.Generator
        The generator ``fit`` shuffles with, in its state at ``position``.
    position : train.Position
    history : list of train.EpochResult
        Every finished epoch.
    settings, data : dict, optional
        JSON-serialisable: how the run was set up, and what it trained on.
    stateful : dict of name -> object with ``state()``, optional
        Anything else that must be restored, e.g. an early-stopping callback.
    """
    arrays = {f"net/{name}": value for name, value in network.state_dict().items()}
    opt_json = _split(optimizer.state() if optimizer is not None else {}, "opt", arrays)
    states_json = {name: _split(obj.state(), f"state/{name}", arrays)
                   for name, obj in (stateful or {}).items()}
    rng_states = {name: g.bit_generator.state for name, g in _generators(network)}
    rng_states["fit"] = rng.bit_generator.state
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "digitnet_version": __version__,
        "network": network.config(),
        "position": asdict(position),
        "history": [asdict(r) for r in history],
        "rng_states": rng_states,
        "optimizer": opt_json, "states": states_json,
        "settings": settings or {}, "data": data or {},
    }
    text = json.dumps(document, default=_json_default, allow_nan=True)
    arrays[KEY] = np.frombuffer(text.encode(), dtype=np.uint8)
    with atomic_write(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return path


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``; raises ModelFileError if it
    is missing, truncated, foreign or inconsistent. Never runs code from the file."""
    headers, document = open_archive(path, KEY, FORMAT, FORMAT_VERSION, "checkpoint")
    total = sum(math.prod(shape) for name, (shape, _, _) in headers.items() if name != KEY)
    if total > 4 * MAX_PARAMETERS:
        raise ModelFileError(f"{path}: checkpoint holds {total:,} values, more than digitnet "
                             f"ever writes")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in headers if name != KEY}
        position = Position(**document["position"])
        history = [EpochResult(**r) for r in document["history"]]
        checkpoint = Checkpoint(
            network_config=document["network"], arrays=arrays, position=position,
            history=history, settings=document["settings"],
            rng_states=document["rng_states"],
            optimizer_state=_join(document["optimizer"], "opt", arrays),
            states={name: _join(value, f"state/{name}", arrays)
                    for name, value in document["states"].items()},
            data=document["data"])
    except ModelFileError:
        raise
    except READ_ERRORS + (AttributeError,) as e:
        raise ModelFileError(f"{path}: not a usable digitnet checkpoint: {e}") from None
    for name, value in arrays.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
    problem = _document_problem(checkpoint)
    if problem:
        raise ModelFileError(f"{path} is not a valid checkpoint: {problem}")
    return checkpoint


def _whole(value):
    return type(value) is int and value >= 0


def _number(value):
    return type(value) in (int, float) and math.isfinite(value)


def _document_problem(checkpoint):
    """What an edited or foreign document holds that would fail later, deep inside
    training, or None. The arrays were checked against their headers already."""
    position = checkpoint.position
    if not (_whole(position.epoch) and _whole(position.batch)):
        return f"position epoch {position.epoch!r}, batch {position.batch!r}"
    if not (_number(position.loss_sum) and _number(position.seconds)):
        return f"position loss_sum {position.loss_sum!r}, seconds {position.seconds!r}"
    if not isinstance(position.epoch_rng_state, (dict, type(None))):
        return f"position epoch_rng_state {position.epoch_rng_state!r}"
    for r in checkpoint.history:
        if not (_whole(r.epoch) and _whole(r.correct) and _whole(r.total) and _number(r.seconds)
                and type(r.loss) in (int, float) and isinstance(r.split, str)):
            return f"history entry {asdict(r)}"
    for name in ("network_config", "settings", "rng_states", "data"):
        if not isinstance(getattr(checkpoint, name), dict):
            return f"{name.removesuffix('_config')} is not an object"
    if not all(isinstance(state, dict) for state in checkpoint.rng_states.values()):
        return "a random generator state is not an object"
    return None


class Checkpointer(Callback):
    """Write a checkpoint after every epoch; stop at the next mini-batch once
    ``interrupt()`` has been called (the caller then saves the position ``fit``
    returns in ``History.stopped`` with ``save``).

    Parameters
    ----------
    path : str or Path
    network, optimizer, rng : what ``fit`` trains with
    history : list of EpochResult
        Epochs finished before this run (when resuming).
    settings, data, stateful : see ``save_checkpoint``
    """

    def __init__(self, path, network, optimizer, rng, *, history=(), settings=None,
                 data=None, stateful=None):
        self.path = Path(path)
        self.network, self.optimizer, self.rng = network, optimizer, rng
        self.history = list(history)
        self.settings, self.data, self.stateful = settings, data, stateful
        self.signal = None
        self.saved = None

    def interrupt(self, signum=signal.SIGINT):
        self.signal = signum

    def save(self, position):
        """Write the checkpoint for ``position``, unless the weights are not finite
        (then the last good checkpoint stays). Returns whether it was written."""
        if not all(np.isfinite(value).all() for value in self.network.state_dict().values()):
            return False
        save_checkpoint(self.path, self.network, self.optimizer, self.rng, position,
                        self.history, self.settings, self.stateful, self.data)
        self.saved = position
        return True

    def on_batch_end(self, epoch, batch, loss):
        return self.signal is not None

    def on_epoch_end(self, result, network):
        self.history.append(result)
        self.save(Position(result.epoch + 1))
        return False


@contextmanager
def catch_interrupts(checkpointer, signals=(signal.SIGINT, signal.SIGTERM)):
    """While inside, the first SIGINT or SIGTERM asks ``checkpointer`` to stop at the
    next safe point instead of killing the process; a second one interrupts at once
    (KeyboardInterrupt), leaving the last checkpoint on disk. Outside the main
    thread, where Python cannot handle signals, this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield checkpointer
        return

    def handle(signum, frame):
        if checkpointer.signal is not None:
            raise KeyboardInterrupt
        checkpointer.interrupt(signum)

    previous = {s: signal.signal(s, handle) for s in signals}
    try:
        yield checkpointer
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _generators(network):
    """(name, Generator) for every random generator a layer keeps, e.g. for dropout."""
    for i, layer in enumerate(network.layers):
        for attr, value in vars(layer).items():
            if isinstance(value, np.random.Generator):
                yield f"{i}.{attr}", value


def _split(state, prefix, arrays):
    """Move the arrays of a (nested) state dict into ``arrays``; return the rest as JSON."""
    out = {}
    for key, value in state.items():
        name = f"{prefix}/{key}"
        if isinstance(value, dict):
            out[key] = {"dict": _split(value, name, arrays)}
        elif isinstance(value, np.ndarray):
            arrays[name] = value
            out[key] = {"array": name}
        else:
            out[key] = {"value": value}
    return out


def _join(document, prefix, arrays):
    out = {}
    for key, entry in document.items():
        name = f"{prefix}/{key}"
        if "dict" in entry:
            out[key] = _join(entry["dict"], name, arrays)
        elif "array" in entry:
            out[key] = arrays[entry["array"]]
        else:
            out[key] = entry["value"]
    return out


def _prefixed(arrays, prefix):
    start = prefix + "/"
    return {name[len(start):]: value for name, value in arrays.items() if name.startswith(start)}


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")
