"""Atomic file writing: a file is replaced whole or not at all, even if the process is
killed mid-write (a temporary file in the same folder, synced, then renamed over it)."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import ModelFileError


def check_output(path):
    """``(Path(path), its folder)`` if ``atomic_write`` may write there; ModelFileError
    if the path is empty, its folder does not exist, or it names something other than
    a regular file (a folder, a device such as /dev/full, a FIFO), which renaming a new
    file over it would replace."""
    if not os.fspath(path):
        raise ModelFileError("'': an empty path; name a file")
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"{path}: folder {directory} does not exist")
    if os.path.lexists(path) and not path.is_file():
        raise ModelFileError(f"{path}: exists and is not a regular file; choose another name")
    return path, directory


@contextmanager
def atomic_write(path, suffix=".tmp"):
    """Yield a temporary path next to ``path``; on success rename it over ``path``.
    On any error the temporary file is removed and ``path`` is untouched."""
    path, directory = check_output(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=suffix)
    except OSError as e:
        raise ModelFileError(f"{path}: cannot write there: {e.strerror or e}") from None
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(directory)
    except OSError as e:  # a full disk, a folder turned read-only, ...
        raise ModelFileError(f"{path}: cannot write: {e.strerror or e} "
                             f"(any earlier version is intact)") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_directory(directory):
    """Make the rename itself durable (it lives in the folder), where the OS allows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def same_file(a, b):
    """Whether paths ``a`` and ``b`` name one file (through links too), existing or not."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _umask():
    # Reading it without setting it matters in threaded programs (a server): for a
    # moment os.umask(0) would make every file created by another thread world-writable.
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask
