"""`digitnet train` survives interrupts and bad settings, and reproduces itself.

Interrupts are real signals sent to a real `python -m digitnet train` process.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from digitnet.checkpoint import load_checkpoint
from digitnet.io import load_model
from helpers import run, seed_run_checkpoint

SRC = str(Path(__file__).resolve().parents[1] / "src")
EPOCHS = 60  # about 6 ms each on the tiny data set: the whole run takes a fraction of a second


def train_args(data, out, *extra):
    return ["train", "--data", str(data), "--epochs", str(EPOCHS), "--out", str(out), *extra]


def weights(path):
    return load_model(path).state_dict()


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture
def reference(tiny_mnist, tmp_path, capsys):
    """The model of a run that was never interrupted."""
    out = tmp_path / "reference.npz"
    code, _, err = run(capsys, *train_args(tiny_mnist, out))
    assert code == 0, err
    return out


def start(argv, cwd):
    return subprocess.Popen(
        [sys.executable, "-m", "digitnet", *argv], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": SRC, "PYTHONUNBUFFERED": "1"})


def interrupt(process, signum, after_epochs):
    """Send ``signum`` once the process has printed ``after_epochs`` epoch lines
    (or finished); return (exit status, stdout, stderr)."""
    seen, lines = 0, []
    while seen < after_epochs:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        seen += line.startswith("Epoch ")
    if process.poll() is None:
        process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return process.returncode, "".join(lines) + out, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_and_resume_gives_the_same_weights(
        tiny_mnist, tmp_path, capsys, reference, signum):
    out = tmp_path / "model.npz"
    log = tmp_path / "log.jsonl"
    argv = train_args(tiny_mnist, out, "--log", log)
    code, stdout, stderr = interrupt(start(argv, tmp_path), signum, 3)
    assert code == 130, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert f"{signal.Signals(signum).name}: checkpoint saved to" in stderr
    assert stderr.strip().endswith(f"continue with: digitnet train --resume --out {out}")
    assert not out.exists()
    checkpoint = load_checkpoint(tmp_path / "model.ckpt.npz")
    assert 3 <= checkpoint.position.epoch < EPOCHS

    code, stdout, err = run(capsys, "train", "--resume", "--out", out)
    assert code == 0, err
    assert stdout.splitlines()[1].startswith("Resuming from")
    assert_same_weights(out, reference)
    assert not (tmp_path / "model.ckpt.npz").exists()  # done: the model holds the result
    epochs = [json.loads(line)["epoch"] for line in log.read_text().splitlines()]
    assert epochs == list(range(EPOCHS))  # the log goes on where it stopped


@pytest.mark.slow
def test_many_interrupts_at_random_moments_lose_nothing(tiny_mnist, tmp_path, capsys, reference):
    """Interrupt the same run again and again, at random moments, with SIGINT or
    SIGTERM, resuming each time: the final weights are still bitwise those of the
    run that was never interrupted."""
    rng = random.Random(8)
    out = tmp_path / "model.npz"
    argv, interrupts = train_args(tiny_mnist, out, "--epochs", "300"), 0
    reference_300 = tmp_path / "reference300.npz"
    assert run(capsys, *train_args(tiny_mnist, reference_300, "--epochs", "300"))[0] == 0
    for _ in range(100):
        signum = rng.choice([signal.SIGINT, signal.SIGTERM])
        code, _, stderr = interrupt(start(argv, tmp_path), signum, rng.randint(1, 15))
        if code == 0:
            break
        assert code == 130 and stderr.count("\n") == 1, stderr
        interrupts += 1
        argv = ["train", "--resume", "--out", str(out)]
    assert interrupts >= 25
    assert_same_weights(out, reference_300)
    print(f"{interrupts} interrupts survived, final weights bitwise identical")


def test_resume_without_a_checkpoint_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--resume", "--out", tmp_path / "m.npz")
    assert code == 2 and err.count("\n") == 1 and "no checkpoint" in err


def test_resume_from_a_damaged_checkpoint_is_one_line(tmp_path, capsys):
    (tmp_path / "m.ckpt.npz").write_bytes(b"PK\x03\x04 not really")
    code, _, err = run(capsys, "train", "--resume", "--out", tmp_path / "m.npz")
    assert code == 2 and err.count("\n") == 1 and "checkpoint" in err


def test_resume_refuses_other_training_data(tiny_mnist, tmp_path, capsys):
    seed_run_checkpoint(tmp_path / "m.ckpt.npz", tiny_mnist)
    code, _, err = run(capsys, "train", "--resume", "--out", tmp_path / "m.npz")
    assert code == 2 and "other training data" in err


@pytest.mark.parametrize("flag", [["--recipe", "relu"], ["--seed", "5"], ["--dtype", "float64"]])
def test_resume_refuses_a_recipe_seed_or_dtype_other_than_the_runs(tiny_mnist, tmp_path, capsys, flag):
    # they were silently replaced by the checkpoint's: "--recipe relu --resume" went on
    # training the tutorials' network
    seed_run_checkpoint(tmp_path / "m.ckpt.npz", tiny_mnist)
    code, _, err = run(capsys, "train", "--resume", *flag, "--out", tmp_path / "m.npz")
    assert code == 2 and f"with its own {flag[0]}" in err and len(err.splitlines()) == 1
    assert (tmp_path / "m.ckpt.npz").exists() and not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("settings", [
    ["--recipe", "relu", "--lr", "1000"],
    # The sigmoid network saturates at eta = 1000 (bad, but finite: its gradients
    # vanish); a rate beyond float32 (3.4e38) makes even it overflow.
    ["--recipe", "seed", "--lr", "1e39"],
])
def test_divergence_stops_with_one_line_and_keeps_the_last_good_checkpoint(
        tiny_mnist, tmp_path, capsys, settings):
    """No floating-point warning escapes either (warnings are errors in the tests)."""
    out = tmp_path / "model.npz"
    code, _, err = run(capsys, "train", "--data", tiny_mnist, *settings, "--epochs", 3,
                       "--out", out)
    assert code == 2 and err.count("\n") == 1, err
    assert "try a smaller one" in err and "last good checkpoint" in err
    assert not out.exists()
    checkpoint = load_checkpoint(tmp_path / "model.ckpt.npz")
    assert all(np.isfinite(a).all() for a in checkpoint.arrays.values())


def test_same_command_same_seed_same_weights(tiny_mnist, tmp_path, capsys):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    for out, seed in ((a, 7), (b, 7), (c, 8)):
        assert run(capsys, *train_args(tiny_mnist, out, "--epochs", 2, "--seed", seed))[0] == 0
    assert_same_weights(a, b)
    with pytest.raises(AssertionError):
        assert_same_weights(a, c)


def test_info_shows_what_reproduces_a_model(reference, capsys):
    code, out, _ = run(capsys, "info", reference)
    assert code == 0
    for needed in ("seed=2", "recipe=seed", "epochs=60", "batch_size=10", "lr=3.0",
                   "dtype=float32", "sizes=[784, 30, 10]", "Data:", "SHA-256", "numpy",
                   "python", "Reproduce:", "digitnet_version"):
        assert needed in out, needed


def test_a_model_with_huge_weights_predicts_without_warnings(tmp_path, capsys):
    """Finite but huge weights overflow in the forward pass: the answer is garbage,
    but no floating-point warning is printed (warnings are errors here)."""
    from digitnet.io import save_model
    from digitnet.nn import mlp

    for activation, cost in (("relu", "ce"), ("sigmoid", "quadratic"), ("tanh", "bce")):
        net = mlp([784, 30, 10], activation, cost, rng=0)
        for param, _ in net.parameters():
            param *= 1e20
        save_model(tmp_path / "huge.npz", net)
        digit = np.zeros((28, 28), np.float32)
        digit[6:22, 12:16] = 1.0  # a 1 (a flat 0.5 was "no digit found": nothing was predicted)
        np.save(tmp_path / "digit.npy", digit)
        code, out, err = run(capsys, "predict", tmp_path / "digit.npy", "--model",
                             tmp_path / "huge.npz")
        assert code == 0 and err == "" and "no digit" not in out and "%" in out


@pytest.mark.slow
def test_interrupted_mnist_run_resumes_to_the_same_model(tmp_path, capsys):
    """The real thing: the tutorials' network on MNIST for 4 epochs, interrupted
    three times with Ctrl-C (SIGINT) mid-epoch and resumed, gives bitwise the same
    weights (and the same test accuracy) as the run never interrupted."""
    data = os.environ.get("DIGITNET_DATA")
    if not data:
        pytest.skip("set DIGITNET_DATA to the folder holding the MNIST IDX files")
    reference, out = tmp_path / "reference.npz", tmp_path / "model.npz"
    argv = ["train", "--data", data, "--epochs", "12", "--out"]
    assert run(capsys, *argv, reference)[0] == 0
    rng = random.Random(3)
    process_argv, interrupts = [*argv, str(out)], 0
    while True:
        process = start(process_argv, tmp_path)
        while "Epoch" not in process.stdout.readline():  # training has begun
            if process.poll() is not None:
                break
        time.sleep(rng.uniform(0.02, 0.25))  # epochs take about 0.3 s
        code, _, err = interrupt(process, signal.SIGINT, 0)
        if code == 0:
            break
        assert code == 130 and err.count("\n") == 1, err
        interrupts += 1
        process_argv = ["train", "--resume", "--out", str(out)]
    assert interrupts >= 3
    assert_same_weights(out, reference)
    assert load_model(out).metadata["metrics"] == load_model(reference).metadata["metrics"]


def test_a_ctrl_c_after_the_command_has_finished_changes_nothing():
    # sent while the program exits (its work done, the model saved), SIGINT killed it:
    # exit status -2 instead of 0
    code = ("import os, signal, sys; sys.argv = ['digitnet', 'info', '--json', sys.argv[1]]; "
            "from digitnet.cli import program; status = program(); "
            "os.kill(os.getpid(), signal.SIGINT); sys.exit(status)")
    src = Path(__file__).parents[1] / "src"
    done = subprocess.run([sys.executable, "-c", code, str(src / "digitnet" / "models" / "cnn.npz")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(src)})
    assert done.returncode == 0, done.stderr


def test_a_new_run_never_overwrites_an_unfinished_one(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "model.npz"
    code, _, _ = run(capsys, "train", "--data", tiny_mnist, "--recipe", "relu", "--lr", "1000",
                     "--epochs", 2, "--out", out)
    assert code == 2
    before = (tmp_path / "model.ckpt.npz").read_bytes()
    code, _, err = run(capsys, *train_args(tiny_mnist, out))
    assert code == 2 and "unfinished run" in err and "--resume" in err
    assert (tmp_path / "model.ckpt.npz").read_bytes() == before
    code, _, err = run(capsys, "train", "--resume", "--lr", "0.1", "--out", out)
    assert code == 0 and out.exists() and load_model(out).metadata["training"]["lr"] == 0.1


@pytest.mark.parametrize("recipe", [
    # dropout, Nesterov momentum, weight decay, cosine schedule with warm-up, and
    # random affine augmentation: all random or stateful, all restored
    pytest.param(["--recipe", "mlp", "--sizes", "784", "32", "10", "--augment", "affine",
                  "--epochs", "12"], id="mlp"),
    # weight averaging from epoch 1: the running mean is in the checkpoint too
    pytest.param(["--recipe", "mlp", "--sizes", "784", "32", "10", "--schedule", "constant",
                  "--average-from", "1", "--epochs", "12"], id="swa"),
    pytest.param(["--recipe", "cnn", "--epochs", "12"], id="cnn", marks=pytest.mark.slow),
])
def test_modern_recipes_resume_exactly(tiny_mnist, tmp_path, capsys, recipe):
    reference, out = tmp_path / "reference.npz", tmp_path / "model.npz"
    argv = ["train", "--data", str(tiny_mnist), *recipe, "--out"]
    assert run(capsys, *argv, reference)[0] == 0
    process = start([*argv, str(out)], tmp_path)
    if "cnn" in recipe:  # epochs of several seconds: interrupt inside the first one
        assert process.stdout.readline().startswith("Training")
        time.sleep(2)
    code, _, err = interrupt(process, signal.SIGINT, 0 if "cnn" in recipe else 2)
    assert code == 130, err
    assert "after" in err or "cnn" not in recipe  # the CNN was stopped mid-epoch
    assert run(capsys, "train", "--resume", "--out", out)[0] == 0
    assert_same_weights(out, reference)
