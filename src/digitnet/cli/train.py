"""digitnet train: train a network on MNIST, report each epoch, test once, save."""

import argparse
import json
import math
import os
import shlex
import signal
import sys
import time
from pathlib import Path

from . import EXIT_INTERRUPTED, check_output, fail, positive_float, positive_int
from .common import load_data

#: Defaults of the settings that belong to a run: --resume takes them from its checkpoint.
RUN_DEFAULTS = {"recipe": "seed", "seed": 2, "dtype": "float32", "monitor": "validation",
                "dataset": "mnist"}


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number, not {text}")
    return value


def add_parser(sub):
    from ..recipes import DESCRIPTIONS
    from . import path

    p = sub.add_parser(
        "train", help="train a network on MNIST and save it",
        description="Train a network on MNIST (first 50,000 training images), report "
        "validation accuracy each epoch (last 10,000 training images), then test once. "
        "Defaults are the tutorials' headline run. Recipes: "
        + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items()))
    p.add_argument("--recipe", default=RUN_DEFAULTS["recipe"], choices=sorted(DESCRIPTIONS),
                   help="starting settings (default: seed, the tutorials' run)")
    p.add_argument("--sizes", type=positive_int, nargs="+", metavar="N",
                   help="neurons per layer, input first (seed: 784 30 10)")
    p.add_argument("--channels", type=positive_int, nargs="+", metavar="C",
                   help="CNN: output channels of each stage (its convolutions, then a 2x2 max-pool)")
    p.add_argument("--kernel", type=positive_int, metavar="K",
                   help="CNN: K x K convolutions, K odd (default 3)")
    p.add_argument("--convs", type=positive_int, metavar="N",
                   help="CNN: convolutions per stage, before its pool (default 1)")
    p.add_argument("--hidden", type=positive_int, metavar="N", help="CNN: fully connected layer width")
    p.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=None,
                   help="CNN: batch normalisation after each convolution")
    p.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], help="hidden activation")
    p.add_argument("--cost", choices=["quadratic", "bce", "ce"],
                   help="quadratic, binary cross-entropy, or softmax + categorical cross-entropy")
    p.add_argument("--output", choices=["sigmoid", "tanh", "identity"],
                   help="output activation for the quadratic cost (default sigmoid)")
    p.add_argument("--init", choices=["normal", "xavier", "he"], help="weight initialisation")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--batch-size", type=positive_int, help="mini-batch size m")
    p.add_argument("--lr", "--eta", type=positive_float, dest="lr", help="learning rate eta")
    p.add_argument("--optimizer", choices=["sgd", "adam"])
    p.add_argument("--momentum", type=float, help="SGD momentum (0 for none)")
    p.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None,
                   help="Nesterov momentum")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay")
    p.add_argument("--dropout", type=float, help="dropout probability after hidden layers")
    p.add_argument("--schedule", choices=["constant", "step", "cosine"],
                   help="learning-rate schedule")
    p.add_argument("--augment", choices=["none", "affine", "elastic"],
                   help="random distortions of the training images")
    p.add_argument("--clip", type=positive_float, help="clip the gradient norm to this")
    p.add_argument("--members", type=positive_int, help="ensemble size (ensemble recipe)")
    p.add_argument("--start-from", metavar="MODEL", type=path,
                   help="begin from this trained model's weights (same architecture) instead "
                   "of random ones: to fine-tune it, or to average weights with --average-from")
    p.add_argument("--average-from", metavar="EPOCH", type=_seed,
                   help="stochastic weight averaging: save the mean of the weights at the end "
                   "of each epoch from EPOCH (counted from 0) on, batch-norm statistics "
                   "gathered again; train at a constant rate (--schedule constant)")
    p.add_argument("--seed", type=_seed, default=RUN_DEFAULTS["seed"],
                   help="random seed (default 2: best validation accuracy of seeds 0-5)")
    p.add_argument("--full", action="store_true", default=None,
                   help="train on the whole training file, the validation split included: "
                   "for the final model, once its settings were chosen on validation "
                   "(no validation accuracy is reported, since it would be seen in training)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=RUN_DEFAULTS["dtype"])
    p.add_argument("--monitor", choices=["validation", "test"], default=RUN_DEFAULTS["monitor"],
                   help="split counted in each 'Epoch N: correct / total' line; 'test' "
                   "mimics the tutorials (reporting only: nothing is chosen on it)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist", "idx"], default=RUN_DEFAULTS["dataset"],
                   help="which IDX data set (default mnist)")
    p.add_argument("--data", metavar="PATH", type=path,
                   help="folder with the data set's IDX files, or a CSV file "
                   "(label,pixel0,...,pixel783), or a folder with one sub-folder of images per class")
    p.add_argument("--test", metavar="PATH", type=path,
                   help="with a CSV file or class folders as --data: the test set, in the same form")
    p.add_argument("--out", default="model.npz", type=path,
                   help="where to save the model (default model.npz)")
    p.add_argument("--log", metavar="FILE", type=path, help="append one JSON object per epoch")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.add_argument("--checkpoint", metavar="FILE", type=path,
                   help="checkpoint written after every epoch and on Ctrl-C or SIGTERM "
                   "(default: beside --out, model.npz -> model.ckpt.npz; removed once the "
                   "model is saved unless given here)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in the checkpoint, with its settings; the "
                   "result is bitwise the same as a run never interrupted")
    return p


class Progress:
    """A ``train.Callback``: epoch lines on stdout, a tqdm bar on stderr when it is a
    terminal, and JSON lines in the ``--log`` file."""

    def __init__(self, quiet, log_path):
        self.quiet = quiet
        self.bar = None
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None
        self.use_bar = not quiet and sys.stderr.isatty()

    def on_epoch_begin(self, epoch, n_batches):
        if self.use_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=n_batches, desc=f"Epoch {epoch}", leave=False,
                            unit="batch", mininterval=0.2)

    def on_batch_end(self, epoch, batch, loss):
        if self.bar is not None:
            self.bar.update()

    def on_epoch_end(self, result, network):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.quiet and result.total:
            print(f"Epoch {result.epoch}: {result.correct} / {result.total}  "
                  f"({result.split} {100 * result.accuracy:.2f}%)  loss {result.loss:.4f}  "
                  f"{result.seconds:.2f}s", flush=True)
        elif not self.quiet:
            print(f"Epoch {result.epoch}: loss {result.loss:.4f}  {result.seconds:.2f}s", flush=True)
        if self.log:
            entry = result.as_dict()
            if not result.total:  # no split watched (--full): JSON has no NaN
                entry["accuracy"] = entry["split"] = None
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        if self.log:
            self.log.close()


def _check_log(args, checkpoint_path):
    """Refuse, before training, a --log that appending would damage or that cannot be
    written: another file of the run, a file that is not a digitnet log, a folder."""
    from ..io import same_file

    path = args.log

    for flag, other in (("--data", args.data), ("--test", getattr(args, "test", None)),
                        ("--out", args.out), ("--checkpoint", checkpoint_path)):
        if other and same_file(path, other):  # --out's: written over at the end
            fail(f"--log {path} is the {flag} file: log to another file")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        fail(f"--log {path}: folder {folder} does not exist")
    if os.path.isdir(path):
        fail(f"--log {path}: is a folder; name a file")
    if os.path.isfile(path):
        if not _is_log(path):
            fail(f"--log {path}: exists and is not a digitnet training log (one JSON object "
                 f"per epoch); choose another file")
        mode = "a"  # opening to append changes nothing
    elif os.path.exists(path):
        return  # a pipe or a terminal (/dev/stdout): only ever written, never read here
    else:
        mode = "x"
    try:
        with open(path, mode, encoding="utf-8"):
            pass
    except OSError as e:
        fail(f"--log {path}: cannot write: {e.strerror or e}")
    if mode == "x":
        os.unlink(path)  # created when the first epoch ends


def _is_log(path):
    """Whether ``path`` is empty or starts with a line such as ``--log`` writes."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline(1 << 16)
    except (OSError, UnicodeDecodeError):
        return False
    if not first.strip():
        return not first  # empty file: yes; blank line first: not ours
    try:
        entry = json.loads(first)
    except ValueError:
        return False
    return isinstance(entry, dict) and "epoch" in entry


def _resumed_run(args, path):
    """The checkpoint to resume, with its settings copied into ``args``."""
    from .. import checkpoint
    from ..errors import DigitnetError

    if not path.exists():
        fail(f"--resume: no checkpoint {path} to resume (start without --resume, or "
             f"pass --checkpoint FILE)")
    resumed = checkpoint.load_checkpoint(path)
    saved = resumed.settings
    problem = _checkpoint_settings_problem(saved)
    if problem is None:
        try:
            _check_settings(dict(saved["training"]))
        except DigitnetError as e:
            problem = str(e)
    if problem:
        fail(f"{path} is not a valid checkpoint: {problem}")
    # these are the run's own: a different one given with --resume was silently replaced
    for key, default in RUN_DEFAULTS.items():
        given = getattr(args, key, default)
        if key in saved and given != default and given != saved[key]:
            fail(f"--resume continues the run in {path} with its own --{key} {saved[key]}, "
                 f"not {given}; start a new run for that (another --out, or --checkpoint)")
    try:
        args.recipe, args.seed, args.dtype, args.monitor = (
            saved["recipe"], saved["seed"], saved["dtype"], saved["monitor"])
        args.data = args.data or saved.get("data_dir")
        args.test = args.test or saved.get("test")
        args.dataset = saved.get("dataset", "mnist")
        args.log = args.log or saved.get("log")
    except KeyError as e:
        fail(f"{path}: checkpoint lacks the setting {e}; it was not written by digitnet train")
    return resumed


#: The JSON type of each training setting a checkpoint may hold.
_NUMBER = (int, float)
SETTING_TYPES = {
    "model": str, "sizes": list, "channels": list, "kernel": int, "convs": int, "hidden": int, "outputs": int,
    "batchnorm": bool, "activation": str, "cost": str, "output": str, "init": str,
    "epochs": int, "batch_size": int, "lr": _NUMBER, "optimizer": str, "momentum": _NUMBER,
    "nesterov": bool, "weight_decay": _NUMBER, "dropout": _NUMBER, "schedule": str,
    "warmup": int, "augment": str, "clip": _NUMBER, "members": int, "full": bool,
    "start_from": str, "average_from": int,
}
#: Settings that must be present and positive for a run to start at all.
REQUIRED_POSITIVE = ("epochs", "batch_size", "lr")


def _checkpoint_settings_problem(saved):
    """What is wrong with the settings document of a checkpoint (edited, or not written
    by digitnet train), or None: checked before any of it reaches the network."""
    from ..recipes import RECIPES

    if not isinstance(saved, dict):
        return f"its settings are {type(saved).__name__}, not an object"
    training = saved.get("training")
    if not isinstance(training, dict):
        return "its settings.training is not an object"
    for key, value in training.items():
        kind = SETTING_TYPES.get(key)
        if kind is None or value is None:
            continue
        if type(value) is bool and kind is not bool or not isinstance(value, kind):
            return f"settings.training.{key} is {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"settings.training.{key} is {value!r}"
        if kind is list and not all(type(v) is int and v > 0 for v in value):
            return f"settings.training.{key} is {value!r}, not a list of positive whole numbers"
    for key in REQUIRED_POSITIVE:
        if not (type(training.get(key)) in _NUMBER and training[key] > 0):
            return f"settings.training.{key} is {training.get(key)!r}, not a positive number"
    model = training.get("model", "mlp")
    if model not in ("mlp", "cnn"):
        return f"settings.training.model is {model!r}"
    required = ("sizes",) if model == "mlp" else ("channels", "hidden")
    for key in (*required, "activation", "cost", "init"):
        if training.get(key) is None:
            return f"settings.training lacks {key}"
    for key, kind in (("seed", int), ("data_dir", str), ("test", str), ("log", str)):
        value = saved.get(key)
        if value is not None and (not isinstance(value, kind) or type(value) is bool):
            return f"settings.{key} is {value!r}"
    if type(saved.get("seed", 0)) is int and saved.get("seed", 0) < 0:
        return f"settings.seed is {saved['seed']}"
    for key, choices in (("recipe", RECIPES), ("dtype", ("float32", "float64")),
                         ("monitor", ("validation", "test")),
                         ("dataset", ("mnist", "fashion-mnist", "idx"))):
        if key in saved and saved[key] not in choices:
            return f"settings.{key} is {saved[key]!r}"
    if not isinstance(saved.get("commands", []), list):
        return "settings.commands is not a list"
    return None


def _data_fingerprint(data):
    import hashlib

    return {"name": data.name, "train_images": len(data.train),
            "train_sha256": hashlib.sha256(data.train.y.tobytes() + data.train.x.tobytes())
            .hexdigest()}


def _environment():
    import platform

    import numpy as np

    return {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "machine": platform.machine()}


def _where(position):
    if position.batch == 0:
        return f"the start of epoch {position.epoch}"
    return f"epoch {position.epoch} after {position.batch} mini-batches"


def _resume_command(args, path, default_checkpoint):
    if getattr(args, "resume_command", None):  # a member of an ensemble
        return args.resume_command
    command = f"digitnet train --resume --out {shlex.quote(str(args.out))}"
    if args.checkpoint and path != default_checkpoint:
        command += f" --checkpoint {shlex.quote(str(path))}"
    return command


def _command_line(argv=None):
    """This command as a shell would take it back (paths with spaces quoted)."""
    return shlex.join(["digitnet", *(sys.argv[1:] if argv is None else argv)])


def _refuse_existing_checkpoint(path):
    """A new run must not overwrite ``path``: say what it is."""
    from ..checkpoint import load_checkpoint
    from ..errors import ModelFileError

    try:
        load_checkpoint(path)
    except ModelFileError as e:
        fail(f"--checkpoint {e}; choose another --checkpoint (it would be overwritten)")
    fail(f"{path} holds an unfinished run; continue it with --resume, or "
         f"delete it to start again")


#: Flags that override a recipe's settings (argparse dest = settings key).
OVERRIDES = ("sizes", "channels", "kernel", "convs", "hidden", "batchnorm", "activation", "cost", "output",
             "init", "epochs", "batch_size", "lr", "optimizer", "momentum", "nesterov",
             "weight_decay", "dropout", "schedule", "augment", "clip", "members", "full",
             "start_from", "average_from")


def _check_settings(settings):
    if settings.get("model", "mlp") == "mlp":
        sizes = settings["sizes"]
        if len(sizes) < 2 or sizes[0] != 784:
            fail(f"--sizes must start with 784 inputs and end with one output per class, not {sizes}")
        for flag in ("channels", "kernel", "convs", "hidden", "batchnorm"):
            if settings.get(flag) is not None:
                fail(f"--{flag} is for CNN recipes (cnn, ensemble); this recipe builds an MLP")
    elif settings.get("sizes") is not None:
        fail("--sizes is for MLP recipes; give a CNN --channels and --hidden")
    else:
        _check_convolutions(settings["channels"], settings.get("kernel", 3))
    if not 0 <= (settings.get("dropout") or 0) < 1:
        fail(f"--dropout must be in [0, 1), not {settings['dropout']}")
    if not 0 <= (settings.get("momentum") or 0) < 1:
        fail(f"--momentum must be in [0, 1), not {settings['momentum']}")
    if not 0 <= (settings.get("weight_decay") or 0) < math.inf:
        fail(f"--weight-decay must be a non-negative number, not {settings['weight_decay']}")
    average_from = settings.get("average_from")
    if average_from is not None and average_from >= settings["epochs"]:
        fail(f"--average-from {average_from}: the run's last epoch is {settings['epochs'] - 1} "
             f"(--epochs {settings['epochs']}, counted from 0), so nothing would be averaged")


#: The side of the images a CNN reads.
IMAGE_SIDE = 28


def _check_convolutions(channels, kernel):
    """Each convolution keeps its map's side and the 2x2 pool after it halves it: refuse
    more stages than halve 28 to 1, and a kernel wider than the map it slides over
    (padded, it would still run, but as a huge and pointless computation)."""
    sides = [IMAGE_SIDE >> i for i in range(len(channels))]
    if (IMAGE_SIDE >> len(channels)) < 1:
        most = IMAGE_SIDE.bit_length() - 1
        fail(f"--channels: {len(channels)} convolution stages are too many for a "
             f"{IMAGE_SIDE}x{IMAGE_SIDE} image (each 2x2 pool halves it; at most {most})")
    if kernel % 2 == 0:
        fail(f"--kernel must be odd (a centred k x k window), not {kernel}")
    if kernel > sides[-1]:
        fail(f"--kernel {kernel} is wider than the {sides[-1]}x{sides[-1]} feature maps of "
             f"stage {len(channels)}; use at most {sides[-1] - (sides[-1] % 2 == 0)}")


def _check_optimizer_flags(args, settings):
    """Momentum and Nesterov are SGD's: refuse them given with Adam, and drop a recipe's
    (the run's metadata would record settings that did nothing)."""
    if settings.get("optimizer", "sgd") != "adam":
        return
    for flag in ("momentum", "nesterov"):
        if getattr(args, flag, None) not in (None, False, 0):
            fail(f"--{flag} is for --optimizer sgd; Adam keeps its own moment estimates")
        settings.pop(flag, None)


def _with_validation_in_training(data):
    """``data`` with its validation split moved into the training split (--full)."""
    import dataclasses

    import numpy as np

    from ..data.mnist import Split

    if not len(data.validation):
        fail("--full: this data has no validation split to train on")
    train = Split(np.concatenate([data.train.x, data.validation.x]),
                  np.concatenate([data.train.y, data.validation.y]))
    empty = Split(data.validation.x[:0], data.validation.y[:0])
    return dataclasses.replace(data, train=train, validation=empty)


def _fit_outputs(settings, classes, explicit_sizes):
    """Make the output layer one neuron per class of the data."""
    n = len(classes)
    if settings.get("model", "mlp") == "mlp":
        if settings["sizes"][-1] != n:
            if explicit_sizes:
                fail(f"--sizes ends with {settings['sizes'][-1]} outputs, the data has {n} classes")
            settings["sizes"] = [*settings["sizes"][:-1], n]
    else:
        settings["outputs"] = n


def _start_model(path):
    """The model of --start-from, read before any work; refuses an ensemble."""
    from ..errors import ModelFileError
    from ..io import load_model
    from ..nn import Ensemble

    try:
        start = load_model(path)
    except ModelFileError as e:
        fail(f"--start-from {e}")
    if isinstance(start, Ensemble):
        fail(f"--start-from {path} is an ensemble of {len(start.members)} networks; start "
             f"from one network")
    return start


def _start_weights(net, start, path, data):
    """Copy the weights of ``start``, the model file ``path``, into ``net``
    (--start-from); returns the command that trained that model, if it says, else
    the path. Refuses another architecture and other classes."""
    from .common import check_classes

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


def _layer_names(network):
    return [type(layer).__name__ for layer in network.layers]


def _accuracy(correct, split):
    return correct / len(split) if len(split) else None


def _describe(settings):
    if settings.get("model", "mlp") == "cnn":
        shape = "conv" + "-conv".join(map(str, settings["channels"])) + f"-fc{settings['hidden']}"
        if settings.get("kernel", 3) != 3:
            shape += f" ({settings['kernel']}x{settings['kernel']} kernels)"
        if settings.get("convs", 1) != 1:
            shape += f" ({settings['convs']} convolutions per stage)"
    else:
        shape = str(settings["sizes"])
    return f"{shape} {settings['activation']}/{settings['cost']}"


def _train_ensemble(args, settings):
    """Train ``members`` networks from consecutive seeds, each a complete run saved
    beside --out (reused if already there), then save their average as one model."""
    import copy

    from ..checkpoint import default_path
    from ..io import load_model, save_model
    from ..nn.ensemble import Ensemble
    from ..train import evaluate

    members = settings["members"]
    if settings.get("start_from"):
        fail("--start-from gives one network's weights; train an ensemble's members one at a "
             "time with it, then join them with digitnet ensemble")
    single = {k: v for k, v in settings.items() if k != "members"}
    stem = str(args.out).removesuffix(".npz")
    paths = [f"{stem}.member{i}.npz" for i in range(members)]
    check_output("--out", args.out)
    if args.log:  # each member checks its own files; the ensemble's are checked here
        from ..io import same_file

        for other in (args.out, *paths, *(default_path(p) for p in paths)):
            if same_file(args.log, other):
                fail(f"--log {args.log} is {other}, a file of this ensemble: log to another file")
    if args.checkpoint is not None:
        fail("--checkpoint names one run's checkpoint; an ensemble's members keep theirs "
             "beside --out (model.member0.ckpt.npz, ...)")
    if args.resume:
        _check_ensemble_resumable(args.out, paths)
    data = load_data(args)
    if settings.get("full"):
        data = _with_validation_in_training(data)
    _fit_outputs(single, data.classes, explicit_sizes=args.sizes is not None)
    fingerprint = _data_fingerprint(data)["train_sha256"]
    start = time.perf_counter()
    for i, path in enumerate(paths):
        if Path(path).exists():
            _check_member(path, {"recipe": args.recipe, **single, "seed": args.seed + i,
                                 "dtype": args.dtype, "data_sha256": fingerprint})
            if not args.quiet:
                print(f"Member {i}: reusing {path}", flush=True)
            continue
        member_args = copy.copy(args)
        member_args.seed, member_args.out, member_args.checkpoint = args.seed + i, path, None
        member_args.members = None  # a member is one run (its --resume must not record --members)
        member_args.resume = args.resume and default_path(path).exists()
        member_args.resume_command = _command_line(
            [*(a for a in sys.argv[1:] if a != "--resume"), "--resume"])
        if not args.quiet:
            print(f"Member {i} of {members} (seed {member_args.seed}):", flush=True)
        code = _train_single(member_args, single)
        if code:
            return code
    ensemble = Ensemble([load_model(p) for p in paths])
    val = evaluate(ensemble, data.validation.x, data.validation.y) if len(data.validation) else None
    test = evaluate(ensemble, data.test.x, data.test.y)
    save_model(args.out, ensemble, {
        "classes": data.classes,
        "training": {"recipe": args.recipe, **settings, "seed": args.seed,
                     "member_seeds": [args.seed + i for i in range(members)],
                     "seconds": round(time.perf_counter() - start, 2),
                     "command": _command_line()},
        "metrics": {"validation_accuracy": _accuracy(val, data.validation),
                    "test_accuracy": _accuracy(test, data.test),
                    "member_validation_accuracy": [
                        load_model(p).metadata["metrics"]["validation_accuracy"] for p in paths]},
    })
    if not args.quiet:
        tested = (f"test {test} / {len(data.test)} ({100 * test / len(data.test):.2f}%)"
                  if len(data.test) else "no test set")
        validated = (f"validation {val} / {len(data.validation)}" if len(data.validation)
                     else "no validation (--full trains on it)")
        print(f"Ensemble of {members}: {validated}, {tested}; saved {args.out}")


#: What a member's recorded training holds beside its settings, seed, dtype and data.
_NOT_SETTINGS = ("data", "train_images", "seconds", "digitnet_version", "command", "resumed",
                 "environment", "members")  # a member resumed before this fix recorded --members


def _check_member(path, expected):
    """Reuse the member file ``path`` only if it was trained as this run would train it."""
    from ..io import read_config

    training = read_config(path).get("training")
    recorded = {k: v for k, v in training.items() if k not in _NOT_SETTINGS} \
        if isinstance(training, dict) else None
    if recorded != json.loads(json.dumps(expected)):
        differ = sorted(k for k in set(expected) | set(recorded or {})
                        if (recorded or {}).get(k) != expected.get(k))
        fail(f"{path} is a member trained with other settings or data ({', '.join(differ)}); "
             f"delete it to train it again, or choose another --out")


def _check_ensemble_resumable(out, paths):
    """--resume of an ensemble continues its members: there must be one to continue,
    and --out's own checkpoint (a single run) is not one of them."""
    from ..checkpoint import default_path

    single = default_path(out)
    if single.exists():
        fail(f"{single} is the checkpoint of a single run, not of an ensemble's members: "
             f"resume it without --members (and without --recipe ensemble)")
    if not any(Path(p).exists() or default_path(p).exists() for p in paths):
        fail(f"--resume: no member of this ensemble to continue ({default_path(paths[0])}, "
             f"...); start without --resume")


def _settings(args):
    """The recipe's settings with the flags given on the command line."""
    from ..recipes import RECIPES

    settings = dict(RECIPES[args.recipe])
    for key in OVERRIDES:
        if getattr(args, key, None) is not None:
            settings[key] = getattr(args, key)
    _check_optimizer_flags(args, settings)
    _check_settings(settings)
    return settings


def run(args):
    settings = _settings(args)
    if settings.get("members", 1) > 1:
        return _train_ensemble(args, settings)
    return _train_single(args, None)


def _train_single(args, given_settings):
    import numpy as np

    from .. import __version__
    from ..checkpoint import Checkpointer, catch_interrupts, default_path
    from ..errors import TrainingDiverged
    from ..io import save_model
    from ..recipes import build_network, build_optimizer, fit_options
    from ..train import AverageWeights, Position, evaluate, fit

    check_output("--out", args.out)
    default_checkpoint = default_path(args.out)
    checkpoint_path = default_path(args.out) if args.checkpoint is None else Path(args.checkpoint)
    check_output("--checkpoint", str(checkpoint_path))
    if not args.resume and checkpoint_path.exists():
        _refuse_existing_checkpoint(checkpoint_path)
    resumed = _resumed_run(args, checkpoint_path) if args.resume else None
    command = _command_line()
    commands = [*resumed.settings.get("commands", []), command] if resumed else [command]
    if resumed:
        settings = dict(resumed.settings["training"])
        for key in OVERRIDES:  # e.g. a smaller --lr after a divergence
            if getattr(args, key, None) is not None:
                settings[key] = getattr(args, key)
        _check_optimizer_flags(args, settings)
        _check_settings(settings)
    elif given_settings is not None:
        settings = dict(given_settings)
    else:
        settings = _settings(args)
    if args.log is not None:
        _check_log(args, checkpoint_path)
    start_model = None
    if settings.get("start_from") and not resumed:  # a checkpoint holds the weights already
        start_model = _start_model(settings["start_from"])

    data = load_data(args)
    if settings.get("full"):
        data = _with_validation_in_training(data)
    _fit_outputs(settings, data.classes, explicit_sizes=args.sizes is not None)
    rng = np.random.default_rng(args.seed)
    net = build_network(settings, rng, np.dtype(args.dtype))
    monitor = data.validation if args.monitor == "validation" else data.test
    watched = (monitor.x, monitor.y) if len(monitor) else None
    start_from = None
    if start_model is not None:
        start_from = _start_weights(net, start_model, settings["start_from"], data)
    optimizer = build_optimizer(settings, net)
    fingerprint = _data_fingerprint(data)
    stateful = {}
    if settings.get("average_from") is not None:
        stateful["average"] = AverageWeights(net, data.train.x, settings["average_from"])
    checkpointer = Checkpointer(
        checkpoint_path, net, optimizer, rng, data=fingerprint, stateful=stateful,
        settings={"recipe": args.recipe, "seed": args.seed, "dtype": args.dtype,
                  "monitor": args.monitor, "data_dir": args.data, "test": args.test, "log": args.log,
                  "dataset": getattr(args, "dataset", "mnist"),
                  "training": settings,
                  "commands": commands})
    if resumed:
        if resumed.data != fingerprint:
            fail(f"{checkpoint_path}: the checkpoint was made on other training data "
                 f"({resumed.data.get('train_images')} images from {resumed.data.get('name')})")
        resumed.restore(net, optimizer, rng, stateful)
        if args.lr is not None:  # a new rate given with --resume, e.g. after divergence
            optimizer.lr = args.lr
        checkpointer.history, checkpointer.saved = list(resumed.history), resumed.position
    progress = Progress(args.quiet, args.log)
    # the average is updated before the checkpointer saves the epoch
    callbacks = [progress, *stateful.values(), checkpointer]
    if not resumed:
        checkpointer.save(Position(0))  # so that even epoch 0 can be interrupted
    if not args.quiet:
        print(f"Training {_describe(settings)} on "
              f"{len(data.train):,} images from {data.source}: {settings['epochs']} epochs, "
              f"mini-batch {settings['batch_size']}, eta {settings['lr']}, seed {args.seed}",
              flush=True)
        if resumed:
            where = resumed.position
            print(f"Resuming from {checkpoint_path} at {_where(where)}", flush=True)
    start = time.perf_counter()
    try:
        with catch_interrupts(checkpointer):
            history = fit(net, data.train.x, data.train.y, epochs=settings["epochs"],
                          batch_size=settings["batch_size"], lr=settings["lr"],
                          optimizer=optimizer, rng=rng, validation=watched,
                          split_name=args.monitor, callbacks=callbacks,
                          resume=resumed.position if resumed else None,
                          **fit_options(settings))
    except TrainingDiverged as e:
        last = checkpointer.saved
        raise TrainingDiverged(f"{e} (the last good checkpoint, at {_where(last)}, is "
                               f"{checkpoint_path}: continue from it with --resume and a "
                               f"smaller --lr)") from None
    finally:
        progress.close()
    if checkpointer.signal is not None:
        if history.stopped:
            checkpointer.save(history.stopped)
        where = checkpointer.saved
        name = signal.Signals(checkpointer.signal).name
        print(f"digitnet: {name}: checkpoint saved to {checkpoint_path} ({_where(where)}); "
              f"continue with: "
              f"{_resume_command(args, checkpoint_path, default_checkpoint)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    epochs = checkpointer.history  # including those before an interruption
    seconds = time.perf_counter() - start
    val = evaluate(net, data.validation.x, data.validation.y) if len(data.validation) else None
    test = evaluate(net, data.test.x, data.test.y)
    metadata = {
        "classes": data.classes,
        "training": {"recipe": args.recipe, **settings, "seed": args.seed, "dtype": args.dtype,
                     "data": data.name, "train_images": len(data.train),
                     "seconds": round(seconds, 2), "digitnet_version": __version__,
                     "command": commands[0], "resumed": commands[1:],
                     "data_sha256": fingerprint["train_sha256"],
                     "environment": _environment(),
                     **({"start_from_command": start_from} if start_from else {})},
        "metrics": {"validation_accuracy": _accuracy(val, data.validation),
                    "test_accuracy": _accuracy(test, data.test),
                    "final_loss": epochs[-1].loss if epochs else None},
    }
    save_model(args.out, net, metadata)
    if args.checkpoint is None:
        checkpoint_path.unlink(missing_ok=True)
    if not args.quiet:
        n_val, n_test = len(data.validation), len(data.test)
        if "average" in stateful:
            gathered = settings.get("batchnorm") and ", batch-norm statistics gathered again"
            print(f"Saved weights: the mean of those of epochs {settings['average_from']} to "
                  f"{settings['epochs'] - 1}{gathered or ''}")
        if n_val:
            print(f"Validation: {val} / {n_val} ({100 * val / n_val:.2f}%)")
        else:
            print("Validation: none (--full trains on it)")
        if n_test:
            print(f"Test: {test} / {n_test} ({100 * test / n_test:.2f}%)")
        else:
            print("Test: no test set (give one with --test)")
        print(f"Saved {args.out} ({seconds:.1f}s of training)")
