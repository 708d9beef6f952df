"""digitnet evaluate: accuracy, per-class accuracy and the confusion matrix."""

import json


def add_parser(sub):
    from .common import path

    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy and confusion matrix")
    p.add_argument("model", type=path,
                   help="model file (.npz), or a shipped model by name: ensemble, cnn")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist", "idx"], default="mnist")
    p.add_argument("--data", metavar="PATH", type=path,
                   help="IDX folder, CSV file or folder of class folders")
    p.add_argument("--test", metavar="PATH", type=path, help="with a CSV file or class folders: the test set")
    p.add_argument("--split", choices=["test", "validation"], default="test")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def confusion_matrix(labels, predicted, n_classes):
    import numpy as np

    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return confusion


def run(args):
    import sys

    from ..io import load_model, trained_on_validation
    from ..pretrained import shipped_by_name
    from .common import check_classes, fail, load_data

    net = load_model(shipped_by_name(args.model))
    data = load_data(args)
    split = getattr(data, args.split)
    if not len(split):
        fail(f"no {args.split} set: give one with --test PATH")
    check_classes(net, data)
    seen = args.split == "validation" and trained_on_validation(getattr(net, "metadata", {}))
    if seen:  # said once, on stderr, so that --json output stays one object
        print(f"digitnet: note: {args.model} was trained on the validation images too (--full): "
              "this is not a held-out accuracy", file=sys.stderr)
    confusion = confusion_matrix(split.y, net.predict(split.x), net.n_outputs)
    correct, total = int(confusion.trace()), len(split)
    per_class = confusion.diagonal() / confusion.sum(axis=1).clip(min=1)
    if args.json:
        print(json.dumps({"model": args.model, "split": args.split, "correct": correct,
                          "total": total, "accuracy": correct / total, "held_out": not seen,
                          "per_class_accuracy": per_class.round(6).tolist(),
                          "confusion_matrix": confusion.tolist()}))
        return
    print(f"{correct} / {total} ({100 * correct / total:.2f}%)")
    print("\nPer-class accuracy:")
    for digit, acc in enumerate(per_class):
        print(f"  {digit}: {100 * acc:6.2f}%  ({confusion[digit, digit]} / {confusion[digit].sum()})")
    print("\nConfusion matrix (rows: true digit, columns: predicted):")
    print("     " + "".join(f"{d:>6}" for d in range(len(confusion))))
    for digit, row in enumerate(confusion):
        print(f"  {digit}: " + "".join(f"{v:>6}" for v in row))
