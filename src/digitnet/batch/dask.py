"""Dask (dask.distributed) as the engine: the same chunks, computed on a cluster.

- ``run`` streams chunks of inputs to a scheduler's workers (a few per worker in
  flight, in order), each computed by ``work.run_chunk``: the same function, on the
  same chunks, as ``--jobs N``, so the same answers to the last bit. The task (and
  its model, when it is an object) is scattered to every worker once; each worker
  process loads the network once.
- ``predict_partition`` / ``read_partition`` are for a Dask bag or dataframe of
  paths, URLs or bytes that users already have: ``bag.map_partitions(predict_partition)``,
  then ``.to_dataframe().to_parquet(...)`` writes the results per partition.

Dask, distributed and pyarrow are imported only here, only when used
(``pip install 'digitnet[dask]'``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import DigitnetError
from .runner import IN_FLIGHT, chunks, ordered, packed_chunk, unpacked
from .sources import Input, drop_spooled
from .work import Result, Task, build, release, run_chunk

#: Seconds to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 10
#: Chunks per Dask task (each computed alone: the same bits), but for the last few: a
#: task costs the client and a worker 5-10 ms of CPU time.
CHUNKS_PER_TASK = 4
#: A LocalCluster's settings: Dask's defaults watch the processes for a dashboard this
#: cluster does not have (a sample of each worker's stack every 10 ms, its event loop
#: every 20 ms, its memory every 100 ms); here, every second or not at all. Idle, the
#: cluster then spends a sixth of the CPU time it did (BENCHMARKS.md, "Batch mode").
QUIET = {"distributed.worker.profile.enabled": False,
         "distributed.admin.tick.interval": "1s",
         "distributed.admin.system-monitor.interval": "2s",
         "distributed.admin.system-monitor.gil.enabled": False,
         "distributed.worker.memory.monitor-interval": "1s",
         # glibc keeps freed memory for reuse, as in digitnet's own processes (cli/memory.py):
         # Dask's default (trimming from 64 kB) made every large NumPy block a fresh mapping,
         # its pages faulted in anew, and a worker spent twice the CPU time per digit
         "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 1 << 30,
         "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 32 << 20,
         "distributed.nanny.pre-spawn-environ.MALLOC_TOP_PAD_": 64 << 20}


def client_for(scheduler: Any, jobs: int = 2):
    """A ``distributed.Client``: ``scheduler`` itself if it is one, a LocalCluster of
    ``jobs`` single-threaded worker processes listening on 127.0.0.1 for "local", or
    the scheduler at the address given."""
    try:
        import distributed
    except ImportError:
        raise DigitnetError("Dask is not installed: pip install 'digitnet[dask]'") from None
    if isinstance(scheduler, distributed.Client):
        return scheduler
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its start-up chatter
    if scheduler == "local":
        return distributed.Client(local_cluster(jobs))
    try:
        return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as e:
        raise DigitnetError(f"cannot reach the Dask scheduler at {scheduler}: "
                            f"{' '.join(str(e).split())[:160]}") from None


def local_cluster(jobs: int = 2):
    """A LocalCluster of ``jobs`` single-threaded worker processes on 127.0.0.1, without
    Dask's dashboard watchers (``QUIET``), leaving this process's environment as it was.

    distributed's nannies set OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, PYTHONHASHSEED
    and the like in the environment of the process that starts them, so that the workers
    inherit them (its ``distributed.nanny.pre-spawn-environ``), and leave them there:
    every process the caller starts afterwards would run its BLAS on one thread (a
    training run started after a Dask test gave other bits in its last place). They are
    put back once the workers are up.

    The workers start as ``start_method`` says."""
    import warnings

    import dask
    import distributed

    method = start_method()
    saved = dict(os.environ)
    try:
        with dask.config.set({**QUIET, "distributed.worker.multiprocessing-method": method}), \
                warnings.catch_warnings(), _ctrl_c_left_to_this_process():
            # (Python 3.12 warns of any copy of a process that runs threads: here the main thread
            # only waits for the workers, and the cluster's thread starts them)
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            return distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _ctrl_c_left_to_this_process():
    """Workers started within ignore Ctrl-C, which the terminal sends to every process of
    the command: this process stops the cluster, where each worker printed a traceback.
    (A copy of a process keeps what it ignores, and so does a new Python started by it.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # (only the main thread may)
        yield
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


def start_method() -> str:
    """How a LocalCluster's workers start: as copies of this process (Dask's
    ``distributed.worker.multiprocessing-method`` "fork") on Linux when it runs no other
    thread, with distributed imported and the model built already (``run`` builds it
    first); else afresh ("spawn", Dask's default), each importing distributed and
    loading the model, a second of CPU time. (Copying a process while another of its
    threads, fsspec's say, holds a lock is not safe, and macOS does not allow it; the
    cluster's own thread, which makes the copies, is Dask's to keep safe.) A worker of a
    cluster started by other means loads the model itself."""
    import threading

    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


def run(task: Task, inputs: Iterable[Input], scheduler: Any, jobs: int = 2) -> Iterator[list[Result]]:
    """``task``'s results over ``inputs``, a chunk at a time, in order, computed by
    the workers of ``scheduler``. Local files are sent as their bytes (the workers
    need not see this machine's disk), but to a LocalCluster, as their paths."""
    build(task)  # a model that cannot be used fails here, once, before the cluster is used
    local = scheduler == "local"
    if not (local and start_method() == "fork"):
        release()  # the workers load their own
    client = client_for(scheduler, jobs)
    owned = client is not scheduler
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        shared = client.scatter(task, broadcast=True, hash=False)
        pieces = chunks(inputs if local else (_with_bytes(item) for item in inputs), task.batch_size)
        window = IN_FLIGHT * workers

        def submit(group):
            return group, client.submit(_packed, shared, Sealed(group), pure=False)

        for results in ordered(submit, grouped(pieces, CHUNKS_PER_TASK, window), window, _received):
            yield from results
    finally:
        if owned:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()


def grouped(pieces: Iterable[list[Input]], size: int, last: int) -> Iterator[list[list[Input]]]:
    """The chunks ``size`` at a time, but the ``last`` few one at a time (so that the
    workers finish together)."""
    held: deque = deque()
    for piece in pieces:
        held.append(piece)
        if len(held) >= last + size:
            yield [held.popleft() for _ in range(size)]
    while held:
        yield [held.popleft()]


class Sealed:
    """Chunks of inputs as one object: Dask walks a list given to ``submit`` item by
    item, looking for futures in it (a quarter of the client's CPU time a chunk)."""

    __slots__ = ("chunks",)

    def __init__(self, chunks: list[list[Input]]):
        self.chunks = chunks

    def __reduce__(self):
        return Sealed, (self.chunks,)


def _packed(task: Task, sealed: Sealed) -> list[tuple]:
    return [packed_chunk(task, piece) for piece in sealed.chunks]


def _received(sent) -> list[list[Result]]:
    group, future = sent
    results = [unpacked(piece, packed) for piece, packed in zip(group, future.result())]
    for piece in group:
        drop_spooled(piece)
    return results


def _with_bytes(item: Input) -> Input:
    """``item`` with a local file's bytes, or a local document's page drawn, in place of
    its path: what a worker on another machine can read."""
    from ..data.frontend.decode import Page

    name, data = item
    if isinstance(data, Page) and isinstance(data.source, str):  # (its file is on this disk)
        from ..errors import ImageError
        from .sources import SourceError

        try:
            return Input(name, data.encoded())
        except ImageError as e:
            return Input(name, SourceError(str(e)))
    if isinstance(data, str):
        from ..data.preprocess import MAX_BYTES
        from .sources import SourceError

        try:
            with open(data, "rb") as f:
                return Input(name, f.read(MAX_BYTES + 1))
        except OSError as e:
            return Input(name, SourceError(f"{name}: {e.strerror or e}"))
    return item


def predict_partition(partition: Any, model: Any = None, shortcut: float | None = None,
                      column: str = "path", batch_size: int = 256) -> Any:
    """The digit in each item of a Dask partition, for ``map_partitions``.

    Parameters
    ----------
    partition : list or pandas.DataFrame
        A bag's partition (paths, URLs or bytes), or a dataframe's, whose ``column``
        holds them.
    model : str or None
        A model file or shipped model's name (loaded once per worker process).
    shortcut : float or None
        The ensemble's early exit (``digitnet.pretrained.SHORTCUT`` as the CLI).

    Returns
    -------
    list of dict (for a bag) or pandas.DataFrame (for a dataframe)
        One row per item: path, answer, confidence, error.
    """
    return _partition(Task("predict", model, shortcut, batch_size=batch_size, token=_token(
        "predict", model, shortcut)), partition, column)


def read_partition(partition: Any, model: Any = None, min_confidence: float = 0.5,
                   column: str = "path", batch_size: int = 8, marks: bool = False,
                   lines: bool = False, length: int | None = None, pattern: str | None = None,
                   check: str | None = None, review: str | None = None) -> Any:
    """The number written in each item of a Dask partition (as ``predict_partition``;
    ``marks``, ``lines``, ``length``, ``pattern``, ``check`` and ``review`` as ``read_many``'s:
    ``review`` a folder as the workers see it)."""
    return _partition(Task("read", model, min_confidence=min_confidence, marks=marks, lines=lines,
                           length=length, pattern=pattern, check=check, review=review, batch_size=batch_size,
                           token=_token("read", model, min_confidence, marks, lines, length, pattern, check,
                                        review)),
                      partition, column)


def _token(*args):
    return repr(args)  # the same task on every partition: its network is built once per worker


def _partition(task, partition, column):
    frame = hasattr(partition, "columns")
    items = partition[column].tolist() if frame else list(partition)
    rows = [r.row() for piece in chunks(_inputs(items), task.batch_size) for r in run_chunk(task, piece)]
    if not frame:
        return rows
    import pandas

    return pandas.DataFrame(rows, columns=["path", "answer", "confidence", "error"])


def _inputs(items):
    """A partition's items as inputs: a URL fetched here (by the worker), the rest as given."""
    from . import as_input
    from .sources import expand, is_url

    for i, item in enumerate(items):
        if isinstance(item, str) and is_url(item):
            yield from expand([item])
        else:
            yield as_input(item, i)
