"""What several commands share: the classes a model knows, and the data they read."""

from . import fail

#: The classes of a digit classifier, as ``class_names`` gives them.
DIGITS = [str(d) for d in range(10)]


def class_names(model):
    """The names of the model's classes, as training stored them (e.g. Fashion-MNIST's
    "Trouser", or a CSV file's labels); the outputs' indices when it stored none."""
    classes = (getattr(model, "metadata", None) or {}).get("classes")
    if (isinstance(classes, list) and len(classes) == model.n_outputs
            and all(isinstance(c, (str, int)) for c in classes)):
        return [str(c) for c in classes]
    return [str(i) for i in range(model.n_outputs)]


def not_a_digit_reader(model):
    """Why ``read`` cannot use ``model`` (it scores pieces by the probabilities of the
    ten digits), e.g. "2 outputs"; None if it can."""
    if class_names(model) == DIGITS:
        return None
    return (f"{model.n_outputs} outputs" if model.n_outputs != 10
            else "the classes " + ", ".join(class_names(model)))


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
