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
    p.add_argument("--data", metavar="DIR", type=path, help="folder with the data set's IDX files")
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
    made = []
    if args.log:
        made.append(plots.training_curves(args.log, out / "training.png"))
    if args.model:
        from ..data import mnist
        from ..io import load_model
        from .evaluate import confusion_matrix

        model = load_model(args.model)
        data = mnist.load(args.dataset, args.data)
        probabilities = model.confidences(data.test.x)
        confusion = confusion_matrix(data.test.y, probabilities.argmax(axis=1), model.n_outputs)
        made.append(plots.confusion_matrix(confusion, data.classes, out / "confusion.png"))
        made.append(plots.worst_mistakes(data.test.x, data.test.y, probabilities, data.classes,
                                         out / "mistakes.png"))
        made.append(plots.first_layer(getattr(model, "members", [model])[0], out / "weights.png"))
    for path in made:
        print(f"Saved {path}")
