"""digitnet plot: PNG pictures of training curves, confusion matrix, mistakes, weights,
and (``digitnet plot reliability``) how well the confidences match the accuracy."""


def add_parser(sub):
    from . import path, positive_int

    p = sub.add_parser("plot", help="PNG plots: training curves, confusion matrix, mistakes, weights, "
                       "reliability diagram",
                       description="Needs digitnet[viz] (matplotlib). Give a --log to plot its "
                       "training curves, and/or a MODEL to plot its confusion matrix, most "
                       "confident mistakes and first-layer weights on the test set. "
                       "`digitnet plot reliability [MODEL]` draws reliability.png: the accuracy "
                       "against the confidence, raw and calibrated, of MNIST digits as given and "
                       "drawn (and with --numbers N, of N numbers read), on --split validation "
                       "(default) or test.")
    p.add_argument("model", nargs="*", type=path, metavar="[reliability] MODEL",
                   help="model file (.npz), or a shipped model's name")
    p.add_argument("--log", type=path, help="a `digitnet train --log` file")
    p.add_argument("--out", default=".", type=path, help="folder for the PNG files (default: here)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist", "idx"], default="mnist")
    p.add_argument("--data", metavar="PATH", type=path,
                   help="IDX folder, CSV file or folder of class folders")
    p.add_argument("--test", metavar="PATH", type=path,
                   help="with a CSV file or class folders: the test set")
    p.add_argument("--split", choices=["validation", "test"], default="validation",
                   help="reliability: the MNIST digits to draw it on (default validation)")
    p.add_argument("--digits", type=positive_int, default=2000,
                   help="reliability: digits of the split, each as given and drawn (default 2000)")
    p.add_argument("--numbers", type=int, default=0,
                   help="reliability: also read this many numbers composed of the split's digits "
                   "(about 0.2 s each; default 0)")
    return p


def run(args):
    import os
    from pathlib import Path

    from . import fail

    if args.model[:1] == ["reliability"]:
        return _reliability(args)
    if len(args.model) > 1:
        fail(f"give one MODEL, not {len(args.model)}")
    args.model = args.model[0] if args.model else None
    if not args.model and not args.log:
        fail("give a MODEL, a --log file, or both")
    if not os.path.isdir(args.out):
        fail(f"--out {args.out}: no such folder")
    try:
        import matplotlib  # noqa: F401

        from .. import plots
    except ImportError:
        fail('plots need their extra: pip install "digitnet[viz]"')
    out = Path(args.out)
    if args.model:  # checked before any file is written
        model, data, probabilities = _model_on_test_set(args)
    made = []
    if args.log:
        made.append(plots.training_curves(args.log, out / "training.png"))
    if args.model:
        from .evaluate import confusion_matrix

        confusion = confusion_matrix(data.test.y, probabilities.argmax(axis=1), model.n_outputs)
        made.append(plots.confusion_matrix(confusion, data.classes, out / "confusion.png"))
        made.append(plots.worst_mistakes(data.test.x, data.test.y, probabilities, data.classes,
                                         out / "mistakes.png"))
        made.append(plots.first_layer(getattr(model, "members", [model])[0], out / "weights.png"))
    for path in made:
        print(f"Saved {path}")


def _model_on_test_set(args):
    """The model, the data, and the model's probabilities on its test split; refuses data
    whose classes are not the model's."""
    from ..io import load_model
    from . import fail
    from .common import check_classes, load_data

    model = load_model(args.model)
    data = load_data(args)  # as evaluate: --test with IDX data is refused, not ignored
    if not len(data.test):
        fail("no test set: give one with --test PATH")
    check_classes(model, data)
    return model, data, model.confidences(data.test.x)


def _reliability(args):
    """digitnet plot reliability [MODEL]: reliability.png in --out."""
    import os
    from pathlib import Path

    import numpy as np

    from .. import calibration
    from ..data import mnist
    from . import fail

    if len(args.model) > 2:
        fail(f"plot reliability takes one MODEL at most, not {len(args.model) - 1}")
    if not os.path.isdir(args.out):
        fail(f"--out {args.out}: no such folder")
    try:
        from .. import plots
    except ImportError:
        fail('plots need their extra: pip install "digitnet[viz]"')
    from ..pretrained import resolve_model

    name = args.model[1] if len(args.model) > 1 else None
    model, fitted = resolve_model(name), calibration.for_model(name)
    data = mnist.load("mnist", args.data)
    split = data.validation if args.split == "validation" else data.test
    rng = np.random.default_rng(0)
    sets = calibration.digit_sets(model, split.x[:args.digits], split.y[:args.digits], rng)
    p, y = (np.concatenate(a) for a in zip(*sets.values()))
    curves = {}
    for label, c in (("raw", calibration.Calibration()), ("calibrated", fitted)):
        q = c.digits(p)
        curves[label] = (q.max(axis=1), q.argmax(axis=1) == y)
    panels = [(f"predict: {args.split} digits as given and drawn", curves)]
    if args.numbers > 0:
        numbers = calibration.compose_numbers(split.x, split.y, args.numbers, rng)
        readings, truths = calibration.read_answers(model, numbers)
        panels.append((f"read: {args.split} numbers of 2-8 digits",
                       {label: calibration.number_answers(c, readings, truths)
                        for label, c in (("raw", calibration.Calibration()), ("calibrated", fitted))}))
    if not fitted.fitted:
        print("digitnet: this model has no calibration: its confidences are shown as they are")
    print(f"Saved {plots.reliability(panels, Path(args.out) / 'reliability.png')}")
