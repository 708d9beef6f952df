"""Running a task over a stream of inputs: in this process, or in worker processes.

Inputs are cut into chunks of ``task.batch_size``; at most a few chunks per worker
are in flight at any time, so memory stays bounded whatever the number of inputs,
and results come back in the order of the inputs.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

import numpy as np

from ..errors import DigitnetError
from .sources import Input, drop_spooled
from .work import Result, Task, build, run_chunk

T = TypeVar("T")

#: Chunks in flight per worker: one being computed, one waiting, one being returned.
IN_FLIGHT = 3


def every_core() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chunks(inputs: Iterable[Input], size: int) -> Iterator[list[Input]]:
    it = iter(inputs)
    while chunk := list(islice(it, size)):
        yield chunk


def ordered(submit: Callable[[Any], Any], pieces: Iterable[Any], window: int,
            result: Callable[[Any], T]) -> Iterator[T]:
    """``result(submit(piece))`` for each piece, in order, with at most ``window``
    submitted and not yet returned."""
    pending: deque = deque()
    for piece in pieces:
        pending.append(submit(piece))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


def run(task: Task, inputs: Iterable[Input], jobs: int = 1) -> Iterator[list[Result]]:
    """The results of ``task`` over ``inputs``, a chunk at a time, computed by ``jobs``
    processes (1: this one)."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    pieces = chunks(inputs, task.batch_size)
    if jobs == 1:
        build(task)  # a model that cannot be used fails before any input is read
        for piece in pieces:
            results = run_chunk(task, piece)
            drop_spooled(piece)
            yield results
        return
    yield from _pool(task, pieces, jobs)


def _pool(task, pieces, jobs):
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = start_method()
    if context.get_start_method() == "fork":
        build(task)  # once, here: the workers start with it
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start, initargs=(task,))
    try:
        pool.submit(int)  # the workers start now, before any input is read (a URL's may start a thread)
        yield from ordered(lambda piece: (piece, pool.submit(_work, piece)), pieces, IN_FLIGHT * jobs,
                           received)
    except BrokenProcessPool:
        raise DigitnetError("a worker process died (out of memory, or killed); "
                            "run again with --resume to go on") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def start_method():
    """How the workers start: as copies of this process (``fork``) when it is safe,
    which costs nothing; else from a clean process that has imported digitnet once
    (``forkserver``; ``spawn`` on Windows), each loading the model. Copying a process
    that runs other threads (a progress bar's, fsspec's) is not safe, and macOS does
    not allow it."""
    import multiprocessing
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["digitnet.batch.work"])
    return context


def received(sent: tuple[list[Input], Any]) -> list[Result]:
    """The results of a chunk sent to a worker (``(piece, future)``), once back."""
    piece, future = sent
    results = unpacked(piece, future.result())
    drop_spooled(piece)
    return results


def packed_chunk(task: Task, piece: list[Input]) -> tuple:
    """``run_chunk``'s results as a worker sends them back: a column per field, the
    probabilities in one array, and no names (the sender has them). A list of
    ``Result`` cost a pickled object and a small array per input."""
    results = run_chunk(task, piece)
    held = [r.probabilities for r in results if r.probabilities is not None]
    return ([r.answer for r in results], np.array([r.confidence for r in results], np.float64),
            [r.error for r in results], np.array([r.probabilities is not None for r in results]),
            np.stack(held) if held else None, np.array([r.several for r in results]))


def unpacked(piece: list[Input], packed: tuple) -> list[Result]:
    """The ``Result`` of each input of ``piece`` from ``packed_chunk``'s columns."""
    answers, confidences, errors, held, probabilities, several = packed
    rows = iter(probabilities if probabilities is not None else ())
    return [Result(name, answer, float(confidence), error, next(rows) if has else None, bool(many))
            for (name, _), answer, confidence, error, has, many
            in zip(piece, answers, confidences, errors, held, several)]


_TASK: list[Task] = []


def _start(task: Task) -> None:
    """A worker's start: Ctrl-C left to the main process (which stops the workers), so
    that it is not a traceback from each of them. The model is loaded with the first
    chunk (once): a model that cannot be used is then that chunk's error, raised in the
    main process, where a failed start would only say that a worker died."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_orphaned, daemon=True).start()
    _TASK.append(task)


def _orphaned():
    """Exit when the main process is gone (killed with SIGKILL, it cannot say so: the
    worker would wait for work forever)."""
    import multiprocessing.connection

    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def _work(piece: list[Input]) -> tuple:
    return packed_chunk(_TASK[0], piece)

