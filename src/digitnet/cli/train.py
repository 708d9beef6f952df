"""digitnet train: parse the flags, run ``digitnet.training``, print each epoch and the result.

The training itself (settings, data, checkpoints, the model file) is the library's:
``digitnet.training``; this module turns flags into a ``RunSpec`` and prints.
"""

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from ..train import Callback
from ..training.settings import OVERRIDES, RUN_DEFAULTS
from .common import EXIT_INTERRUPTED, check_output, fail, load_data, positive_float, positive_int


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
    from .common import path

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
    p.add_argument("--augment", choices=["none", "affine", "elastic", "pen"],
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


class Progress(Callback):
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


def _overrides(args):
    """The training settings given as flags."""
    return {key: getattr(args, key, None) for key in OVERRIDES}


def _resumed_run(args, checkpoint_path):
    """The checkpoint to resume, with the run's settings copied into ``args``."""
    from .. import checkpoint
    from ..training.settings import checkpoint_problem

    if not checkpoint_path.exists():
        fail(f"--resume: no checkpoint {checkpoint_path} to resume (start without --resume, or "
             f"pass --checkpoint FILE)")
    resumed = checkpoint.load_checkpoint(checkpoint_path)
    saved = resumed.settings
    problem = checkpoint_problem(saved)
    if problem:
        fail(f"{checkpoint_path} is not a valid checkpoint: {problem}")
    # these are the run's own: a different one given with --resume was silently replaced
    for key, default in RUN_DEFAULTS.items():
        given = getattr(args, key, default)
        if key in saved and given != default and given != saved[key]:
            fail(f"--resume continues the run in {checkpoint_path} with its own --{key} {saved[key]}, "
                 f"not {given}; start a new run for that (another --out, or --checkpoint)")
    try:
        args.recipe, args.seed, args.dtype, args.monitor = (
            saved["recipe"], saved["seed"], saved["dtype"], saved["monitor"])
        args.data = args.data or saved.get("data_dir")
        args.test = args.test or saved.get("test")
        args.dataset = saved.get("dataset", "mnist")
        args.log = args.log or saved.get("log")
    except KeyError as e:
        fail(f"{checkpoint_path}: checkpoint lacks the setting {e}; it was not written by digitnet train")
    return resumed


def _resume_command(args, checkpoint_path, default_checkpoint):
    if getattr(args, "resume_command", None):  # a member of an ensemble
        return args.resume_command
    command = f"digitnet train --resume --out {shlex.quote(str(args.out))}"
    if args.checkpoint and checkpoint_path != default_checkpoint:
        command += f" --checkpoint {shlex.quote(str(checkpoint_path))}"
    return command


def run(args):
    from ..training.settings import from_recipe

    settings = from_recipe(args.recipe, _overrides(args))
    if settings.get("members", 1) > 1:
        return _train_ensemble(args, settings)
    return _train_single(args, settings)


def _spec(args, settings, commands):
    from ..training import RunSpec

    return RunSpec(settings, args.recipe, args.seed, args.dtype, args.monitor,
                   getattr(args, "dataset", "mnist"), args.data, args.test, args.log, commands)


def _train_single(args, settings):
    """One run: ``settings`` (those of a resumed run come from its checkpoint instead)."""
    from ..checkpoint import default_path
    from ..training.session import Session, command_line, refuse_unfinished_run, start_model, where
    from ..training.settings import resolve

    check_output("--out", args.out)
    default_checkpoint = default_path(args.out)
    checkpoint_path = default_checkpoint if args.checkpoint is None else Path(args.checkpoint)
    check_output("--checkpoint", str(checkpoint_path))
    if not args.resume and checkpoint_path.exists():
        refuse_unfinished_run(checkpoint_path)
    resumed = _resumed_run(args, checkpoint_path) if args.resume else None
    command = command_line()
    commands = [*resumed.settings.get("commands", []), command] if resumed else [command]
    if resumed:  # the run's settings, with the flags given now (e.g. a smaller --lr)
        settings = resolve(resumed.settings["training"], _overrides(args))
    if args.log is not None:
        _check_log(args, checkpoint_path)
    start = None
    if settings.get("start_from") and not resumed:  # a checkpoint holds the weights already
        start = start_model(settings["start_from"])
    session = Session(_spec(args, settings, commands), load_data(args), checkpoint_path,
                      resumed, start, lr=args.lr, explicit_sizes=args.sizes is not None)
    progress = Progress(args.quiet, args.log)
    say = print if not args.quiet else (lambda *a, **k: None)
    say(session.describe(), flush=True)
    if resumed:
        say(f"Resuming from {checkpoint_path} at {where(resumed.position)}", flush=True)
    try:
        result = session.train([progress])
    finally:
        progress.close()
    if result.interrupted:
        print(f"digitnet: {result.interrupted}: checkpoint saved to {checkpoint_path} "
              f"({where(result.where)}); continue with: "
              f"{_resume_command(args, checkpoint_path, default_checkpoint)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    session.save(args.out, result, keep_checkpoint=args.checkpoint is not None)
    if "average" in session.stateful:
        gathered = settings.get("batchnorm") and ", batch-norm statistics gathered again"
        say(f"Saved weights: the mean of those of epochs {settings['average_from']} to "
            f"{settings['epochs'] - 1}{gathered or ''}")
    say(_counted("Validation", result.validation, result.n_validation, "none (--full trains on it)"))
    say(_counted("Test", result.test, result.n_test, "no test set (give one with --test)"))
    say(f"Saved {args.out} ({result.seconds:.1f}s of training)")
    return 0


def _counted(name, correct, total, otherwise):
    return f"{name}: {_share(correct, total) if total else otherwise}"


def _share(correct, total):
    return f"{correct} / {total} ({100 * (correct or 0) / total:.2f}%)"


def _train_ensemble(args, settings):
    """Train ``members`` networks from consecutive seeds, each a complete run saved
    beside --out (reused if already there), then save their average as one model."""
    import copy

    from ..checkpoint import default_path
    from ..io import same_file
    from ..training import ensemble
    from ..training.session import command_line

    paths = ensemble.member_paths(args.out, settings["members"])
    ensemble.check_settings(settings)
    check_output("--out", args.out)
    if args.log:  # each member checks its own files; the ensemble's are checked here
        for other in (args.out, *paths, *(default_path(p) for p in paths)):
            if same_file(args.log, other):
                fail(f"--log {args.log} is {other}, a file of this ensemble: log to another file")
    if args.checkpoint is not None:
        fail("--checkpoint names one run's checkpoint; an ensemble's members keep theirs "
             "beside --out (model.member0.ckpt.npz, ...)")
    if args.resume:
        ensemble.check_resumable(args.out, paths)
    say = print if not args.quiet else (lambda *a, **k: None)

    def train_member(i, member_path, seed):
        member_args = copy.copy(args)
        member_args.seed, member_args.out, member_args.checkpoint = seed, member_path, None
        member_args.members = None  # a member is one run (its --resume must not record --members)
        member_args.resume = args.resume and default_path(member_path).exists()
        member_args.resume_command = command_line(
            [*(a for a in sys.argv[1:] if a != "--resume"), "--resume"])
        say(f"Member {i} of {settings['members']} (seed {seed}):", flush=True)
        return _train_single(member_args, ensemble.member_settings(settings))

    result = ensemble.train(_spec(args, settings, []), args.out, load_data(args), train_member,
                            lambda i, p: say(f"Member {i}: reusing {p}", flush=True),
                            explicit_sizes=args.sizes is not None)
    if result.status:
        return result.status
    tested = f"test {_share(result.test, result.n_test)}" if result.n_test else "no test set"
    validated = (f"validation {result.validation} / {result.n_validation}" if result.n_validation
                 else "no validation (--full trains on it)")
    say(f"Ensemble of {settings['members']}: {validated}, {tested}; saved {args.out}")
    return 0
