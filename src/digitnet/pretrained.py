"""Models shipped inside the package (docs/accuracy.md says how each was trained).

- ``models/ensemble.npz``: the best ensemble of CNNs;
- ``models/cnn.npz``: the best single CNN (three stages, batch-normalised, 40 epochs);
- ``models/photo.npz``: the ensemble trained further on photographed training digits,
  which answers for the pictures the front end finds to be of paper or a board.

Everything that recognises digits uses the best of them when no model is given
(``resolve_model``).
"""

from pathlib import Path

MODELS_DIR = Path(__file__).parent / "models"
PREFERENCE = ("ensemble.npz", "cnn.npz")
#: What ``--model`` may name instead of a file.
NAMES = ("ensemble", "cnn")
#: The server lets an ensemble's first network answer alone for a digit it gives at
#: least this probability, and runs the others on the rest (``nn.ensemble.Ensemble``).
#: Chosen on validation for the shipped ensemble, by a rule written down before: the
#: smallest of 0.9, 0.95, ... 0.9999 that changed none of its answers to the 10,000
#: validation digits, as MNIST gives them and drawn as a user would (docs/accuracy.md,
#: "The server's shortcut").
SHORTCUT = 0.9
#: The shipped ensemble's five networks, each trained two epochs further on MNIST's training
#: digits and as many photographed by ``benchmarks/fit_photo.py`` and seen through the front
#: end: with no model named, it answers for a picture that the front end finds to be of
#: paper or a board (``frontend.Seen.surface``: a photo, a scan, chalk); drawings on one
#: flat level (canvas exports) and 28x28 arrays keep the ensemble (docs/photos.md, "A
#: network for photos").
PHOTO = "photo.npz"


def default_model_path():
    """The best shipped model, or None if none is shipped."""
    for name in PREFERENCE:
        path = MODELS_DIR / name
        if path.is_file():
            return path
    return None


def photo_model(path):
    """The network for photos of paper that goes with model ``path``: the shipped one for
    the default model (``path`` None or "ensemble"), else None (a model the user names
    answers for every picture)."""
    from .io import load_model

    file = MODELS_DIR / PHOTO
    if (path is None or str(path) == "ensemble" and not Path(path).exists()) and file.is_file():
        return load_model(file)
    return None


def confidences(model, photo, x, photos, *args):
    """``model``'s probabilities for the rows of ``x`` (n, 784), ``photo``'s for the rows
    that ``photos`` (n bools) marks as pictures of paper or a board, when ``photo`` is
    given; ``args`` go to each model's ``confidences`` (a batch size)."""
    import numpy as np

    photos = np.asarray(photos, bool)
    if photo is None or not photos.any():
        return model.confidences(x, *args)
    if photos.all():
        return photo.confidences(x, *args)
    first = photo.confidences(x[photos], *args)
    out = np.empty((len(x), first.shape[1]), first.dtype)
    out[photos] = first
    out[~photos] = model.confidences(x[~photos], *args)
    return out


def shipped_by_name(path):
    """``path``, or the shipped model it names ("cnn", "ensemble") if no such file exists.

    Only a bare name is looked up: a missing ``models/x`` must not become ``models/x.npz``."""
    if str(path) in NAMES and not Path(path).exists():
        return MODELS_DIR / f"{path}.npz"
    return path


def resolve_model(path):
    """The classifier of 28x28 images to use: ``path``, a shipped model by its name
    ("cnn", "ensemble") when no such file exists, or the best shipped one (what
    ``predict``, ``read``, ``serve`` and ``digitnet.predict`` take when given no model)."""
    from .errors import ModelFileError
    from .io import load_model

    if path is None:
        path = default_model_path()
        if path is None:
            raise ModelFileError("no --model given and no pretrained model is shipped with this "
                                 "digitnet; train one with `digitnet train` and pass --model model.npz")
    path = shipped_by_name(path)
    model = load_model(path)
    if tuple(model.input_shape) != (784,):
        # e.g. read's whole-digit judge, which takes a piece's pixels and more
        takes = _field(model, "preprocessing").get("input")
        raise ModelFileError(f"{path} does not classify 28x28 images: it takes {model.input_shape[0]} "
                             "inputs" + (f" ({takes})" if takes else ""))
    return model


def _field(model, name):
    """A dict of the model's metadata, or {} when it is absent or malformed."""
    value = (getattr(model, "metadata", None) or {}).get(name)
    return value if isinstance(value, dict) else {}
