"""digitnet: read handwritten digits with a neural network written from scratch in NumPy.

>>> import digitnet
>>> net = digitnet.mlp([784, 30, 10], rng=0)           # the tutorials' network
>>> data = digitnet.load_mnist()                        # doctest: +SKIP
>>> digitnet.fit(net, data.train.x, data.train.y, epochs=30, batch_size=10, lr=3.0,
...              validation=(data.validation.x, data.validation.y))  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import os
    from typing import BinaryIO

    import numpy as np
    import PIL.Image

    from .nn import Ensemble, Network
    from .read import Reading

    Model = Network | Ensemble
    ImageSource = str | os.PathLike | bytes | BinaryIO | PIL.Image.Image | np.ndarray

from ._version import __version__
from .data.mnist import load as load_mnist
from .errors import DataError, DigitnetError, ModelFileError, SeveralDigitsWarning, TrainingDiverged
from .io import load_model, save_model
from .nn import Network, mlp
from .train import Callback, evaluate, fit


@functools.lru_cache(maxsize=1)
def shipped_model() -> Model:
    """The best model shipped with digitnet, loaded once per process (``predict`` and
    ``read_number`` use it when given no model; loading takes longer than a prediction)."""
    from .pretrained import resolve_model

    return resolve_model(None)


@functools.lru_cache(maxsize=1)
def _shipped_photo_model() -> Model | None:
    """The shipped network for photos of paper (``pretrained.PHOTO``), or None."""
    from .pretrained import photo_model

    return photo_model(None)


@functools.lru_cache(maxsize=1)
def _shipped_calibration():
    """The calibration of the shipped default model (``digitnet.calibration``)."""
    from .calibration import for_model

    return for_model(None)


def _calibration(model):
    """The shipped calibration where ``model`` is the shipped one (None, or
    ``shipped_model()``), as ``digitnet predict`` and ``read`` apply it; else None (a model
    of one's own keeps its raw confidences)."""
    if model is None or (shipped_model.cache_info().currsize and model is shipped_model()):
        return _shipped_calibration()
    return None


def read_number(image: ImageSource, model: Model | None = None,
                min_confidence: float = 0.5, marks: bool = False, length: int | None = None,
                pattern: str | None = None, check: str | None = None) -> Reading:
    """Read the number written in ``image`` (a path, bytes, an open binary file, a Pillow
    image or a NumPy array) with ``model`` (default: the best shipped model); with
    ``marks``, the points, commas, colons, dashes and spaces between groups of digits in its text
    too ("1,250.00", "5041 9238"); with ``length``, the number of digits it is known to
    have (a postcode's), the best reading of that length; with ``pattern``, a field's
    ("dd/dd/dddd", "dd:dd"; "d?d/d?d/dddd" with a digit that may be missing, "|" between
    patterns), read as with its length and written in it, a slash read as a 1 just where
    the pattern has one taken for it; with ``check``, the rule of its check digit ("luhn",
    "gtin", "aba", "verhoeff", "mod11"), the order of a date's day, month and year ("dmy",
    "mdy", "ymd": a day of the calendar) or "hm" (a time of the 24-hour clock), a reading
    that breaks it mended where it can be.
    See ``digitnet.read``.

    With the shipped model, ``.confidence`` is calibrated as ``digitnet read`` shows it:
    the chance that the whole string is right (each digit's, that it is right; digits
    below ``min_confidence`` are marked ``unsure``). A model of one's own gives the raw
    product of its digits' confidences."""
    from .read import read_number as read

    reading = read(image, model if model is not None else shipped_model(), min_confidence,
                   marks=marks, length=length, pattern=pattern, check=check)
    calibration = _calibration(model)
    return calibration.reading(reading, min_confidence) if calibration else reading


def read_lines(image: ImageSource, model: Model | None = None, min_confidence: float = 0.5,
               marks: bool = False) -> list[Reading]:
    """The number written on each line of ``image``, top to bottom (an envelope's
    postcode and house number): ``read_number``'s readings, calibrated as it calibrates
    them. See ``digitnet.read.lines``."""
    from .read import read_lines as read

    readings = read(image, model if model is not None else shipped_model(), min_confidence,
                    marks=marks)
    calibration = _calibration(model)
    return [calibration.reading(r, min_confidence) for r in readings] if calibration else readings


class Prediction(NamedTuple):
    digit: int
    confidence: float
    probabilities: np.ndarray  # the ten classes' probabilities


def predict(image: ImageSource, model: Model | None = None) -> Prediction:
    """The digit in ``image`` (a path, bytes, an open binary file, a Pillow image or a
    NumPy array; any size, format and polarity), preprocessed into MNIST's form, by
    ``model`` (default: the best shipped model):
    ``digit, confidence, probabilities = digitnet.predict("photo.jpg")``.
    With the shipped model the probabilities are calibrated as ``digitnet predict`` shows
    them (the confidence is the chance that the digit is right); a model of one's own
    gives its raw ones. A blank image raises ``digitnet.errors.ImageError`` ("no digit
    found"); a picture of a number is answered with one of its digits, with a
    ``digitnet.errors.SeveralDigitsWarning`` (``digitnet.read_number`` reads numbers)."""
    import warnings

    import numpy as np

    from .data.frontend import several_digits
    from .data.preprocess import to_mnist_seen

    x, seen = to_mnist_seen(image)
    calibration = _calibration(model)
    if model is None:  # a photo of paper or a board goes to the network trained for photos
        model = (seen.surface and _shipped_photo_model()) or shipped_model()
    probabilities = model.confidences(x[None])
    probabilities = (calibration.digits(probabilities) if calibration else probabilities)[0]
    digit = int(probabilities.argmax())
    if not (isinstance(image, np.ndarray) and image.size == 784) and (seen.beside or several_digits(x)):
        warnings.warn("the picture looks like several digits side by side; digitnet.predict answers "
                      "one of them, digitnet.read_number reads numbers", SeveralDigitsWarning, stacklevel=2)
    return Prediction(digit, float(probabilities[digit]), probabilities)


def pages(document: str | os.PathLike | bytes) -> list:
    """The pages of a document, each a picture the other functions take: a multi-page
    TIFF (a document scanner's batch of forms, a fax) or a PDF (``pip install
    'digitnet[pdf]'``), each page read only when it is used (a PDF's drawn at 200 dpi);
    any other picture is one page, ``[document]``. Given such a document whole,
    ``predict`` and ``read_number`` say it is one (``ImageError``) rather than read one
    page of it::

        for page in digitnet.pages("forms.pdf"):
            print(page.label, digitnet.read_number(page).text)   # forms.pdf:1 504192 ...
    """
    from .data.frontend.decode import pages as split

    found = split(document)
    return [document] if found is None else found


def to_mnist(image: ImageSource) -> np.ndarray:
    """Any image of one digit -> 784 floats in MNIST's form. See ``digitnet.data.preprocess``."""
    from .data.preprocess import to_mnist as convert

    return convert(image)

__all__ = [
    "__version__", "predict", "Prediction", "shipped_model", "read_number", "read_lines", "pages",
    "to_mnist",
    "mlp", "Network", "fit", "evaluate", "Callback", "load_mnist",
    "load_model", "save_model", "DigitnetError", "DataError", "ModelFileError",
    "TrainingDiverged", "SeveralDigitsWarning",
]
