"""Where the pictures of a batch come from: files, folders, globs, lists of names,
zip and tar archives read in place, and fsspec URLs.

``expand`` turns what a user names into a stream of ``Input`` (a name and what to
read), lazily: a folder of a million files or a tar archive of a million members is
never held in memory. Local files stay paths (the workers read them); archive
members and URLs are read here, as bytes, in the order they come.
"""

from __future__ import annotations

import glob
import os
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ..data.formats import DOCUMENT_SUFFIXES, IMAGE_SUFFIXES
from ..data.frontend.decode import Page

#: What a worker can prepare: a local path, the bytes of a picture, an array, or a page
#: of a local document (``frontend.decode.Page``).
Data = str | bytes | np.ndarray | Page

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
ARCHIVE_SUFFIXES = (".zip", *TAR_SUFFIXES)
#: Pictures and documents that can have several pages (``pictures``).
PAGED_SUFFIXES = (".tif", ".tiff", ".pdf")
#: Files that can hold many digits in MNIST's form (``digit_rows``).
STACK_SUFFIXES = (".npy", ".csv")
#: URLs fetched together (``fsspec``'s ``cat`` fetches a list concurrently where it can).
URL_GROUP = 64


class Input(NamedTuple):
    """One picture: ``name`` (its path, ``archive.zip/member.png``, its URL, or
    ``<bytes 3>``) and ``data`` (a local path, bytes, an array, or a ``SourceError``)."""

    name: str
    data: Data | SourceError


class SourceError(NamedTuple):
    """An input that could not be read here: its row carries the message."""

    message: str


def is_url(text: str) -> bool:
    return "://" in text or "::" in text


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def is_picture(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES | DOCUMENT_SUFFIXES


def expand(items: Iterable[str], files_from: str | None = None, stacks: bool = False) -> Iterator[Input]:
    """The pictures named by ``items`` (and by the lines of the file ``files_from``,
    ``-`` for standard input), one ``Input`` each, streamed.

    A folder stands for the pictures under it (recursively, sorted); a zip or tar
    archive for its pictures (a tar is streamed, never indexed); ``archive.zip/a/b.png``
    for one member; a name with ``*``, ``?`` or ``[`` that is not a file for the files it
    matches; ``s3://``, ``gs://``, ``https://``, ``memory://``... for what fsspec finds
    there (a folder, a glob, an archive or one file). With ``stacks`` (``predict``), a
    local file of several digits in MNIST's form, a ``.npy`` stack or a CSV file of
    pixels, stands for its rows (``digit_rows``). What cannot be read is an ``Input``
    whose data is a ``SourceError``: the run reports it in its row and goes on.
    """
    names = list(items)
    if files_from is not None:
        names = _chain(names, _lines(files_from))
    urls: list[str] = []
    for name in names:
        if is_url(name):
            urls.append(name)
            if len(urls) >= URL_GROUP:
                yield from _urls(urls)
                urls = []
            continue
        yield from _urls(urls)
        urls = []
        yield from _local(name, stacks)
    yield from _urls(urls)


def _chain(first, second):
    yield from first
    yield from second


def _lines(files_from):
    stream = sys.stdin if files_from == "-" else open(files_from, encoding="utf-8", errors="surrogateescape")
    try:
        for line in stream:
            line = line.rstrip("\r\n")
            if line:
                yield line
    finally:
        if stream is not sys.stdin:
            stream.close()


def _local(name: str, stacks: bool = False) -> Iterator[Input]:
    if os.path.isdir(name):
        for path in walk(name):
            yield from pictures(path, path)
    elif os.path.isfile(name):
        if is_archive(name):
            yield from archive_members(name)
        elif stacks and name.lower().endswith(STACK_SUFFIXES):
            yield from digit_rows(name)
        else:
            yield from pictures(name, name)
    elif glob.has_magic(name):
        matches = sorted(glob.glob(name, recursive=True))
        if not matches:
            yield Input(name, SourceError(f"{name}: no files match"))
        for match in matches:
            yield from _local(match, stacks)
    else:
        yield _member(name)


def pictures(name: str, data: str | bytes) -> Iterator[Input]:
    """``Input(name, data)``, or one input for each page of a multi-page TIFF (a document
    scanner's file) or a PDF, named ``name:1``, ``name:2``... (``frontend.decode.pages``;
    a PDF of one page is ``name``). Each page is a ``Page``, drawn or decoded by the
    worker that reads it; a document given as bytes (an archive's member, a URL's file)
    is first written to a file of this process's (``spooled``), so that the workers are
    not sent the whole document for every page, nor wait for this process to draw them
    all (a worker on another machine gets each page drawn: ``dask._with_bytes``)."""
    if not name.lower().endswith(PAGED_SUFFIXES):
        return iter([Input(name, data)])
    from ..data.frontend.decode import may_be_a_document, pages

    def split():
        if isinstance(data, str) or not may_be_a_document(data):
            return pages(data, name)
        path = spooled(data, name)
        try:
            found = pages(path, name)
        except BaseException:
            os.remove(path)
            raise
        if found is None:  # one picture: the input is its bytes
            os.remove(path)
        return found

    return _parts(name, data, split, alone=True)


_SPOOL: list[str] = []


def spooled(data: bytes, name: str) -> str:
    """A file holding ``data`` (a document of several pages called ``name``), in a folder
    of this process's removed when it ends; the file itself goes once its last page's
    result is back (``drop_spooled``)."""
    import atexit
    import tempfile

    if not _SPOOL:
        _SPOOL.append(tempfile.mkdtemp(prefix="digitnet-documents-"))
        atexit.register(_remove_spool, _SPOOL[0], os.getpid())
    suffix = os.path.splitext(name)[1].lower()
    fd, path = tempfile.mkstemp(suffix=suffix, dir=_SPOOL[0])
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def drop_spooled(piece: list[Input]) -> None:
    """Remove the spooled file (``spooled``) of each document whose last page is one of
    the inputs of ``piece``, a chunk whose results are back: results come back in the
    order of the inputs, so every page of it has been read. A run over many documents
    at URLs or in archives then holds one or two of them on disk at a time, not all."""
    if not _SPOOL:
        return
    from ..data.frontend.decode import Page

    for _, data in piece:
        if (isinstance(data, Page) and data.number == data.total and isinstance(data.source, str)
                and os.path.dirname(data.source) == _SPOOL[0]):
            try:
                os.remove(data.source)
            except OSError:
                pass  # (removed already: the same chunk sent again after a failure)


def _remove_spool(folder: str, owner: int) -> None:
    """Remove the spool ``folder`` when the process that made it ends (not a worker
    forked from it that happens to run exit handlers: the others still read from it)."""
    import shutil

    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def digit_rows(path: str) -> Iterator[Input]:
    """The digits of a ``.npy`` stack, (N, 784) or (N, 28, 28), or of a CSV file of pixels
    (``formats.pixel_rows``), an input a row named ``path:1``, ``path:2``..., as
    ``digitnet predict`` names them; a ``.npy`` of one digit is one input, the file."""
    from ..data.formats import pixel_rows

    return _parts(path, path, lambda: pixel_rows(path))


def _parts(name: str, data: str | bytes, split, alone: bool = False) -> Iterator[Input]:
    """The inputs of a file that may hold several: the parts ``split()`` finds, named
    ``name:1``, ``name:2``... (with ``alone``, one part is named ``name``); the file itself
    where it finds None; its error, as a row."""
    from ..errors import DataError, ImageError

    try:
        found = split()
    except (DataError, ImageError) as e:
        yield Input(name, SourceError(str(e)))
        return
    if found is None:
        yield Input(name, data)
    elif alone and len(found) == 1:
        yield Input(name, found[0])
    else:
        yield from (Input(f"{name}:{k + 1}", part) for k, part in enumerate(found))


def walk(folder: str) -> Iterator[str]:
    """The pictures under ``folder``, each folder's sorted, depth first."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if is_picture(name):
                yield os.path.join(root, name)


def archive_members(path: str, opener=None) -> Iterator[Input]:
    """The pictures in the zip or tar archive ``path``, as bytes, in the archive's order.
    ``opener`` opens it (a file object), for an archive behind a URL."""
    try:
        if path.lower().endswith(".zip"):
            with zipfile.ZipFile(opener() if opener else path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and is_picture(info.filename):
                        yield from pictures(f"{path}/{info.filename}", archive.read(info))
            return
        stream = opener() if opener else open(path, "rb")
        with stream, tarfile.open(fileobj=stream, mode="r|*") as archive:  # streamed
            while (member := archive.next()) is not None:
                body = archive.extractfile(member) if member.isfile() and is_picture(member.name) else None
                if body is not None:
                    yield from pictures(f"{path}/{member.name}", body.read())
                archive.members.clear()  # type: ignore[attr-defined]  # (tarfile keeps all it has read)
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError) as e:
        yield Input(path, SourceError(f"{path}: not a readable archive: {e}"))


def split_member(name: str) -> tuple[str, str] | None:
    """``archive.zip/a/b.png`` -> ("archive.zip", "a/b.png") when the archive is a file
    (a tar's likewise); None for any other name."""
    parts = name.replace(os.sep, "/").split("/")
    for i in range(len(parts) - 1, 0, -1):
        archive = "/".join(parts[:i])
        if is_archive(archive) and os.path.isfile(archive):
            return archive, "/".join(parts[i:])
    return None


def _member(name: str) -> Input:
    """``archive.zip/member.png`` (or a tar's): that member; anything else: no such file."""
    member = split_member(name)
    if member is None:
        return Input(name, SourceError(f"{name}: no such file"))
    return _read_member(name, *member)


def _read_member(name, archive, member):
    try:
        if archive.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                return Input(name, z.read(member))
        with tarfile.open(archive) as t:
            body = t.extractfile(member)
            if body is None:  # a folder, a link...
                raise KeyError(member)
            return Input(name, body.read())
    except KeyError:
        return Input(name, SourceError(f"{archive}: no member {member}"))
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError) as e:
        return Input(name, SourceError(f"{archive}: not a readable archive: {e}"))


def _urls(urls: list[str]) -> Iterator[Input]:
    """The pictures at ``urls`` (fsspec), fetched a group at a time."""
    files: list[tuple[object, str, str]] = []
    for url in urls:
        try:
            fs, found = _find(url)
        except Exception as e:  # a backend not installed, a bucket refused: this URL's row
            yield Input(url, SourceError(f"{url}: {_message(e)}"))
            continue
        for path, shown in found:
            if is_archive(path):
                yield from _fetch(files)
                files = []
                yield from archive_members(shown, lambda fs=fs, path=path: fs.open(path, "rb"))
                continue
            files.append((fs, path, shown))
            if len(files) >= URL_GROUP:
                yield from _fetch(files)
                files = []
    yield from _fetch(files)


def _find(url):
    """The file system of ``url`` and the files it names: (path in it, name shown)."""
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(url)

    def named(p):
        return p, fs.unstrip_protocol(p)

    if glob.has_magic(path):
        return fs, [named(p) for p in sorted(fs.glob(path)) if is_picture(p) or is_archive(p)]
    if fs.isdir(path):
        return fs, [named(p) for p in sorted(fs.find(path)) if is_picture(p)]
    return fs, [(path, url)]


def _fetch(files):
    """Each file's bytes, or its error, fetched together per file system."""
    if not files:
        return
    fs = files[0][0]
    if any(f is not fs for f, _, _ in files):  # several file systems: one at a time
        for file in files:
            yield from _fetch([file])
        return
    try:
        contents = fs.cat([path for _, path, _ in files], on_error="return")
    except Exception as e:
        contents = {path: e for _, path, _ in files}
    for _, path, shown in files:
        data = contents.get(path, FileNotFoundError(path))
        if isinstance(data, Exception):
            yield Input(shown, SourceError(f"{shown}: {_message(data)}"))
        else:
            yield from pictures(shown, bytes(data))


def _message(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def count(items: list[str], files_from: str | None = None) -> int | None:
    """How many pictures ``expand(items)`` yields, when that is cheap to know (local
    files, folders and globs: names only); None otherwise (an archive to read, a URL
    to list, a list of names to consume)."""
    if files_from is not None or any(is_url(n) or is_archive(n) or n.lower().endswith(STACK_SUFFIXES)
                                     for n in items):
        return None
    total = 0
    for name in items:
        if os.path.isdir(name):
            total += sum(1 for _ in walk(name))
        elif glob.has_magic(name) and not os.path.exists(name):
            matches = glob.glob(name, recursive=True)
            if any(is_archive(m) or os.path.isdir(m) or m.lower().endswith(STACK_SUFFIXES) for m in matches):
                return None
            total += max(len(matches), 1)
        else:
            total += 1
    return total
