"""Freed memory kept for reuse: glibc's malloc settings for digitnet's own processes.

By default glibc hands every block over 128 kB straight back to the system when it is
freed, and takes fresh pages for the next one. NumPy frees and allocates such blocks on
every operation on a larger array (a 280x280 float32 image is 313 kB; a batch of
activations, megabytes), and each fresh page costs a page fault: on the machine of
2026-11-27, `x.copy() / 255.0` on 70,000 floats took 270 us against 20 us with these
settings, and preprocessing one drawn digit 2.2 ms against 1.4 ms (BENCHMARKS.md).

The command line (``cli.main``) and each server worker call ``keep_freed_memory`` at
start; the library itself leaves the process's allocator alone.
"""

import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc's malloc.h


def keep_freed_memory():
    """Keep freed memory in the process (up to 1 GB of it) instead of returning it, and
    serve blocks up to 32 MB (glibc's maximum for this) from it; True if glibc took
    the settings. Elsewhere (macOS, musl, Windows) nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all([mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1,
                mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1,
                mallopt(M_TOP_PAD, 64 << 20) == 1])
