"""What several commands share: checking a model's classes against the data, and the
data they read."""

from ..io import class_names
from . import fail


def check_classes(model, data):
    """Refuse data whose classes are not the model's: another number of them, or, when
    the model names its classes, other names (a Fashion-MNIST model on digits)."""
    if len(data.classes) != model.n_outputs:
        fail(f"the model has {model.n_outputs} outputs, the data {len(data.classes)} classes")
    named = (getattr(model, "metadata", None) or {}).get("classes") is not None
    if named and class_names(model) != [str(c) for c in data.classes]:
        fail(f"the model's classes ({', '.join(class_names(model))}) are not the data's "
             f"({', '.join(map(str, data.classes))})")


def load_data(args):
    """The data set of ``--dataset``, ``--data`` and ``--test`` (train, evaluate, ensemble, plot),
    refusing flags that the data would silently ignore."""
    from ..data import formats

    dataset, test = getattr(args, "dataset", "mnist"), getattr(args, "test", None)
    if formats.is_other_format(args.data, dataset):
        if dataset != "mnist":
            fail(f"--dataset {dataset} names IDX files; {args.data} brings its own classes "
                 f"(leave --dataset out)")
    elif test is not None:
        fail("--test is for a CSV file or class folders given as --data; IDX data sets "
             "bring their own test files (t10k-*)")
    return formats.load(dataset, args.data, test)
