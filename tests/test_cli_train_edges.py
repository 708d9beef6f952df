"""`digitnet train`, `export`, `ensemble` and `evaluate` refuse what would damage a file,
lie in metadata or crash: one line on stderr, exit status 2, nothing left behind."""

import argparse
import json
import math
import os
import signal
import stat

import numpy as np
import pytest

from digitnet.cli import main
from digitnet.data.idx import write_idx
from digitnet.io import CONFIG_KEY, load_model
from helpers import one_line_refusal, run, seed_run_checkpoint


def train(capsys, data, out, *extra):
    return run(capsys, "train", "--data", data, "--epochs", 1, "--out", out, "--quiet", *extra)


@pytest.fixture
def model(tmp_path, tiny_mnist, capsys):
    out = tmp_path / "m.npz"
    code, _, err = train(capsys, tiny_mnist, out)
    assert code == 0, err
    return out


def write_csv(path, n=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = [[i % 3, *rng.integers(0, 256, 784)] for i in range(n)]
    path.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n")
    return path


def rewrite_document(path, key, change):
    """Edit the JSON document an .npz keeps under ``key``."""
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    document = json.loads(arrays[key].tobytes())
    change(document)
    arrays[key] = np.frombuffer(json.dumps(document).encode(), np.uint8)
    np.savez(path, **arrays)


# an output that is one of the inputs

def test_export_refuses_to_overwrite_its_model(model, capsys):
    before = model.read_bytes()
    code, _, err = run(capsys, "export", model, model.parent / "." / model.name)
    one_line_refusal(code, err, "is the model being exported")
    assert model.read_bytes() == before


def test_ensemble_refuses_to_overwrite_a_member(model, tiny_mnist, capsys):
    before = model.read_bytes()
    code, _, err = run(capsys, "ensemble", model, model, "--out", model, "--data", tiny_mnist)
    one_line_refusal(code, err, "is one of the models being averaged")
    assert model.read_bytes() == before


# --log appends only to a digitnet log of its own

@pytest.mark.parametrize("victim", ["data", "model", "text"])
def test_log_refuses_files_that_are_not_logs(tmp_path, model, capsys, victim):
    data = write_csv(tmp_path / "train.csv")
    log = {"data": data, "model": model, "text": tmp_path / "notes.txt"}[victim]
    if victim == "text":
        log.write_text("shopping list\n")
    before = log.read_bytes()
    code, _, err = train(capsys, data, tmp_path / "new.npz", "--log", log)
    one_line_refusal(code, err, "--log")
    assert log.read_bytes() == before
    assert not (tmp_path / "new.npz").exists() and not (tmp_path / "new.ckpt.npz").exists()


def test_log_that_will_be_the_model_is_refused(tmp_path, tiny_mnist, capsys):
    out = tmp_path / "m.npz"
    code, _, err = train(capsys, tiny_mnist, out, "--log", tmp_path / "." / "m.npz")
    one_line_refusal(code, err, "is the --out file")
    assert list(tmp_path.iterdir()) == [tiny_mnist]


def test_log_appends_to_its_own_log(tmp_path, tiny_mnist, capsys):
    log = tmp_path / "log.jsonl"
    for name in ("a.npz", "b.npz"):
        code, _, err = train(capsys, tiny_mnist, tmp_path / name, "--log", log)
        assert code == 0, err
    assert [json.loads(line)["epoch"] for line in log.read_text().splitlines()] == [0, 0]


# ensemble members are reused only when trained as this run would train them

def test_stale_ensemble_members_are_not_reused(tmp_path, tiny_mnist, capsys):
    out = tmp_path / "t.npz"
    code, _, err = train(capsys, tiny_mnist, out, "--members", 2)
    assert code == 0, err
    before = (tmp_path / "t.member0.npz").read_bytes()
    code, _, err = run(capsys, "train", "--data", tiny_mnist, "--epochs", 2, "--members", 2,
                       "--out", out)
    one_line_refusal(code, err, "t.member0.npz", "epochs", "delete it")
    assert (tmp_path / "t.member0.npz").read_bytes() == before
    code, out_text, err = run(capsys, "train", "--data", tiny_mnist, "--epochs", 1,
                              "--members", 2, "--out", out)
    assert code == 0 and "Member 0: reusing" in out_text and "Member 1: reusing" in out_text, err


# --test is refused where the data would ignore it

@pytest.mark.parametrize("command", ["train", "evaluate", "ensemble", "plot"])
def test_test_flag_with_idx_data_is_refused(tmp_path, tiny_mnist, model, capsys, command):
    if command == "plot":
        pytest.importorskip("matplotlib")
    test = write_csv(tmp_path / "test.csv")
    argv = {"train": ["train", "--out", tmp_path / "n.npz"], "evaluate": ["evaluate", model],
            "ensemble": ["ensemble", model, "--out", tmp_path / "e.npz"],
            "plot": ["plot", model, "--out", tmp_path]}[command]
    code, _, err = run(capsys, *argv, "--data", tiny_mnist, "--test", test)
    one_line_refusal(code, err, "--test is for a CSV file")


# --resume keeps the run's --test

def test_resume_keeps_the_test_set(tmp_path, capsys):
    data, test = write_csv(tmp_path / "train.csv"), write_csv(tmp_path / "test.csv", 12, 1)
    out = tmp_path / "m.npz"
    code, _, _ = run(capsys, "train", "--data", data, "--test", test, "--sizes", 784, 8, 3,
                     "--lr", "1e39", "--epochs", 2, "--out", out)
    assert code == 2 and (tmp_path / "m.ckpt.npz").exists()  # diverged, checkpoint kept
    code, out_text, err = run(capsys, "train", "--resume", "--lr", "0.01", "--out", out)
    assert code == 0, err
    assert "Test: " in out_text and " / 12 " in out_text
    assert load_model(out).metadata["metrics"]["test_accuracy"] is not None


def test_continue_with_line_quotes_paths():
    from digitnet.cli.train import _resume_command

    args = argparse.Namespace(out="my models/m.npz", checkpoint="a b.npz")
    command = _resume_command(args, "a b.npz", "my models/m.ckpt.npz")
    assert command == "digitnet train --resume --out 'my models/m.npz' --checkpoint 'a b.npz'"


# --resume with --members

def test_resume_of_a_single_run_as_an_ensemble_is_refused(tmp_path, tiny_mnist, capsys):
    seed_run_checkpoint(tmp_path / "s.ckpt.npz", tiny_mnist)
    code, _, err = run(capsys, "train", "--resume", "--members", 2, "--out", tmp_path / "s.npz")
    one_line_refusal(code, err, "single run")
    code, _, err = run(capsys, "train", "--resume", "--members", 2, "--data", tiny_mnist,
                       "--out", tmp_path / "new.npz")
    one_line_refusal(code, err, "no member")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist", "s.ckpt.npz"]


# an unwritable --log is refused before training

def test_log_that_is_a_folder_is_refused_before_training(tmp_path, tiny_mnist, capsys):
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--log", tmp_path)
    one_line_refusal(code, err, "--log", "folder")
    assert not (tmp_path / "m.ckpt.npz").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_log_in_a_read_only_folder_is_refused_before_training(tmp_path, tiny_mnist, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--log", folder / "l.jsonl")
    finally:
        folder.chmod(0o755)
    one_line_refusal(code, err, "cannot write")
    assert not (tmp_path / "m.ckpt.npz").exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_log_where_no_file_can_be_made_is_refused_before_training(tmp_path, tiny_mnist, capsys):
    # even root cannot create a file in /proc: the read-only folder of this test's users
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--log", "/proc/l.jsonl")
    one_line_refusal(code, err, "--log /proc/l.jsonl: cannot write")
    assert not (tmp_path / "m.ckpt.npz").exists()


# D10, D25: convolutions that do not fit the image

@pytest.mark.parametrize("flags,message", [
    (["--kernel", 99], "--kernel 99 is wider than the 14x14 feature maps"),
    (["--channels", 8, 8, 8, 8, 8], "5 convolution stages are too many for a 28x28 image"),
])
def test_convolutions_that_do_not_fit_are_refused(tmp_path, capsys, flags, message):
    code, _, err = run(capsys, "train", "--recipe", "cnn", *flags, "--out", tmp_path / "m.npz")
    one_line_refusal(code, err, message)
    assert list(tmp_path.iterdir()) == []


# crafted checkpoints

@pytest.mark.parametrize("change,message", [
    (lambda d: d["settings"]["training"].update(lr="x"), "settings.training.lr is 'x'"),
    (lambda d: d["position"].update(epoch="a"), "position epoch 'a'"),
    (lambda d: d.update(settings="x"), "settings is not an object"),
    (lambda d: d["settings"]["training"].update(dropout=5), "--dropout must be in [0, 1)"),
    (lambda d: d["settings"].update(dtype="int8"), "settings.dtype is 'int8'"),
])
def test_crafted_checkpoints_are_one_line(tmp_path, tiny_mnist, capsys, change, message):
    path = tmp_path / "m.ckpt.npz"
    seed_run_checkpoint(path, tiny_mnist)
    rewrite_document(path, "__checkpoint__", change)
    code, _, err = run(capsys, "train", "--resume", "--out", tmp_path / "m.npz")
    one_line_refusal(code, err, "is not a valid checkpoint", message)


# D17

@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_weight_decay_must_be_a_finite_non_negative_number(tmp_path, capsys, value):
    code, _, err = run(capsys, "train", "--weight-decay", value, "--out", tmp_path / "m.npz")
    one_line_refusal(code, err, "--weight-decay must be a non-negative number")


# D18

def test_full_run_logs_valid_json(tmp_path, tiny_mnist, capsys):
    log = tmp_path / "f.jsonl"
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--full", "--log", log)
    assert code == 0, err

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    entry = json.loads(log.read_text(), parse_constant=refuse)
    assert entry["accuracy"] is None and entry["total"] == 0 and entry["split"] is None


# contradictory flags

@pytest.mark.parametrize("flags,message", [
    (["--optimizer", "adam", "--momentum", "0.9"], "--momentum is for --optimizer sgd"),
    (["--recipe", "relu", "--optimizer", "adam", "--nesterov"], "--nesterov is for --optimizer sgd"),
    (["--dataset", "fashion-mnist"], "--dataset fashion-mnist names IDX files"),
])
def test_contradictory_flags_are_refused(tmp_path, capsys, flags, message):
    data = write_csv(tmp_path / "train.csv")
    code, _, err = train(capsys, data, tmp_path / "m.npz", *flags)
    one_line_refusal(code, err, message)
    assert not (tmp_path / "m.npz").exists()


def test_adam_over_a_momentum_recipe_does_not_record_momentum(tmp_path, tiny_mnist, capsys):
    out = tmp_path / "m.npz"
    code, _, err = train(capsys, tiny_mnist, out, "--recipe", "mlp", "--sizes", 784, 16, 10,
                         "--optimizer", "adam", "--lr", "0.001")
    assert code == 0, err
    training = load_model(out).metadata["training"]
    assert "momentum" not in training and "nesterov" not in training


# outputs that are not files, checkpoints that are not checkpoints

def test_out_that_is_a_folder_is_refused_before_training(tmp_path, tiny_mnist, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    code, out, err = run(capsys, "train", "--data", tiny_mnist, "--out", folder)
    one_line_refusal(code, err, "--out", "not a regular file")
    assert out == "" and sorted(p.name for p in tmp_path.iterdir()) == ["folder", "mnist"]


def test_checkpoint_that_is_a_folder_or_a_model(tmp_path, tiny_mnist, model, capsys):
    code, _, err = train(capsys, tiny_mnist, tmp_path / "n.npz", "--checkpoint", tmp_path)
    one_line_refusal(code, err, "--checkpoint", "not a regular file")
    before = model.read_bytes()
    code, _, err = train(capsys, tiny_mnist, tmp_path / "n.npz", "--checkpoint", model)
    one_line_refusal(code, err, "a model file, not a training checkpoint")
    assert model.read_bytes() == before and not (tmp_path / "n.npz").exists()


def test_export_keeps_a_special_file_in_place(tmp_path, model, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "export", model, fifo)
    one_line_refusal(code, err, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# messages

def test_negative_seed_names_the_flag(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--seed", "-1", "--out", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--seed" in err and err.count("\n") == 1


def test_a_file_given_as_an_idx_folder(tmp_path, capsys):
    data = tmp_path / "x.csv.gz"
    data.write_bytes(b"\x1f\x8b")
    code, _, err = train(capsys, data, tmp_path / "m.npz")
    one_line_refusal(code, err, "x.csv.gz: is a file, not a folder of IDX files")


def test_empty_idx_training_file_names_the_file(tiny_mnist, tmp_path, capsys):
    write_idx(tiny_mnist / "train-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    write_idx(tiny_mnist / "train-labels-idx1-ubyte.gz", np.zeros(0, np.uint8))
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz")
    one_line_refusal(code, err, "train-images-idx3-ubyte.gz: holds no images")


def test_empty_idx_test_file_is_an_empty_test_set(tiny_mnist):
    from digitnet.data import mnist

    write_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    write_idx(tiny_mnist / "t10k-labels-idx1-ubyte.gz", np.zeros(0, np.uint8))
    data = mnist.load("mnist", tiny_mnist)
    assert data.test.x.shape == (0, 784) and len(data.train) == 500


def test_layer_setting_of_the_wrong_type(model, capsys):
    rewrite_document(model, CONFIG_KEY,
                     lambda c: c["network"]["layers"][0].update(in_features="784"))
    code, _, err = run(capsys, "evaluate", model)
    one_line_refusal(code, err, "invalid layer settings", "in_features '784'")


def test_checkpoint_given_as_a_model(tmp_path, tiny_mnist, capsys):
    seed_run_checkpoint(tmp_path / "m.ckpt.npz", tiny_mnist)
    code, _, err = run(capsys, "evaluate", tmp_path / "m.ckpt.npz", "--data", tiny_mnist)
    one_line_refusal(code, err, "a training checkpoint, not a model", "--resume")


def test_reproduce_command_is_quoted(tmp_path, tiny_mnist, capsys, monkeypatch):
    import shlex
    import sys

    folder = tmp_path / "my models"
    folder.mkdir()
    out = folder / "m.npz"
    argv = ["train", "--data", str(tiny_mnist), "--epochs", "1", "--out", str(out), "--quiet"]
    monkeypatch.setattr(sys, "argv", ["digitnet", *argv])
    assert main(argv) == 0
    command = load_model(out).metadata["training"]["command"]
    assert shlex.split(command) == ["digitnet", *argv]
    assert math.isfinite(load_model(out).metadata["training"]["seconds"])


def test_ensemble_command_is_quoted(model, tiny_mnist, capsys, monkeypatch):
    import shlex
    import sys

    out = model.parent / "an ensemble.npz"
    argv = ["ensemble", str(model), "--out", str(out), "--data", str(tiny_mnist)]
    monkeypatch.setattr(sys, "argv", ["digitnet", *argv])
    assert main(argv) == 0
    assert shlex.split(load_model(out).metadata["training"]["command"]) == ["digitnet", *argv]


# evaluate and ensemble with models whose metadata says other things

def test_evaluate_refuses_data_of_other_classes(model, tiny_mnist, capsys):
    # a model of ten named classes (Fashion-MNIST's, say) was scored on digits without a word
    rewrite_document(model, CONFIG_KEY, lambda doc: doc.update(classes=[f"c{i}" for i in range(10)]))
    code, _, err = run(capsys, "evaluate", model, "--data", tiny_mnist)
    one_line_refusal(code, err, "the model's classes (c0, c1", "are not the data's (0, 1")


@pytest.mark.parametrize("training", [5, "x", {"member_training": [3, None]}, {"full": "no"}])
def test_ensemble_of_a_model_with_malformed_training_metadata(model, tmp_path, tiny_mnist, capsys,
                                                              training):
    # "training": 5 was an AttributeError in io.trained_on_validation
    rewrite_document(model, CONFIG_KEY, lambda doc: doc.update(training=training))
    out = tmp_path / "e.npz"
    code, _, err = run(capsys, "ensemble", model, model, "--out", out, "--data", tiny_mnist)
    assert code == 0 and out.exists(), err


@pytest.mark.parametrize("argv", [["train", "--out", ""], ["train", "--data", ""], ["train", "--log", ""],
                                  ["evaluate", ""], ["export", "", "m.onnx"], ["export", "m.npz", ""],
                                  ["ensemble", "", "--out", "e.npz"], ["ensemble", "m.npz", "--out", ""]])
def test_empty_paths_are_refused_by_every_command(argv, capsys):
    # "" is the current folder to Path: --out "" said "PosixPath('.') has an empty name"
    with pytest.raises(SystemExit) as stop:
        main(argv)
    one_line_refusal(stop.value.code, capsys.readouterr().err, "empty path", f"digitnet {argv[0]}: error")


def test_saving_a_model_to_an_empty_path_is_refused(tmp_path):
    from digitnet import save_model
    from digitnet.errors import ModelFileError
    from digitnet.nn import mlp

    with pytest.raises(ModelFileError, match="an empty path"):
        save_model("", mlp([4, 2]))


@pytest.mark.parametrize("argv", [["evaluate", "/dev/zero"], ["info", "/dev/zero"],
                                  ["predict", "--model", "/dev/zero", "x.png"]])
def test_a_device_given_as_a_model_is_refused_not_read_for_ever(argv, capsys):
    code, _, err = run(capsys, *argv)
    one_line_refusal(code, err, "/dev/zero: not a regular file")


def test_an_ensemble_interrupted_in_each_member_resumes_each_time(tmp_path, tiny_mnist):
    # the member resumed first recorded the ensemble's --members, and the second --resume
    # then refused it as "a member trained with other settings"
    from test_reliability import start

    argv = ["train", "--data", str(tiny_mnist), "--sizes", "784", "16", "10", "--epochs", "300",
            "--members", "2", "--out", str(tmp_path / "e.npz")]

    def interrupt_in(member, argv):
        process = start(argv, tmp_path)
        for line in process.stdout:
            if line.startswith(f"Member {member} of 2"):
                break
        for line in process.stdout:
            if line.startswith("Epoch "):
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 130, err

    interrupt_in(0, argv)
    interrupt_in(1, [*argv, "--resume"])
    process = start([*argv, "--resume"], tmp_path)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and "Member 0: reusing" in out, err
    assert "members" not in load_model(tmp_path / "e.member0.npz").metadata["training"]


def test_log_to_a_pipe_is_written_not_read(tmp_path, tiny_mnist):
    # --log /dev/stdout (or a FIFO) hung: checking that it was a digitnet log read from it
    from test_reliability import start

    process = start(["train", "--data", str(tiny_mnist), "--epochs", "2", "--quiet",
                     "--out", str(tmp_path / "m.npz"), "--log", "/dev/stdout"], tmp_path)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert [json.loads(line)["epoch"] for line in out.splitlines()] == [0, 1]


@pytest.mark.parametrize("log", ["e.npz", "e.member1.npz", "e.member0.ckpt.npz"])
def test_log_that_is_a_file_of_the_ensemble_is_refused_before_training(tmp_path, tiny_mnist, capsys,
                                                                        log):
    # --log e.npz was written over by the ensemble at the end; e.member1.npz failed after
    # member 0 had trained
    code, _, err = train(capsys, tiny_mnist, tmp_path / "e.npz", "--members", 2, "--log", tmp_path / log)
    one_line_refusal(code, err, "a file of this ensemble")
    assert not list(tmp_path.glob("e.member*"))
