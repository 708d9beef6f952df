"""Freed memory kept for reuse (cli/memory.py): NumPy's operations on larger arrays
then take no fresh pages from the system each time."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")

FAULTS = """
import resource, sys
import numpy as np
from digitnet.cli.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
x = np.ones(80_000, np.float32)  # 320 kB, as a 280x280 image in floats
for _ in range(5):
    x.copy() / 255.0
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    x.copy() / 255.0  # two blocks of 320 kB taken and freed each time
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode):
    done = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True,
                          timeout=60, check=True)
    return int(done.stdout)


def test_freed_memory_is_reused_without_page_faults():
    default = page_faults("default")
    if default < 50 * 40:  # another allocator, or a glibc that keeps such blocks anyway
        pytest.skip(f"this malloc faults {default} times by default: nothing to show")
    assert page_faults("keep") < 50  # about 80 pages a time before


def test_the_command_line_keeps_freed_memory(monkeypatch, capsys):
    from digitnet.cli import main, memory

    called = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: called.append(True))
    from digitnet.pretrained import default_model_path

    assert main(["info", str(default_model_path())]) == 0
    assert called
