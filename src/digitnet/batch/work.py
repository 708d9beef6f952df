"""What a worker does with a chunk of inputs: prepare each picture, run the network
once over the chunk, and return one ``Result`` per input.

The same function runs in the calling process (one job), in worker processes
(``--jobs N``) and on Dask workers, over the same chunks: so the answers, and the
probabilities to the last bit, do not depend on where they were computed. (A
network's output for one picture may differ in the last bit with the batch it is
computed in; the chunks, not the workers, fix the batches.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ImageError
from . import clean
from .sources import Input, SourceError

#: Pictures per pass through a network, within a chunk: the layers keep about 1 MB per
#: picture, and smaller passes were no slower (benchmarks/bench_batch.py profile).
NETWORK_BATCH = 32
#: A 28x28 array whose values differ by less than this holds no digit (as ``to_mnist``).
BLANK_CONTRAST = 0.15


@dataclass(frozen=True)
class Result:
    """The answer for one input.

    Attributes
    ----------
    path : str
        The input's name: its path, ``archive.zip/member.png``, its URL, or
        ``<bytes 3>`` / ``<array 3>`` for the fourth input given as bytes or an array.
    answer : str or None
        The digit (or the class's name, for a model of other classes), or the number
        read; None when there is an error.
    confidence : float
        The answer's probability (for a number, the product of its digits'); 0 on error.
    error : str or None
        Why there is no answer: an unreadable input, or "no digit found" for a blank one.
    probabilities : ndarray of shape (n_classes,) or None
        Every class's probability (``predict`` only).
    several : bool
        (``predict`` only) the picture looks like several digits side by side, a number,
        which ``read`` reads: the answer is one of its digits.
    """

    path: str
    answer: str | None
    confidence: float = 0.0
    error: str | None = None
    probabilities: np.ndarray | None = field(default=None, compare=False, repr=False)
    several: bool = field(default=False, compare=False)

    @property
    def blank(self) -> bool:
        """No digit in the picture (an answer of its own, not a failure to read it)."""
        return self.error is not None and "no digit" in self.error

    def row(self) -> dict[str, Any]:
        """The output row: path, answer, confidence, error."""
        return {"path": self.path, "answer": self.answer, "confidence": self.confidence,
                "error": self.error}


@dataclass(frozen=True)
class Task:
    """What to do with each input, sent once to each worker.

    ``kind`` is "predict" (one digit per picture) or "read" (a number); ``model`` a
    model file, a shipped model's name ("cnn", "ensemble"), None for the best shipped
    one, or a model object; ``shortcut`` the ensemble's early exit (predict only);
    ``batch_size`` the number of inputs per chunk (fixed: it fixes the batches)."""

    kind: str = "predict"
    model: Any = None
    shortcut: float | None = None
    min_confidence: float = 0.5
    marks: bool = False  # read only: points, commas, colons, dashes, spaces in the text
    lines: bool = False  # read only: every line, the answers joined by spaces
    length: int | None = None  # read only: the number of digits each number has
    pattern: str | None = None  # read only: the field's pattern ("dd/dd/dddd"), as read's --pattern
    check: str | None = None  # read only: the rule of each number's check digit ("luhn")
    review: str | None = None  # read only: a folder for the rejected numbers, drawn
    batch_size: int = 256
    token: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    def __post_init__(self):
        if self.kind not in ("predict", "read"):
            raise ValueError(f"a task is 'predict' or 'read', not {self.kind!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        from ..read.decode import field_options

        field_options(self.length, self.pattern, self.check, self.lines)


#: The network each task builds, once per process: {token: (network, class names)}.
_BUILT: dict[str, tuple[Any, list[str]]] = {}
_CALIBRATED: dict[str, Any] = {}  # the calibration of the task in hand, once per process
_PHOTO: dict[str, Any] = {}  # the task's network for photos (or None), once per process


def build(task: Task):
    """The network for ``task`` (loaded and rearranged for inference once per process)
    and its class names."""
    if task.token not in _BUILT:
        with one_blas_thread():  # (loading checks each network on an example: one thread, as the rest)
            built = _load(task)
        _BUILT.clear()  # one task at a time per process: an old model is not kept
        _BUILT[task.token] = built
    return _BUILT[task.token]


def _load(task: Task):
    """The network for ``task``, loaded and rearranged for inference, and its class names."""
    from ..io import class_names
    from ..nn.ensemble import Ensemble
    from ..nn.network import for_inference
    from ..pretrained import resolve_model

    model = task.model
    if model is None or isinstance(model, str) or hasattr(model, "__fspath__"):
        model = resolve_model(model)
    classes = class_names(model)
    if task.kind == "read":
        from ..read import not_a_digit_reader

        unfit = not_a_digit_reader(model)
        if unfit:
            raise ValueError(f"reading numbers needs a classifier of the ten digits; "
                             f"this model has {unfit}")
    fast: Any = for_inference(model)
    members = getattr(fast, "members", None)
    if members is not None:  # read scores pieces with every member (the shortcut read worse)
        fast = Ensemble(members, shortcut=task.shortcut if task.kind == "predict" else None)
    return fast, classes


def photo_network(task: Task):
    """The network for pictures of paper or a board that goes with the task's model
    (``pretrained.PHOTO`` for the default model, else None), loaded when such a picture
    first comes, once per process."""
    if task.token not in _PHOTO:
        from ..nn.ensemble import Ensemble
        from ..nn.network import for_inference
        from ..pretrained import photo_model

        model = task.model
        path_like = model is None or isinstance(model, str) or hasattr(model, "__fspath__")
        with one_blas_thread():
            photo = photo_model(model) if path_like and task.kind == "predict" else None
            if photo is not None:
                photo = for_inference(photo)
                if getattr(photo, "members", None) is not None:
                    photo = Ensemble(photo.members, shortcut=task.shortcut)
        _PHOTO.clear()
        _PHOTO[task.token] = photo
    return _PHOTO[task.token]


def release() -> None:
    """Forget the networks built in this process (the workers have their own)."""
    _BUILT.clear()
    _PHOTO.clear()


def run_chunk(task: Task, inputs: list[Input]) -> list[Result]:
    """One ``Result`` per input, in order, computed with one BLAS thread wherever it
    runs (the workers are the parallelism; and the same bits in every process)."""
    with one_blas_thread():
        return _run_chunk(task, inputs)


def one_blas_thread():
    """A context in which NumPy's BLAS computes with one thread. A product split over
    two threads was no faster with the workers busy, and a small one, ten to a hundred
    times slower on a busy machine (BENCHMARKS.md, "Batch mode")."""
    return _controller().limit(limits=1, user_api="blas")


_CONTROLLER: list = []


def _controller():
    if not _CONTROLLER:  # finding the BLAS libraries takes a millisecond: once per process
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _run_chunk(task, inputs):
    network, classes = build(task)
    if task.kind == "read":
        return [_read(network, task, item) for item in inputs]
    from ..data.frontend import several_digits
    from ..io import DIGITS

    results: list[Result | None] = [None] * len(inputs)
    pictures, where, photos, several = [], [], [], []
    cheap = _cheaply(inputs)
    for k, (name, data) in enumerate(inputs):
        try:
            x, is_photo, beside = prepare_seen(data) if cheap[k] is None else (cheap[k], False, False)
            pictures.append(x)
            photos.append(is_photo)
            where.append(k)
            # a picture of a number (not a digit given in MNIST's form), as `digitnet predict` tells
            several.append(beside is not None and classes == DIGITS and (beside or several_digits(x)))
        except Exception as e:  # noqa: BLE001  (one picture's failure is its row: the run goes on)
            results[k] = Result(name, None, 0.0, _named(name, data, e))
    if pictures:
        from ..pretrained import confidences

        photo_net = photo_network(task) if any(photos) else None
        probabilities = confidences(network, photo_net, np.stack(pictures), photos, NETWORK_BATCH)
        for k, p, many in zip(where, _calibration(task).digits(probabilities), several):
            digit = int(p.argmax())
            results[k] = Result(inputs[k].name, classes[digit], float(p[digit]), None, p, bool(many))
    return results


def _cheaply(inputs):
    """Each input prepared by the cheap path for small clean scans, or None: the usual way."""
    try:
        return clean.prepare([clean.decode(data) for _, data in inputs])
    except Exception:  # noqa: BLE001  (a flaw there must cost no answer: the usual way says more)
        return [None] * len(inputs)


def prepare(data) -> np.ndarray:
    """784 floats in MNIST's form from a path, the bytes of a picture, or an array that
    is already in MNIST's form (784 values, ink 1 on 0, or 0-255)."""
    return prepare_seen(data)[0]


def prepare_seen(data) -> tuple[np.ndarray, bool, bool | None]:
    """``prepare``, whether the picture is of paper or a board (``frontend.Seen.surface``),
    and whether other digits were found beside the one kept (``frontend.Seen.beside``;
    None for a digit given in MNIST's form, no picture)."""
    from ..data.preprocess import to_mnist_seen

    if isinstance(data, SourceError):
        raise ImageError(data.message)
    if isinstance(data, np.ndarray):
        return _mnist_array(data), False, None
    if isinstance(data, str) and data.lower().endswith(".npy"):
        from ..data.images import in_mnist_form, load_mnist_style

        if in_mnist_form(data):  # one digit in MNIST's form; any other array is a picture
            return _unblank(load_mnist_style(data)), False, None
    x, seen = to_mnist_seen(data)
    return x, seen.surface, seen.beside


def _mnist_array(array):
    from ..data.images import levels

    if array.size != 784 or array.dtype.kind not in "uif":
        raise ImageError(f"an array must hold 784 numbers (28x28 in MNIST's form), not {array.dtype} "
                         f"{array.shape}; give other pictures as paths or bytes")
    return _unblank(levels(array.reshape(784)))


def _calibration(task: Task):
    """The calibration of the task's model file (as `digitnet predict`/`read` apply it);
    the identity for a model given as an object."""
    from ..calibration import Calibration, for_model

    if task.token not in _CALIBRATED:
        model = task.model
        path_like = model is None or isinstance(model, str) or hasattr(model, "__fspath__")
        _CALIBRATED.clear()
        _CALIBRATED[task.token] = for_model(model) if path_like else Calibration()
    return _CALIBRATED[task.token]


def _unblank(x):
    if float(np.ptp(x)) < BLANK_CONTRAST:
        raise ImageError("no digit found: the image is blank (no ink darker or brighter than the paper)")
    return x


def _read(network, task, item: Input) -> Result:
    from ..read import read_lines, read_number

    name, data = item
    try:
        if isinstance(data, SourceError):
            raise ImageError(data.message)
        if isinstance(data, np.ndarray):
            raise ImageError("read takes pictures as paths or bytes, not arrays")
        calibration = _calibration(task)
        if task.lines:  # one row: the lines top to bottom, the chance that all are right
            readings = [calibration.reading(r, task.min_confidence)
                        for r in read_lines(data, network, marks=task.marks)]
        else:
            readings = [calibration.reading(read_number(data, network, marks=task.marks, length=task.length,
                                                        pattern=task.pattern, check=task.check),
                                            task.min_confidence)]
        if task.review:  # the rejected ones drawn, for a person to key in
            from ..read import drawn

            drawn.save_for_review(readings, task.min_confidence, task.review, name)
    except Exception as e:  # noqa: BLE001  (one picture's failure is its row: the run goes on)
        return Result(name, None, 0.0, _named(name, data, e))
    return Result(name, " ".join(r.text for r in readings), float(np.prod([r.confidence for r in readings])))


def _named(name, data, error):
    """The error's message, starting with the input's name (a picture given as bytes
    is called "image" by the decoder; a source's error names what it could not read)."""
    message = " ".join(str(error).split())
    if not isinstance(error, ImageError):  # not foreseen: say what it was
        message = f"cannot read it: {type(error).__name__}: {message}"[:300]
    if isinstance(data, SourceError):
        return message
    if message.startswith("image: "):
        message = message[len("image: "):]
    if message.startswith(f"{name}:") or message.startswith("no digit"):
        return message
    return f"{name}: {message}"
