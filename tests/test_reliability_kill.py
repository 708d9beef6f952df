"""Atomic writes: a process killed (SIGKILL) at any moment while it writes a model and
a checkpoint leaves each file either the old complete version or the new one."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from digitnet.checkpoint import load_checkpoint
from digitnet.io import load_model

SRC = str(Path(__file__).resolve().parents[1] / "src")

# Writes version V of both files again and again until it is killed. Every array of
# version V holds the value V, so a file can be checked against the version it claims.
WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from digitnet.checkpoint import save_checkpoint
    from digitnet.io import save_model
    from digitnet.nn import mlp
    from digitnet.train import EpochResult, Position

    folder, version = sys.argv[1], int(sys.argv[2])
    net = mlp([784, 256, 10], rng=0)          # about 800 kB per file
    for value in net.state_dict().values():
        value[...] = version
    history = [EpochResult(e, 0.5, 1, 2, 0.1) for e in range(version)]
    rng = np.random.default_rng(version)
    print("ready", flush=True)
    while True:
        save_model(folder + "/model.npz", net, {"version": version})
        save_checkpoint(folder + "/model.ckpt.npz", net, None, rng, Position(version), history)
""")


def write(folder, version, kill_after=None):
    """Run the writer for ``version``; kill it ``kill_after`` seconds after it is ready
    (or let it write once when None). Returns whether it was killed."""
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(version)],
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": SRC})
    assert process.stdout.readline() == "ready\n"
    if kill_after is None:
        while not (folder / "model.ckpt.npz").exists():
            pass
        while load_checkpoint(folder / "model.ckpt.npz").position.epoch != version:
            pass
        kill_after = 0.0
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    return process.returncode == -signal.SIGKILL


def version_on_disk(folder):
    """The version each file holds, after checking it loads cleanly and that all of
    its content is that version's."""
    model = load_model(folder / "model.npz")
    checkpoint = load_checkpoint(folder / "model.ckpt.npz")
    versions = model.metadata["version"], checkpoint.position.epoch
    for value in model.state_dict().values():
        assert (value == versions[0]).all()
    for value in checkpoint.arrays.values():
        assert (value == versions[1]).all()
    assert len(checkpoint.history) == versions[1]
    assert checkpoint.rng_states["fit"] == np.random.default_rng(versions[1]).bit_generator.state
    return versions


def kill_while_writing(folder, rounds, seed):
    rng = random.Random(seed)
    write(folder, 0)  # version 0 complete on disk
    outcomes = {"old": 0, "new": 0, "mid-write": 0}
    for version in range(1, rounds + 1):
        assert write(folder, version, kill_after=rng.uniform(0, 0.05))
        for found in version_on_disk(folder):
            assert found in (version - 1, version), (found, version)
            outcomes["new" if found == version else "old"] += 1
        leftovers = [p for p in folder.iterdir() if p.name.startswith(".")]
        outcomes["mid-write"] += bool(leftovers)  # a temporary file: killed while writing
        for p in leftovers:
            p.unlink()
        # Make this round's new version the next round's old one.
        if version_on_disk(folder) != (version, version):
            write(folder, version)
    return outcomes


def test_kill_during_writes_smoke(tmp_path):
    outcomes = kill_while_writing(tmp_path, rounds=3, seed=1)
    assert outcomes["old"] + outcomes["new"] == 6


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_broken_file(tmp_path):
    outcomes = kill_while_writing(tmp_path, rounds=60, seed=2)
    assert outcomes["old"] + outcomes["new"] == 120
    # The kills did land at different moments: before, during and between writes.
    assert outcomes["old"] > 0 and outcomes["new"] > 0 and outcomes["mid-write"] > 0
    print(f"60 kills survived: {outcomes}")


def test_a_full_disk_is_one_error_and_keeps_the_old_file(tmp_path, monkeypatch, capsys,
                                                         tiny_mnist):
    import errno

    from digitnet.cli import main
    from digitnet.errors import ModelFileError
    from digitnet.io import save_model
    from digitnet.nn import mlp

    path = tmp_path / "model.npz"
    save_model(path, mlp([784, 10], rng=0))
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(ModelFileError, match="No space left on device.*intact"):
        save_model(path, mlp([784, 10], rng=1))
    assert path.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    # The CLI: one line, exit status 2 (the checkpoint is the first file it writes).
    code = main(["train", "--data", str(tiny_mnist), "--out", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "No space left" in err
    assert path.read_bytes() == before
