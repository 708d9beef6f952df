"""What a model file's metadata says: its classes, and whether it was trained on the
validation split. Metadata is the file's to say: a malformed field reads as unknown."""

def trained_on_validation(metadata: dict) -> bool:
    """Whether a model file's network, or a member of its ensemble, was trained on the
    validation split too (``digitnet train --full``): its validation accuracy means nothing."""
    training = metadata.get("training") if isinstance(metadata, dict) else None
    if not isinstance(training, dict):  # metadata is the file's to say; nothing says so
        return False
    members = training.get("member_training")
    return bool(training.get("full") is True
                or isinstance(members, list)
                and any(isinstance(t, dict) and t.get("full") is True for t in members))


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


def check_classes(model, data):
    """Refuse data whose classes are not the model's: another number of them, or, when
    the model names its classes, other names (a Fashion-MNIST model on digits)."""
    from ..errors import DigitnetError

    if len(data.classes) != model.n_outputs:
        raise DigitnetError(f"the model has {model.n_outputs} outputs, the data "
                            f"{len(data.classes)} classes")
    named = (getattr(model, "metadata", None) or {}).get("classes") is not None
    if named and class_names(model) != [str(c) for c in data.classes]:
        raise DigitnetError(f"the model's classes ({', '.join(class_names(model))}) are not the "
                            f"data's ({', '.join(map(str, data.classes))})")
