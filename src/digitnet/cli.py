"""The ``digitnet`` command: argument parsing and output formatting only.

Every user mistake ends as one line on stderr and exit status 2.
"""

import argparse
import json
import os
import sys
import time

from .errors import DigitnetError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
        return value
    return parse


positive_int, positive_float = _positive(int), _positive(float)


def build_parser():
    from . import __version__
    from .recipes import DESCRIPTIONS

    parser = _Parser(prog="digitnet", description="Read handwritten digits with a neural "
                     "network written from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("train", help="train a network on MNIST and save it",
                       description="Train a network on MNIST (first 50,000 training images), "
                       "report validation accuracy each epoch (last 10,000), then test once. "
                       "Defaults are the tutorials' headline run. Recipes: " +
                       "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items()))
    p.add_argument("--recipe", default="seed", choices=sorted(DESCRIPTIONS),
                   help="starting settings (default: seed, the tutorials' run)")
    p.add_argument("--sizes", type=positive_int, nargs="+", metavar="N",
                   help="neurons per layer, input first (seed: 784 30 10)")
    p.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], help="hidden activation")
    p.add_argument("--cost", choices=["quadratic", "bce", "ce"],
                   help="quadratic, binary cross-entropy, or softmax + categorical cross-entropy")
    p.add_argument("--output", choices=["sigmoid", "tanh", "identity"],
                   help="output activation for the quadratic cost (default sigmoid)")
    p.add_argument("--init", choices=["normal", "xavier", "he"], help="weight initialisation")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--batch-size", type=positive_int, help="mini-batch size m")
    p.add_argument("--lr", "--eta", type=positive_float, dest="lr", help="learning rate eta")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--monitor", choices=["validation", "test"], default="validation",
                   help="split counted in each 'Epoch N: correct / total' line; 'test' "
                   "mimics the tutorials (reporting only: nothing is chosen on it)")
    p.add_argument("--data", metavar="DIR", help="folder with the MNIST IDX files")
    p.add_argument("--out", default="model.npz", help="where to save the model (default model.npz)")
    p.add_argument("--log", metavar="FILE", help="write one JSON object per epoch")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")

    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy and confusion matrix")
    p.add_argument("model")
    p.add_argument("--data", metavar="DIR", help="folder with the MNIST IDX files")
    p.add_argument("--split", choices=["test", "validation"], default="test")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("predict", help="classify 28x28 MNIST-style images (PNG or .npy)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", required=True)
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = sub.add_parser("info", help="what a model is, how it was trained, its metrics")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="print the model's whole config")
    return parser


# --- commands ---------------------------------------------------------------------


class _Progress:
    """A ``train.Callback``: epoch lines on stdout, and a tqdm bar on stderr when it
    is a terminal."""

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
        if not self.quiet:
            print(f"Epoch {result.epoch}: {result.correct} / {result.total}  "
                  f"({result.split} {100 * result.accuracy:.2f}%)  loss {result.loss:.4f}  "
                  f"{result.seconds:.2f}s", flush=True)
        if self.log:
            self.log.write(json.dumps(result.as_dict()) + "\n")
            self.log.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        if self.log:
            self.log.close()


def cmd_train(args):
    import numpy as np

    from . import __version__
    from .data import mnist
    from .io import save_model
    from .nn import mlp
    from .recipes import RECIPES
    from .train import evaluate, fit

    settings = dict(RECIPES[args.recipe])
    for key in ("sizes", "activation", "cost", "init", "epochs", "batch_size", "lr"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.output is not None:
        settings["output"] = args.output
    sizes = settings["sizes"]
    if len(sizes) < 2:
        raise DigitnetError("--sizes needs at least an input and an output layer, e.g. 784 30 10")
    if sizes[0] != 784 or sizes[-1] != 10:
        raise DigitnetError(f"--sizes must start with 784 inputs and end with 10 outputs, not {sizes}")
    out_dir = os.path.dirname(args.out) or "."
    if not os.path.isdir(out_dir):
        raise DigitnetError(f"--out {args.out}: folder {out_dir} does not exist")
    if args.log and not os.path.isdir(os.path.dirname(args.log) or "."):
        raise DigitnetError(f"--log {args.log}: folder does not exist")

    data = mnist.load("mnist", args.data)
    rng = np.random.default_rng(args.seed)
    net = mlp(sizes, settings["activation"], settings["cost"], settings.get("output"),
              settings["init"], rng, np.dtype(args.dtype))
    monitor = data.validation if args.monitor == "validation" else data.test
    progress = _Progress(args.quiet, args.log)
    if not args.quiet:
        print(f"Training {sizes} {settings['activation']}/{settings['cost']} on "
              f"{len(data.train):,} images from {data.source}: {settings['epochs']} epochs, "
              f"mini-batch {settings['batch_size']}, eta {settings['lr']}, seed {args.seed}",
              flush=True)
    start = time.perf_counter()
    try:
        history = fit(net, data.train.x, data.train.y, epochs=settings["epochs"],
                      batch_size=settings["batch_size"], lr=settings["lr"], rng=rng,
                      validation=(monitor.x, monitor.y), split_name=args.monitor,
                      callbacks=[progress])
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    val = evaluate(net, data.validation.x, data.validation.y)
    test = evaluate(net, data.test.x, data.test.y)
    metadata = {
        "classes": data.classes,
        "training": {"recipe": args.recipe, **settings, "seed": args.seed, "dtype": args.dtype,
                     "data": "mnist", "train_images": len(data.train),
                     "seconds": round(seconds, 2), "digitnet_version": __version__,
                     "command": "digitnet " + " ".join(sys.argv[1:])},
        "metrics": {"validation_accuracy": val / len(data.validation),
                    "test_accuracy": test / len(data.test),
                    "final_loss": history.epochs[-1].loss if history.epochs else None},
    }
    save_model(args.out, net, metadata)
    if not args.quiet:
        print(f"Validation: {val} / {len(data.validation)} ({100 * val / len(data.validation):.2f}%)")
        print(f"Test: {test} / {len(data.test)} ({100 * test / len(data.test):.2f}%)")
        print(f"Saved {args.out} ({seconds:.1f}s of training)")
    return 0


def cmd_evaluate(args):
    import numpy as np

    from .data import mnist
    from .io import load_model

    net = load_model(args.model)
    data = mnist.load("mnist", args.data)
    split = getattr(data, args.split)
    predicted = net.predict(split.x)
    n_classes = net.n_outputs
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (split.y, predicted), 1)
    correct = int(np.trace(confusion))
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    if args.json:
        print(json.dumps({"model": args.model, "split": args.split, "correct": correct,
                          "total": len(split), "accuracy": correct / len(split),
                          "per_class_accuracy": per_class.round(6).tolist(),
                          "confusion_matrix": confusion.tolist()}))
        return 0
    print(f"{correct} / {len(split)} ({100 * correct / len(split):.2f}%)")
    print("\nPer-class accuracy:")
    for digit, acc in enumerate(per_class):
        print(f"  {digit}: {100 * acc:6.2f}%  ({confusion[digit, digit]} / {confusion[digit].sum()})")
    print("\nConfusion matrix (rows: true digit, columns: predicted):")
    print("      " + "".join(f"{d:>6}" for d in range(n_classes)))
    for digit, row in enumerate(confusion):
        print(f"  {digit}:  " + "".join(f"{v:>6}" for v in row))
    return 0


def cmd_predict(args):
    import numpy as np

    from .data.images import load_mnist_style
    from .io import load_model

    net = load_model(args.model)
    images = np.stack([load_mnist_style(path) for path in args.images])
    probabilities = net.confidences(images)
    for path, p in zip(args.images, probabilities):
        digit = int(p.argmax())
        if args.json:
            print(json.dumps({"path": path, "digit": digit, "confidence": float(p[digit]),
                              "probabilities": [round(float(v), 6) for v in p]}))
        else:
            print(f"{path}: {digit} ({100 * p[digit]:.1f}%)")
    return 0


def cmd_info(args):
    from .io import read_config

    config = read_config(args.model)
    if args.json:
        print(json.dumps(config, indent=2))
        return 0
    net = config.get("network", {})
    layers = ", ".join(_describe_layer(layer) for layer in net.get("layers", []))
    loss = net.get("loss", {})
    print(f"Model:        {args.model}")
    print(f"Format:       {config.get('format')} v{config.get('format_version')}, "
          f"written by digitnet {config.get('digitnet_version')}")
    print(f"Input:        {net.get('input_shape')} {net.get('dtype')}")
    print(f"Layers:       {layers}")
    print(f"Cost:         {loss.get('type')} ({loss.get('activation', _output_of(loss))} outputs)")
    pre = config.get("preprocessing", {})
    if pre:
        print(f"Expects:      {pre.get('input')}; {pre.get('scale')}")
    training = config.get("training")
    if training:
        print("Training:     " + ", ".join(f"{k}={v}" for k, v in training.items() if k != "command"))
        if "command" in training:
            print(f"Reproduce:    {training['command']}")
    metrics = config.get("metrics")
    if metrics:
        print("Metrics:      " + ", ".join(
            f"{k}={100 * v:.2f}%" if "accuracy" in k and isinstance(v, float) else f"{k}={v}"
            for k, v in metrics.items()))
    return 0


def _output_of(loss):
    return {"SoftmaxCrossEntropy": "softmax", "BinaryCrossEntropy": "sigmoid"}.get(loss.get("type"), "?")


def _describe_layer(layer):
    if layer.get("type") == "Linear":
        return f"Linear({layer['in_features']}->{layer['out_features']})"
    return layer.get("type", "?")


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "info": cmd_info}


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DigitnetError as e:
        print(f"digitnet: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as e:
        if os.environ.get("DIGITNET_DEBUG"):
            raise
        print(f"digitnet: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
