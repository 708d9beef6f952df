"""Writing results as they come: JSON lines, CSV, or Parquet part files, safe to
resume after any crash.

- JSON lines and CSV are appended a chunk at a time, each chunk in one write of
  whole lines, and synced to disk every few seconds. A process killed mid-write
  leaves at most a torn last line, which ``--resume`` cuts off (its inputs are
  answered again).
- Parquet (``--out results.parquet``) is a folder of part files, as Dask and Spark
  write it: each part is written to a temporary name, synced, then renamed, so a
  part is whole or absent.

``--resume`` reads the paths already answered (a sorted array of 64-bit hashes of
the names: 8 bytes per input) and the run skips them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterable

import numpy as np

from ..errors import DigitnetError
from .work import Result

COLUMNS = ("path", "answer", "confidence", "error")
FORMATS = ("jsonl", "csv", "parquet")
#: Seconds between syncs of a lines file; rows of a Parquet part.
SYNC_EVERY = 5.0
PART_ROWS = 20_000


def key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=8).digest(),
                          "little")


class Answered:
    """The names already answered in an output (``name in answered``)."""

    def __init__(self, names: Iterable[str] = ()):
        self.keys = np.unique(np.fromiter((key(n) for n in names), np.uint64))

    def __len__(self):
        return len(self.keys)

    def __contains__(self, name: str) -> bool:
        if not len(self.keys):
            return False
        k = np.uint64(key(name))
        i = int(np.searchsorted(self.keys, k))
        return i < len(self.keys) and self.keys[i] == k


def format_of(out: str | None, given: str | None) -> str:
    """The output's format: ``given``, or its file's extension (JSON lines by default)."""
    if given:
        return given
    if out and out.lower().endswith(".parquet"):
        return "parquet"
    if out and out.lower().endswith(".csv"):
        return "csv"
    return "jsonl"


def open_writer(out: str | None, fmt: str, resume: bool = False):
    """A writer of rows to ``out`` (None: standard output) in ``fmt``; with ``resume``,
    what ``out`` already holds is kept, and its ``answered`` are to be skipped."""
    if fmt not in FORMATS:
        raise DigitnetError(f"--format is one of {', '.join(FORMATS)}, not {fmt}")
    if out is None:
        if resume:
            raise DigitnetError("--resume needs --out FILE: the output to resume")
        if fmt == "parquet":
            raise DigitnetError("Parquet is written to a folder: give --out results.parquet")
        return LinesWriter(sys.stdout, fmt)
    if os.path.exists(out) and not resume and _holds_rows(out):
        raise DigitnetError(f"{out} exists: --resume goes on with it, or remove it first")
    if fmt == "parquet":
        return ParquetWriter(out)
    return LinesWriter.to_file(out, fmt)


def _holds_rows(out):
    return os.listdir(out) if os.path.isdir(out) else os.path.getsize(out) > 0


class LinesWriter:
    """JSON lines or CSV, a chunk of rows per write."""

    def __init__(self, stream, fmt: str, answered: Answered | None = None, header: bool = True):
        self.stream, self.fmt = stream, fmt
        self.answered = answered or Answered()
        self.header = header and fmt == "csv"
        self.synced = time.monotonic()

    @classmethod
    def to_file(cls, path: str, fmt: str) -> LinesWriter:
        try:
            stream = open(path, "a+b")
            answered = _answered_lines(stream, fmt, path)
        except OSError as e:
            raise DigitnetError(f"--out {path}: cannot write there: {e.strerror or e}") from None
        return cls(stream, fmt, answered, header=stream.tell() == 0)

    def write(self, results: list[Result]) -> None:
        buffer = io.StringIO()
        if self.header:
            csv.writer(buffer, lineterminator="\n").writerow(COLUMNS)
            self.header = False
        if self.fmt == "csv":
            rows = csv.writer(buffer, lineterminator="\n")
            for r in results:
                rows.writerow([r.path, r.answer if r.answer is not None else "", repr(r.confidence),
                               r.error or ""])
        else:
            for r in results:
                buffer.write(json.dumps(r.row(), ensure_ascii=False) + "\n")
        text = buffer.getvalue()
        if isinstance(self.stream, io.TextIOBase):
            self.stream.write(text)
            self.stream.flush()
            return
        self.stream.write(text.encode("utf-8", "surrogateescape"))  # whole lines, one write
        self.stream.flush()
        if time.monotonic() - self.synced > SYNC_EVERY:
            os.fsync(self.stream.fileno())
            self.synced = time.monotonic()

    def close(self) -> None:
        if not isinstance(self.stream, io.TextIOBase):
            self.stream.flush()
            os.fsync(self.stream.fileno())
            self.stream.close()


def _answered_lines(stream, fmt, path):
    """The names in a lines file, read a line at a time, its torn last line (a crash
    mid-write) cut off first."""
    _cut_torn_line(stream)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        if fmt == "csv":
            rows = csv.reader(text)
            if tuple(next(rows, COLUMNS)) != COLUMNS:
                raise ValueError("no header")
            return Answered(row[0] for row in rows if row)
        return Answered(json.loads(line)["path"] for line in text if line.strip())
    except (ValueError, KeyError, TypeError, IndexError, csv.Error):
        raise DigitnetError(f"{path} is not a {fmt} output of digitnet: cannot resume it") from None
    finally:
        text.detach()
        stream.seek(0, os.SEEK_END)


def _cut_torn_line(stream, block=1 << 16):
    end = stream.seek(0, os.SEEK_END)
    position = end
    while position > 0:
        start = max(0, position - block)
        stream.seek(start)
        found = stream.read(position - start).rfind(b"\n")
        if found >= 0:
            position = start + found + 1
            break
        position = start
    if position < end:
        stream.truncate(position)


class ParquetWriter:
    """A folder of Parquet part files, each written whole or not at all."""

    def __init__(self, folder: str):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise DigitnetError("Parquet output needs pyarrow: pip install 'digitnet[dask]'") from None
        self.folder = folder
        self.rows: list[dict] = []
        try:
            os.makedirs(folder, exist_ok=True)
            parts = sorted(p for p in os.listdir(folder) if p.startswith("part-") and p.endswith(".parquet"))
            self.answered = Answered(self._names(parts))  # (read a part at a time)
        except OSError as e:
            raise DigitnetError(f"--out {folder}: cannot write there: {e.strerror or e}") from None
        self.number = 1 + max((int(p.split("-")[1].split(".")[0]) for p in parts), default=-1)

    def _names(self, parts):
        import pyarrow.parquet as pq

        for part in parts:
            try:
                table = pq.read_table(os.path.join(self.folder, part), columns=["path"])
                yield from table.column(0).to_pylist()
            except Exception as e:  # noqa: BLE001  (pyarrow raises several kinds)
                raise DigitnetError(f"{self.folder}/{part}: not a readable part: {e}") from None

    def write(self, results: list[Result]) -> None:
        self.rows.extend(r.row() for r in results)
        if len(self.rows) >= PART_ROWS:
            self._flush()

    def _flush(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=schema())
        name = os.path.join(self.folder, f"part-{self.number:06d}.parquet")
        tmp = os.path.join(self.folder, f".part-{self.number:06d}.parquet.tmp")
        pq.write_table(table, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, name)
        self.number += 1
        self.rows = []

    def close(self) -> None:
        self._flush()


def schema():
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("answer", pa.string()), ("confidence", pa.float64()),
                      ("error", pa.string())])
