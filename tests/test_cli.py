import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitnet.cli import main
from helpers import run

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def trained(tmp_path, tiny_mnist, capsys):
    model = tmp_path / "model.npz"
    code, out, err = run(capsys, "train", "--data", tiny_mnist, "--epochs", 2, "--out", model,
                         "--log", tmp_path / "log.jsonl", "--seed", 3)
    assert code == 0, err
    return model, out, tmp_path


def test_train_prints_the_tutorials_epoch_lines(trained):
    model, out, tmp_path = trained
    lines = out.splitlines()
    assert lines[1].startswith("Epoch 0: ") and " / 100 " in lines[1]
    assert lines[2].startswith("Epoch 1: ")
    assert "Test: " in out and model.is_file()
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in log] == [0, 1]
    assert {"loss", "correct", "total", "accuracy", "seconds"} <= set(log[0])


def test_quiet_prints_nothing(tmp_path, tiny_mnist, capsys):
    code, out, err = run(capsys, "train", "--data", tiny_mnist, "--epochs", 1,
                         "--out", tmp_path / "m.npz", "--quiet")
    assert code == 0 and out == "" and err == ""


def test_evaluate_text_and_json(trained, tiny_mnist, capsys):
    model = trained[0]
    code, out, _ = run(capsys, "evaluate", model, "--data", tiny_mnist)
    assert code == 0
    first = out.splitlines()[0]
    assert first.endswith("%)") and " / 100 (" in first
    assert "Confusion matrix" in out
    code, out, _ = run(capsys, "evaluate", model, "--data", tiny_mnist, "--json")
    result = json.loads(out)
    assert result["total"] == 100 and len(result["confusion_matrix"]) == 10
    assert sum(map(sum, result["confusion_matrix"])) == 100
    assert result["correct"] == sum(result["confusion_matrix"][i][i] for i in range(10))


def test_evaluate_on_validation_says_when_the_model_was_trained_on_it(tmp_path, tiny_mnist, capsys):
    # a --full model scored 99.8% "on validation" without a word that it had seen those images
    full = tmp_path / "full.npz"
    code, _, _ = run(capsys, "train", "--data", tiny_mnist, "--epochs", 1, "--full",
                     "--out", full, "--quiet")
    assert code == 0
    code, out, err = run(capsys, "evaluate", full, "--data", tiny_mnist, "--split", "validation", "--json")
    assert code == 0 and json.loads(out)["held_out"] is False
    assert "trained on the validation images too" in err and len(err.splitlines()) == 1
    code, out, err = run(capsys, "evaluate", full, "--data", tiny_mnist, "--json")
    assert code == 0 and json.loads(out)["held_out"] is True and err == ""


def test_predict_png_and_npy(trained, tiny_mnist, capsys):
    from PIL import Image

    from digitnet import load_model
    from digitnet.data import mnist

    model, _, tmp_path = trained
    test = mnist.load("mnist", tiny_mnist).test
    png, npy = tmp_path / "digit.png", tmp_path / "digit.npy"
    Image.fromarray((test.x[0].reshape(28, 28) * 255).round().astype(np.uint8)).save(png)
    np.save(npy, test.x[1].reshape(28, 28))
    code, out, err = run(capsys, "predict", png, npy, "--model", model, "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in rows] == [str(png), str(npy)]
    expected = load_model(model).predict(np.stack([test.x[0], test.x[1]]))
    assert [r["digit"] for r in rows] == expected.tolist()
    for r in rows:
        assert set(r) == {"path", "digit", "several_digits", "confidence", "probabilities"}
        assert r["several_digits"] is False
        assert abs(sum(r["probabilities"]) - 1) < 1e-4
        assert abs(r["confidence"] - max(r["probabilities"])) < 1e-6
    code, out, _ = run(capsys, "predict", png, "--model", model)
    assert out.startswith(f"{png}: {expected[0]} (")


def test_info(trained, capsys):
    code, out, _ = run(capsys, "info", trained[0])
    assert code == 0 and "Linear(784->30)" in out and "Reproduce:" in out and "seed=3" in out
    code, out, _ = run(capsys, "info", trained[0], "--json")
    assert json.loads(out)["training"]["batch_size"] == 10


def test_relu_softmax_network_from_flags(tmp_path, tiny_mnist, capsys):
    code, out, err = run(capsys, "train", "--recipe", "relu", "--epochs", 1, "--data", tiny_mnist,
                         "--out", tmp_path / "r.npz")
    assert code == 0, err
    assert "[784, 128, 64, 10] relu/ce" in out


BAD_INPUTS = [
    (["train", "--lr", "-1"], "must be a positive number"),
    (["train", "--epochs", "0"], "must be a positive number"),
    (["train", "--batch-size", "ten"], "not a number"),
    (["train", "--sizes", "100", "10"], "must start with 784 inputs"),
    (["train", "--out", "/nonexistent-dir/m.npz"], "does not exist"),
    (["train", "--data", "/nonexistent-dir"], "no such directory"),
    (["evaluate", "missing.npz"], "no such model file"),
    (["info", "missing.npz"], "no such model file"),
    (["predict", "x.png", "--model", "missing.npz"], "no such model file"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize("argv,message", BAD_INPUTS)
def test_user_mistakes_give_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_sizes_must_end_with_one_output_per_class(tmp_path, tiny_mnist, capsys):
    code, _, err = run(capsys, "train", "--sizes", 784, 10, 3, "--data", tiny_mnist,
                       "--out", tmp_path / "m.npz")
    assert code == 2 and "ends with 3 outputs, the data has 10 classes" in err
    assert not (tmp_path / "m.npz").exists()


def test_corrupt_idx_file(tmp_path, tiny_mnist, capsys):
    (tiny_mnist / "t10k-images-idx3-ubyte.gz").write_bytes(b"garbage")
    code, _, err = run(capsys, "train", "--data", tiny_mnist, "--out", tmp_path / "m.npz")
    assert code == 2 and "t10k-images" in err and err.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_truncated_model_and_bad_images(trained, capsys):
    model, _, tmp_path = trained
    truncated = tmp_path / "t.npz"
    truncated.write_bytes(model.read_bytes()[:500])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((5, 5)))
    for argv, message in [(["info", truncated], "truncated"),
                          (["predict", text, "--model", model], "not a readable image"),
                          (["predict", big, "--model", model], "no digit found"),  # a 5x5 blank picture
                          (["predict", tmp_path / "none.png", "--model", model], "no such file")]:
        code, out, err = run(capsys, *argv)
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_huge_image_is_one_line_without_pillows_warning(tmp_path):
    from test_preprocess import png_header

    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header(12_000, 10_000))  # Pillow warns from 89 megapixels
    env = {**os.environ, "PYTHONPATH": SRC}
    result = subprocess.run([sys.executable, "-m", "digitnet", "predict", huge], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 2 and "is more than digitnet reads" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_python_dash_m_and_console_help():
    env = {**os.environ, "PYTHONPATH": SRC}
    result = subprocess.run([sys.executable, "-m", "digitnet", "--help"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0 and "train" in result.stdout


def test_help_imports_nothing_heavy():
    code = ("import sys; from digitnet.cli import build_parser; build_parser(); import digitnet; "
            "heavy = {'matplotlib', 'sklearn', 'torch', 'fastapi', 'onnx', 'PIL', 'tqdm', 'ssl', "
            "'urllib.request', 'http.client'}; "
            "print(sorted(heavy & set(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60).stdout
    assert out.strip() == "[]"


def test_fashion_mnist_dataset_flag(tmp_path, tiny_mnist, capsys):
    out = tmp_path / "fashion.npz"
    code, text, err = run(capsys, "train", "--dataset", "fashion-mnist", "--data", tiny_mnist,
                          "--recipe", "relu", "--epochs", 1, "--out", out)
    assert code == 0, err
    from digitnet import load_model

    meta = load_model(out).metadata
    assert meta["training"]["data"] == "fashion-mnist" and meta["classes"][0] == "T-shirt/top"
    code, text, _ = run(capsys, "evaluate", out, "--dataset", "fashion-mnist", "--data", tiny_mnist)
    assert code == 0 and " / 100 (" in text


@pytest.mark.skipif(not os.environ.get("DIGITNET_DATA"), reason="needs the real MNIST files")
def test_mnist_files_are_not_taken_for_fashion_mnist(tmp_path, capsys):
    data = Path(os.environ["DIGITNET_DATA"])
    data = data / "mnist" if (data / "mnist").is_dir() else data  # the folder with the files
    code, _, err = run(capsys, "train", "--dataset", "fashion-mnist", "--data", data,
                       "--out", tmp_path / "m.npz")
    assert code == 2 and "holds mnist, not fashion-mnist" in err


def test_data_may_be_the_folder_holding_the_data_sets_folder(tiny_mnist, tmp_path, capsys):
    # --data shared/data (holding mnist/ and fashion-mnist/) was taken for a folder of
    # class folders: "no images in the class sub-folders"
    code, text, err = run(capsys, "train", "--data", tiny_mnist.parent, "--epochs", 1, "--quiet",
                          "--out", tmp_path / "m.npz")
    assert code == 0, err
    assert run(capsys, "evaluate", tmp_path / "m.npz", "--data", tiny_mnist.parent)[0] == 0


def test_ensemble_of_model_files(trained, tmp_path, tiny_mnist, capsys):
    from digitnet.io import load_model

    first = trained[0]
    second = tmp_path / "second.npz"
    assert run(capsys, "train", "--data", tiny_mnist, "--epochs", 1, "--seed", 5, "--out", second,
               "--quiet")[0] == 0
    out_path = tmp_path / "ens.npz"
    code, out, _ = run(capsys, "ensemble", first, second, "--out", out_path, "--data", tiny_mnist)
    assert code == 0 and "Ensemble of 2" in out and "validation" in out
    ensemble = load_model(out_path)
    assert len(ensemble.members) == 2
    assert ensemble.metadata["training"]["members"] == [str(first), str(second)]
    assert ensemble.metadata["metrics"]["validation_accuracy"] > 0.5
    # regression: info described an ensemble as "Input: None None" with no layers
    code, out, _ = run(capsys, "info", out_path)
    assert code == 0 and "Ensemble:     2 networks" in out and "Linear(784->30)" in out
    assert out.count("Member:") == 2 and "None None" not in out
    # --best keeps the members that do best together on validation; --half halves the file
    code, out, _ = run(capsys, "ensemble", first, second, "--best", 1, "--half", "--out",
                       tmp_path / "one.npz", "--data", tiny_mnist)
    assert code == 0 and "Ensemble of 1" in out
    assert (tmp_path / "one.npz").stat().st_size < 0.6 * out_path.stat().st_size


def test_ensemble_refuses_models_that_do_not_fit_together(trained, tmp_path, tiny_mnist, capsys):
    first = trained[0]
    three = tmp_path / "three.npz"
    from digitnet import mlp
    from digitnet.io import save_model

    save_model(three, mlp([784, 5, 3], rng=0))
    code, _, err = run(capsys, "ensemble", first, three, "--out", tmp_path / "e.npz", "--data",
                       tiny_mnist)
    assert code == 2 and err.count("\n") == 1 and "different numbers of outputs" in err
    assert not (tmp_path / "e.npz").exists()


def test_greedy_choice_of_members():
    from digitnet.cli.ensemble import choose

    labels = np.array([0, 1, 1, 0])
    right_on_0_1 = np.array([[.9, .1], [.2, .8], [.6, .4], [.6, .4]])   # 3 of 4
    right_on_2 = np.array([[.4, .6], [.4, .6], [.1, .9], [.4, .6]])     # 2 of 4, fixes item 2
    wrong = np.array([[.1, .9], [.9, .1], [.9, .1], [.1, .9]])           # 0 of 4
    assert choose([wrong, right_on_2, right_on_0_1], labels, 2) == [2, 1]
    assert choose([wrong, right_on_0_1], labels, 5) == [1, 0]
