"""digitnet plot: PNG pictures of training curves, confusion matrix, mistakes, weights."""


def add_parser(sub):
    from . import path

    p = sub.add_parser("plot", help="PNG plots: training curves, confusion matrix, mistakes, weights",
                       description="Needs digitnet[viz] (matplotlib). Give a --log to plot its "
                       "training curves, and/or a MODEL to plot its confusion matrix, most "
                       "confident mistakes and first-layer weights on the test set.")
    p.add_argument("model", nargs="?", type=path, help="model file (.npz)")
    p.add_argument("--log", type=path, help="a `digitnet train --log` file")
    p.add_argument("--out", default=".", type=path, help="folder for the PNG files (default: here)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist", "idx"], default="mnist")
    p.add_argument("--data", metavar="PATH", type=path,
                   help="IDX folder, CSV file or folder of class folders")
    p.add_argument("--test", metavar="PATH", type=path,
                   help="with a CSV file or class folders: the test set")
    return p


def run(args):
    import os
    from pathlib import Path

    from . import fail

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
