"""Reading pictures by the million: on every core, or on a Dask cluster.

>>> from digitnet.batch import expand, predict_many
>>> for result in predict_many(expand(["scans/", "more.tar.gz"]), jobs=4):  # doctest: +SKIP
...     print(result.path, result.answer, result.confidence, result.error)

``predict_many`` and ``read_many`` take any iterable of paths, bytes, arrays (784
values in MNIST's form) or ``Input`` (what ``expand`` yields for folders, archives,
globs and URLs), and yield one ``Result`` per input, in order, as they are computed:
memory stays bounded whatever the number of inputs. The answers, and the
probabilities to the last bit, are the same for any number of jobs and on Dask.
See docs/batch.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..pretrained import SHORTCUT
from .sources import Input, SourceError, expand
from .work import Result, Task

#: Inputs per chunk (one network batch): predict's pictures; read's, each of which is
#: classified as a batch of its pieces already.
PREDICT_BATCH = 256
READ_BATCH = 8


def predict_many(inputs: Iterable[Any], model: Any = None, *, jobs: int = 1, scheduler: Any = None,
                 shortcut: float | None = SHORTCUT, batch_size: int = PREDICT_BATCH) -> Iterator[Result]:
    """The digit in each input, one ``Result`` per input, in order.

    Parameters
    ----------
    inputs : iterable of str, os.PathLike, bytes, ndarray or Input
        Picture files, their bytes, arrays of 784 values in MNIST's form, or what
        ``expand`` yields.
    model : str, os.PathLike, model object or None
        A model file, "cnn" / "ensemble", or None for the best shipped model.
    jobs : int
        Worker processes (1: this process).
    scheduler : str, distributed.Client or None
        Run on Dask instead: a scheduler's address ("tcp://host:8786"), "local" for a
        LocalCluster of ``jobs`` workers, or a ``Client``.
    shortcut : float or None
        An ensemble's first network answers alone when at least this sure
        (``nn.ensemble.Ensemble``); None runs every network on every picture.
    batch_size : int
        Pictures per network batch.

    Yields
    ------
    Result
        path, answer (the digit as text), confidence, error, probabilities.
    """
    task = Task("predict", model, shortcut, batch_size=batch_size)
    yield from _results(task, inputs, jobs, scheduler)


def read_many(inputs: Iterable[Any], model: Any = None, *, jobs: int = 1, scheduler: Any = None,
              min_confidence: float = 0.5, marks: bool = False, lines: bool = False,
              length: int | None = None, pattern: str | None = None, check: str | None = None,
              review: str | os.PathLike | None = None, batch_size: int = READ_BATCH) -> Iterator[Result]:
    """The number written in each input (``digitnet.read``), one ``Result`` per input,
    in order; parameters as ``predict_many``, ``min_confidence``, ``marks``, ``length``,
    ``pattern`` and ``check`` as ``read_number``'s; with ``lines``, every line
    (``read_lines``), the answers joined by spaces, the confidence the chance that all are
    right. With ``review``, a folder, each number below ``min_confidence`` is saved there
    drawn (``read.drawn``), as
    ``<name>-<hash>.read.png`` (``read.drawn.review_name``), for a person to key in."""
    task = Task("read", model, min_confidence=min_confidence, marks=marks, lines=lines,
                length=length, pattern=pattern, check=check,
                review=None if review is None else os.path.abspath(review),
                batch_size=batch_size)
    yield from _results(task, inputs, jobs, scheduler)


def _results(task, inputs, jobs, scheduler):
    for chunk in run_chunks(task, as_inputs(inputs), jobs, scheduler):
        yield from chunk


def run_chunks(task: Task, inputs: Iterable[Input], jobs: int = 1,
               scheduler: Any = None) -> Iterator[list[Result]]:
    """``task``'s results over ``inputs``, a chunk at a time, here or on Dask."""
    if scheduler is not None:
        from .dask import run as run_on_dask

        return run_on_dask(task, inputs, scheduler, jobs)
    from .runner import run

    # (with jobs, the workers load the model, and the first to fail says why: loading it
    # here first would hold up their start, the largest cost of a short run)
    return run(task, inputs, jobs)


def as_inputs(inputs: Iterable[Any]) -> Iterator[Input]:
    """Each input as an ``Input``: a path stays a path (a file), bytes and arrays are
    named ``<bytes i>`` and ``<array i>`` by their place among the inputs."""
    return (as_input(item, i) for i, item in enumerate(inputs))


def as_input(item: Any, i: int = 0) -> Input:
    """``item``, the ``i``-th input, as an ``Input`` (see ``as_inputs``)."""
    if isinstance(item, Input):
        return item
    if isinstance(item, (str, os.PathLike)):
        return Input(os.fspath(item), os.fspath(item))
    if isinstance(item, (bytes, bytearray, memoryview)):
        return Input(f"<bytes {i}>", bytes(item))
    if isinstance(item, np.ndarray):
        return Input(f"<array {i}>", item)
    return Input(f"<input {i}>", SourceError(f"input {i}: a {type(item).__name__}, not a path, "
                                             "bytes or an array"))


__all__ = ["predict_many", "read_many", "expand", "Result", "Input", "Task", "run_chunks", "as_inputs",
           "as_input"]
