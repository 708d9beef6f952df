"""Edge cases of the command line: each a user mistake or odd input that once ended in a
traceback, a wrong answer or a clobbered file."""


import json

import numpy as np
import pytest

from digitnet.data import formats
from digitnet.errors import DataError
from digitnet.io import DIGITS
from test_cli import run


def csv_text(rows, label=True):
    return "".join(("1," if label else "") + ",".join(map(str, row)) + "\n" for row in rows)


def bar_rows(n=3):
    rows = np.zeros((n, 784), np.int64)
    for i in range(n):
        rows[i, 28 * (4 + 2 * i): 28 * (4 + 2 * i) + 20] = 255
    return rows.tolist()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_csv_pixels_must_be_finite(tmp_path, capsys, value):
    # "nan" passed float() and the 0-255 check: predict said "0 (nan%)", --json printed NaN,
    # train stopped with a misleading divergence message
    rows = bar_rows(3)
    rows[1][5] = value
    (tmp_path / "bad.csv").write_text(csv_text(rows))
    for read in (formats.read_csv, formats.read_pixels_csv):
        with pytest.raises(DataError, match="line 2 holds a value that is not a finite number"):
            read(tmp_path / "bad.csv")
    code, out, err = run(capsys, "predict", tmp_path / "bad.csv", "--json")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "line 2" in err


def test_csv_blank_lines_are_skipped_by_train_and_predict_alike(tmp_path, capsys):
    # predict read a file ending in blank lines; train said "row 101 has 0 values"
    rows = bar_rows(3)
    (tmp_path / "gz.csv").write_text(csv_text(rows[:2]) + "\n  \n" + csv_text(rows[2:]) + "\n\n")
    x, labels, classes = formats.read_csv(tmp_path / "gz.csv")
    assert x.shape == (3, 784) and classes == ["1"]
    assert formats.read_pixels_csv(tmp_path / "gz.csv").shape == (3, 784)
    (tmp_path / "short.csv").write_text(csv_text(rows[:1]) + "\n1,2,3\n")
    with pytest.raises(DataError, match="line 3 has 3 values"):
        formats.read_csv(tmp_path / "short.csv")


def small_model(path, classes=None, n_outputs=None):
    """An untrained model file with the given class names (or outputs) in its metadata."""
    import digitnet

    n = n_outputs or len(classes)
    digitnet.save_model(path, digitnet.mlp([784, 8, n], rng=0), {"classes": classes} if classes else {})
    return path


def png(path, pixels):
    from PIL import Image

    Image.fromarray(np.asarray(pixels, np.uint8)).save(path)
    return path


def digit_png(path, size=28):
    pixels = np.zeros((size, size), np.uint8)
    pixels[size // 5: -size // 5, size // 2 - 2: size // 2 + 2] = 255
    return png(path, pixels)


def test_read_refuses_a_model_that_is_not_a_ten_digit_classifier(tmp_path, capsys):
    # the whole-digit judge got 813 features for 805: numpy's "matmul: Input operand 1 ..."
    image = digit_png(tmp_path / "number.png", 60)
    two = small_model(tmp_path / "two.npz", n_outputs=2)
    code, out, err = run(capsys, "read", "--model", two, image)
    assert code == 2 and out == ""
    assert err == f"digitnet: error: read needs a classifier of the ten digits; {two} has 2 outputs\n"
    clothes = small_model(tmp_path / "clothes.npz", [f"c{i}" for i in range(10)])
    code, _, err = run(capsys, "read", "--model", clothes, image)
    assert code == 2 and "has the classes c0, c1" in err and len(err.splitlines()) == 1


def test_predict_names_the_class_when_the_classes_are_not_the_digits(tmp_path, capsys):
    # a model trained on labels 1000-1009, or on folders cat/dög, printed the output's index
    image = digit_png(tmp_path / "d.png")
    for classes in ([str(1000 + i) for i in range(10)], ["cat", "dög"]):
        model = small_model(tmp_path / "m.npz", classes)
        code, out, _ = run(capsys, "predict", "--model", model, image, "--json")
        result = json.loads(out)
        assert code == 0 and result["label"] == classes[result["digit"]]
        code, out, _ = run(capsys, "predict", "--model", model, image)
        assert code == 0 and out.startswith(f"{image}: {result['label']} (")
    # for the ten digits, or without class names, "digit" says it all
    for model in (small_model(tmp_path / "m.npz", n_outputs=10), small_model(tmp_path / "m.npz", DIGITS)):
        code, out, _ = run(capsys, "predict", "--model", model, image, "--json")
        assert code == 0 and "label" not in json.loads(out)


def test_predict_raw_blank_image_is_blank_as_without_raw(tmp_path, capsys):
    # --raw said "1 (82.9%)" for an all-black 28x28 image
    black = png(tmp_path / "black.png", np.zeros((28, 28)))
    model = small_model(tmp_path / "m.npz", n_outputs=10)
    answers = []
    for raw in ([], ["--raw"]):
        code, out, err = run(capsys, "predict", "--model", model, black, *raw)
        assert code == 2 and out == ""  # no answer: one line on stderr and exit status 2
        answers.append(err)
    assert answers[0] == answers[1] == f"digitnet: error: {black}: no digit found: the image is blank " \
        "(no ink darker or brighter than the paper)\n"
    np.save(tmp_path / "black.npy", np.zeros((28, 28)))
    code, out, _ = run(capsys, "predict", "--model", model, tmp_path / "black.npy", "--json")
    assert json.loads(out)["digit"] is None and "blank" in json.loads(out)["error"]


@pytest.mark.parametrize("argv", [
    ["predict", ""], ["read", ""], ["predict", "--model", "", "x.png"], ["read", "--model", "", "x.png"],
    ["predict", "x.png", "--save-input", ""], ["info", ""], ["plot", ""], ["plot", "--log", ""],
])
def test_an_empty_path_is_refused(tmp_path, capsys, monkeypatch, argv):
    # "" meant the current folder: predict "" recognised every image in it
    monkeypatch.chdir(tmp_path)
    digit_png(tmp_path / "d.png")
    with pytest.raises(SystemExit) as exit:
        run(capsys, *argv)
    out, err = capsys.readouterr()
    assert exit.value.code == 2 and out == ""
    assert err.startswith(f"digitnet {argv[0]}: error: ") and "empty path" in err
    assert len(err.splitlines()) == 1


def test_save_input_to_a_folder_that_cannot_be_written(tmp_path, capsys, monkeypatch):
    # a read-only folder was a PermissionError traceback from Pillow, after predicting
    import tempfile

    image = digit_png(tmp_path / "d.png")
    (tmp_path / "ro").mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    code, out, err = run(capsys, "predict", image, "--save-input", tmp_path / "ro")
    assert code == 2 and out == ""
    assert err == f"digitnet: error: --save-input {tmp_path / 'ro'}: cannot write there: Permission denied\n"


def test_save_input_names_never_collide(tmp_path, capsys):
    # three CSV rows made one file; a/x.png and b/x.png, or d.jpg and d.png, overwrote each other
    (tmp_path / "rows.csv").write_text(csv_text(bar_rows(3)))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        digit_png(tmp_path / folder / "x.png")
    digit_png(tmp_path / "d.png")
    from PIL import Image

    Image.open(tmp_path / "d.png").convert("RGB").save(tmp_path / "d.jpg")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    inputs = [tmp_path / "rows.csv", tmp_path / "a" / "x.png", tmp_path / "b" / "x.png",
              tmp_path / "d.jpg", tmp_path / "d.png"]
    code, out, err = run(capsys, "predict", *inputs, "--save-input", out_dir)
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        ["rows-1.28x28.png", "rows-2.28x28.png", "rows-3.28x28.png", "x.28x28.png",
         "x-2.28x28.png", "d.28x28.png", "d-2.28x28.png"])
    # run again: the same files, replaced (a run over again gives the same names)
    code, out, err = run(capsys, "predict", *inputs, "--save-input", out_dir)
    assert code == 0 and len(list(out_dir.iterdir())) == 7, err


def test_a_newline_in_a_file_name_stays_on_one_line(tmp_path, capsys):
    bad = tmp_path / "two\nlines.png"
    bad.write_bytes(b"not an image")
    code, out, err = run(capsys, "predict", bad)
    assert code == 2 and len(err.splitlines()) == 1 and "two\\nlines.png" in err
    black = png(tmp_path / "black\n.png", np.zeros((28, 28)))
    code, out, err = run(capsys, "predict", black)
    assert code == 2 and len(err.splitlines()) == 1 and "black\\n.png: no digit found" in err


@pytest.mark.parametrize("metadata", [
    {"training": 5}, {"preprocessing": "weird"}, {"metrics": [1]},
    {"training": {"environment": "x", "member_training": [3], "resumed": 7, "full": True},
     "metrics": {"validation_accuracy": None}},
])
def test_info_shows_what_it_can_of_malformed_metadata(tmp_path, capsys, metadata):
    # "training": 5 or "preprocessing": "weird" was an AttributeError traceback
    import digitnet

    model = tmp_path / "odd.npz"
    digitnet.save_model(model, digitnet.mlp([784, 8, 10], rng=0), metadata)
    code, out, err = run(capsys, "info", model)
    assert code == 0 and err == ""
    assert f"Model:        {model}" in out and "Linear(784->8), Sigmoid, Linear(8->10)" in out


def test_info_reproduce_line_quotes_an_argument_list(tmp_path, capsys):
    import digitnet

    model = tmp_path / "m.npz"
    digitnet.save_model(model, digitnet.mlp([784, 8, 10], rng=0),
                        {"training": {"command": ["digitnet", "train", "--out", "my model.npz"]}})
    code, out, _ = run(capsys, "info", model)
    assert code == 0 and "Reproduce:    digitnet train --out 'my model.npz'\n" in out


@pytest.mark.parametrize("argv", [["info", "a", "b"], ["train", "extra"]])
def test_leftover_arguments_name_the_sub_command(capsys, argv):
    # "digitnet: error: unrecognized arguments ... (see digitnet --help)"
    with pytest.raises(SystemExit) as exit:
        run(capsys, *argv)
    out, err = capsys.readouterr()
    assert exit.value.code == 2 and out == ""
    assert err == (f"digitnet {argv[0]}: error: unrecognized arguments: {argv[-1]} "
                   f"(see digitnet {argv[0]} --help)\n")


def two_class_csv(path, n=24):
    rows = bar_rows(2) * (n // 2)
    path.write_text("".join(f"{i % 2}," + ",".join(map(str, row)) + "\n" for i, row in enumerate(rows)))
    return path


def test_plot_a_model_of_any_number_of_classes(tmp_path, tiny_mnist, capsys):
    # a 2-class model was an IndexError in the confusion matrix
    pytest.importorskip("matplotlib")
    two = small_model(tmp_path / "two.npz", ["0", "1"])
    out_dir = tmp_path / "plots"
    out_dir.mkdir()
    code, out, err = run(capsys, "plot", two, "--data", tiny_mnist, "--out", out_dir)
    assert code == 2 and out == "" and list(out_dir.iterdir()) == []
    assert err == "digitnet: error: the model has 2 outputs, the data 10 classes\n"
    data = two_class_csv(tmp_path / "two.csv")
    code, out, err = run(capsys, "plot", two, "--data", data, "--test", data, "--out", out_dir)
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["confusion.png", "mistakes.png", "weights.png"]
    # ten outputs, but other classes than the data's
    clothes = small_model(tmp_path / "clothes.npz", [f"c{i}" for i in range(10)])
    code, out, err = run(capsys, "plot", clothes, "--data", tiny_mnist, "--out", tmp_path)
    assert code == 2 and "the model's classes (c0, c1" in err and len(err.splitlines()) == 1


def test_plot_a_log_with_epochs_without_accuracy(tmp_path, capsys):
    # "accuracy": null (an epoch without validation) was a TypeError traceback
    pytest.importorskip("matplotlib")
    log = tmp_path / "f.jsonl"
    log.write_text("".join(json.dumps({"epoch": e, "loss": 1.0 / (e + 1), "accuracy": a}) + "\n"
                           for e, a in enumerate([None, 0.5, None])))
    code, out, err = run(capsys, "plot", "--log", log, "--out", tmp_path)
    assert code == 0 and err == "" and (tmp_path / "training.png").is_file()
    log.write_text(json.dumps({"epoch": 0, "loss": 1.0, "accuracy": "high"}) + "\n")
    code, out, err = run(capsys, "plot", "--log", log, "--out", tmp_path)
    assert code == 2 and "must be numbers" in err and len(err.splitlines()) == 1


def test_a_blank_image_in_a_class_folder_is_named(tmp_path, capsys):
    # "no digit found: the image is blank", without saying which of the images
    for name in ("a", "b"):
        (tmp_path / "data" / name).mkdir(parents=True)
        digit_png(tmp_path / "data" / name / "1.png", 40)
    blank = png(tmp_path / "data" / "b" / "2.png", np.full((40, 40), 255))
    code, out, err = run(capsys, "train", "--data", tmp_path / "data", "--epochs", 1,
                         "--out", tmp_path / "m.npz")
    assert code == 2 and err.startswith(f"digitnet: error: {blank}: no digit found")
    assert len(err.splitlines()) == 1 and not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("command", ["predict", "read"])
@pytest.mark.parametrize("batch", [[], ["--jobs", "1", "--format", "csv"]])
def test_a_blank_picture_among_others_ends_with_exit_status_2(tmp_path, capsys, command, batch):
    # a blank picture was answered "no digit found" with exit status 0 (issue 23)
    model = small_model(tmp_path / "m.npz", n_outputs=10)
    good, blank = digit_png(tmp_path / "good.png"), png(tmp_path / "blank.png", np.full((40, 40), 255))
    code, out, err = run(capsys, command, "--model", model, good, blank, *batch)
    assert code == 2 and "Traceback" not in err
    assert str(good) in out and "no digit found" in (out if batch else err)
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("shape", [(3, 784), (3, 28, 28)])
def test_a_npy_stack_of_digits_is_read_row_by_row_as_a_csv_file_is(tmp_path, capsys, shape):
    # an (N, 784) array, as ML users save digits, was refused: "expected a 28x28 numeric array"
    rows = np.asarray(bar_rows(3), np.uint8).reshape(shape)
    np.save(tmp_path / "rows.npy", rows)
    (tmp_path / "rows.csv").write_text(csv_text(rows.reshape(3, 784).tolist()))
    code, out, err = run(capsys, "predict", tmp_path / "rows.npy", "--json")
    assert code == 0 and err == ""
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["path"] for a in answers] == [f"{tmp_path / 'rows.npy'}:{i}" for i in (1, 2, 3)]
    code, out_csv, _ = run(capsys, "predict", tmp_path / "rows.csv", "--json")
    assert code == 0
    assert [a["probabilities"] for a in answers] == [json.loads(line)["probabilities"]
                                                      for line in out_csv.splitlines()]


def test_a_npy_stack_that_is_no_stack_of_digits_gets_one_line(tmp_path, capsys):
    bad = np.zeros((2, 784), np.float32)
    bad[1, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    code, out, err = run(capsys, "predict", tmp_path / "nan.npy")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "[0, 255]" in err
    np.save(tmp_path / "odd.npy", np.zeros((3, 5)))  # not 784 numbers: a picture, and blank
    code, out, err = run(capsys, "predict", tmp_path / "odd.npy")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no digit found" in err
    np.save(tmp_path / "odd.npy", np.zeros((2, 3, 4, 5)))  # no picture either
    code, out, err = run(capsys, "predict", tmp_path / "odd.npy")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is no picture" in err
