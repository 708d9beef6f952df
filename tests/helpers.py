"""Helpers that several test modules share (conftest.py holds the shared fixtures)."""

import numpy as np

from digitnet.cli import main


def run(capsys, *argv):
    """``digitnet ARGV...`` in this process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_refusal(code, err, *words):
    """The CLI refused: exit status 2 and one line on stderr naming each of ``words``."""
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def seed_run_checkpoint(path, data_dir):
    """A checkpoint of the tutorials' run after one epoch, on 7 images of other data."""
    from digitnet.checkpoint import save_checkpoint
    from digitnet.nn import mlp
    from digitnet.train import Position

    net = mlp([784, 30, 10], rng=0)
    save_checkpoint(path, net, None, np.random.default_rng(0), Position(1), [],
                    settings={"recipe": "seed", "seed": 2, "dtype": "float32",
                              "monitor": "validation", "data_dir": str(data_dir),
                              "training": {"sizes": [784, 30, 10], "activation": "sigmoid",
                                           "cost": "quadratic", "init": "normal", "epochs": 2,
                                           "batch_size": 10, "lr": 3.0}},
                    data={"name": "mnist", "train_images": 7, "train_sha256": "0"})
