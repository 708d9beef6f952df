"""Batch mode of ``predict`` and ``read``: many inputs, streamed to worker processes
or a Dask cluster, one row per input (``digitnet.batch``; docs/batch.md).

A command is in batch mode when it is given one of the options added here, or an
input that only batch mode reads (an archive, a glob pattern, a URL). Otherwise it
prints as it always has.
"""

from __future__ import annotations

import sys
import time

from . import fail, positive_int, shown

#: Options that ask for batch mode (their default is None or False).
OPTIONS = ("jobs", "format", "out", "resume", "files_from", "scheduler", "quiet")


def add_options(p, example="predict"):
    group = p.add_argument_group(
        "batch mode", f"for many inputs: rows of path, answer, confidence, error (docs/batch.md); "
        f"e.g. digitnet {example} scans/ --out results.csv")
    group.add_argument("--jobs", type=positive_int, metavar="N",
                       help="worker processes (default: every core)")
    group.add_argument("--format", choices=("jsonl", "csv", "parquet"),
                       help="rows as JSON lines or CSV (default: by --out's extension, else jsonl)")
    group.add_argument("--out", metavar="FILE",
                       help="write the rows to FILE (.jsonl, .csv; .parquet: a folder of parts) "
                       "instead of standard output")
    group.add_argument("--resume", action="store_true",
                       help="go on with --out FILE: the inputs it already answers are skipped")
    group.add_argument("--files-from", metavar="FILE",
                       help="also read the inputs named in FILE, one a line (- : standard input)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on Dask: a scheduler's address (tcp://host:8786), or `local` "
                       "for a cluster of --jobs workers on this machine (pip install 'digitnet[dask]')")
    group.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return group


def wanted(args) -> bool:
    """Whether the command runs in batch mode."""
    from ..batch.sources import is_archive, is_url

    if any(getattr(args, name) not in (None, False) for name in OPTIONS):
        return True
    return any(is_url(i) or is_archive(i) or _pattern(i) or _member(i) for i in args.images)


def _pattern(name):
    import glob
    import os

    return glob.has_magic(name) and not os.path.exists(name)


def _member(name):
    """``archive.zip/member.png``: a member of an archive that exists."""
    import os

    from ..batch.sources import split_member

    return not os.path.exists(name) and split_member(name) is not None


def refuse(args, flags):
    """Refuse the flags of the command's one-input-at-a-time mode with batch options."""
    for flag in flags:
        if getattr(args, flag.lstrip("-").replace("-", "_"), None):
            fail(f"{flag} does not go with batch mode (--jobs, --out, --format, ...); "
                 "batch mode writes rows of path, answer, confidence, error")


def run(args, task) -> int:
    """Run ``task`` over the command's inputs; the exit status (2 if an input was unreadable or blank)."""
    from ..batch import run_chunks
    from ..batch.runner import every_core
    from ..batch.sources import count, expand
    from ..batch.writers import format_of, open_writer

    if not args.images and not args.files_from:
        fail("no inputs: name images, folders, archives or URLs, or give --files-from")
    jobs = args.jobs or every_core()
    writer = open_writer(args.out, format_of(args.out, args.format), args.resume)
    tally = Tally()
    bar = _bar(args, lambda: count(args.images, args.files_from))
    inputs = (item for item in _pages_counted(expand(args.images, args.files_from,
                                                     stacks=task.kind == "predict"), bar)
              if item.name not in writer.answered or tally.skip())
    try:
        for chunk in run_chunks(task, inputs, jobs, args.scheduler):
            writer.write(chunk)
            tally.add(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(f"digitnet: {tally}", file=sys.stderr)
        if tally.several:  # as `digitnet predict` says of one picture
            print(f"digitnet: {tally.several:,} look like several digits side by side (the first: "
                  f"{shown(tally.first_several)}); `digitnet read` reads numbers", file=sys.stderr)
    return 2 if tally.unreadable or tally.blank else 0


def _pages_counted(inputs, bar):
    """``inputs``, the progress ``bar``'s total grown by a document's further pages as
    they come (``count`` counts a file once, without opening it)."""
    from ..data.frontend.decode import Page

    for item in inputs:
        if bar is not None and bar.total and isinstance(item.data, Page) and item.data.number > 1:
            bar.total += 1  # (shown with the next update)
        yield item


def _bar(args, total):
    """A progress bar with rate and time left, on a terminal only."""
    if args.quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0  # no thread watching it: the workers can then start as copies of this process

    return Bar(total=total(), unit=" inputs", dynamic_ncols=True, file=sys.stderr)


class Tally:
    """The summary line: how many inputs, answered, blank, unreadable, skipped."""

    def __init__(self):
        self.start = time.monotonic()
        self.answered = self.blank = self.unreadable = self.skipped = self.several = 0
        self.first_error = self.first_several = None

    def skip(self) -> bool:
        self.skipped += 1
        return False

    def add(self, results):
        for r in results:
            if r.error is None:
                self.answered += 1
                if r.several:  # a number given to predict
                    self.several += 1
                    self.first_several = self.first_several or r.path
            elif r.blank:
                self.blank += 1
            else:
                self.unreadable += 1
                self.first_error = self.first_error or r.error

    def __str__(self):
        done = self.answered + self.blank + self.unreadable
        seconds = time.monotonic() - self.start
        inputs = f"{done:,} input{'' if done == 1 else 's'}"
        text = (f"{inputs} in {seconds:.1f} s ({done / max(seconds, 1e-9):,.0f} a second): "
                f"{self.answered:,} answered, {self.blank:,} with no digit, {self.unreadable:,} unreadable")
        if self.skipped:
            text += f"; {self.skipped:,} skipped, answered before"
        if self.first_error:
            text += f" (the first: {shown(self.first_error)})"
        return text
