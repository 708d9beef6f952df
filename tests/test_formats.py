"""Data in the layouts users have: CSV files and folders of class folders."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.cli import main
from digitnet.data import formats
from digitnet.errors import DataError


def write_csv(path, n=60, header=True, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    pixels = rng.integers(0, 30, (n, 784))
    for i, label in enumerate(labels):
        pixels[i, 100 * label: 100 * label + 80] = 255
    with open(path, "w") as f:
        if header:
            f.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
        for label, row in zip(labels, pixels):
            f.write(f"{label}," + ",".join(map(str, row)) + "\n")
    return labels


def test_csv_with_and_without_header(tmp_path):
    for header in (True, False):
        labels = write_csv(tmp_path / "d.csv", header=header)
        x, y, classes = formats.read_csv(tmp_path / "d.csv")
        assert x.shape == (60, 784) and x.dtype == np.float32 and x.max() == 1.0
        assert classes == ["0", "1", "2"] and (y == labels).all()


@pytest.mark.parametrize("content,message", [
    ("label,pixel0\n1,2\n", "expected a label and 784 pixels"),
    ("", "no rows"),
    ("1," + ",".join(["300"] * 784) + "\n", "0-255"),
    ("1," + ",".join(["x"] * 784) + "\n", "numbers"),
])
def test_bad_csv(tmp_path, content, message):
    (tmp_path / "bad.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        formats.read_csv(tmp_path / "bad.csv")


def class_folders(root, n=8):
    shapes = {"bar": lambda d: d.line([(30, 10), (30, 90)], fill=0, width=10),
              "ring": lambda d: d.ellipse([(15, 15), (85, 85)], outline=0, width=10)}
    for name, draw in shapes.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            image = Image.new("L", (100 + 3 * i, 100), 255)
            draw(ImageDraw.Draw(image))
            image.save(root / name / f"{i}.png")
    return root


def test_class_folders(tmp_path):
    x, y, classes = formats.read_folder(class_folders(tmp_path / "train"))
    assert classes == ["bar", "ring"] and x.shape == (16, 784) and sorted(set(y)) == [0, 1]
    with pytest.raises(DataError, match="sub-folder"):
        formats.read_folder(tmp_path / "train" / "bar")


def test_train_and_evaluate_on_csv_and_folders(tmp_path, capsys):
    write_csv(tmp_path / "train.csv", n=120)
    write_csv(tmp_path / "test.csv", n=30, seed=1)
    model = tmp_path / "m.npz"
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
                 "--recipe", "relu", "--epochs", "3", "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert "[784, 128, 64, 3]" in out and "Test: " in out and " / 30 (" in out
    assert main(["evaluate", str(model), "--data", str(tmp_path / "train.csv"),
                 "--test", str(tmp_path / "test.csv")]) == 0
    folders = class_folders(tmp_path / "shapes")
    assert main(["train", "--data", str(folders), "--recipe", "relu", "--epochs", "2",
                 "--out", str(tmp_path / "s.npz")]) == 0
    assert "no test set" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "s.npz"), "--data", str(folders)]) == 2
    assert "--test" in capsys.readouterr().err


def test_predict_reads_csv_rows_and_folders(tmp_path, capsys):
    write_csv(tmp_path / "rows.csv", n=5)
    lines = (tmp_path / "rows.csv").read_text().splitlines()
    (tmp_path / "unlabelled.csv").write_text("\n".join(",".join(line.split(",")[1:])
                                                       for line in lines) + "\n")
    assert main(["predict", str(tmp_path / "rows.csv"), str(tmp_path / "unlabelled.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 10 and out[0].startswith(f"{tmp_path / 'rows.csv'}:1: ")
    assert [line.split(": ")[1] for line in out[:5]] == [line.split(": ")[1] for line in out[5:]]
    folders = class_folders(tmp_path / "shapes", n=2)
    assert main(["predict", str(folders / "bar"), "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(tmp_path / "empty")]) == 2
    (tmp_path / "bad.csv").write_text("1,2,3\n")
    assert main(["predict", str(tmp_path / "bad.csv")]) == 2


def test_any_idx_data_set_with_its_own_classes(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DIGITNET_DATA", raising=False)
    from digitnet.data.idx import write_idx

    rng = np.random.default_rng(0)
    folder = tmp_path / "letters"
    folder.mkdir()
    for kind, n in (("train", 240), ("t10k", 48)):
        labels = rng.integers(0, 12, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label: 2 * label + 2, :] = 255
        write_idx(folder / f"{kind}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{kind}-labels-idx1-ubyte.gz", labels)
    out = tmp_path / "m.npz"
    assert main(["train", "--dataset", "idx", "--data", str(folder), "--recipe", "relu",
                 "--epochs", "3", "--out", str(out)]) == 0
    assert "[784, 128, 64, 12]" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--dataset", "idx", "--data", str(folder)]) == 0
    assert main(["train", "--dataset", "idx", "--out", str(out)]) == 2


def test_an_npy_header_written_by_python_2_is_read_without_a_warning(tmp_path):
    # NumPy reads "28L" after filtering the header, with a UserWarning that, under
    # pytest's warnings-as-errors, the fuzz test once turned into a failure
    from digitnet.data.images import load_mnist_style

    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (28L, 28L), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    data = np.zeros((28, 28))
    data[10:18, 13:15] = 1.0
    path = tmp_path / "py2.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
                     + data.tobytes())
    np.testing.assert_array_equal(load_mnist_style(path), data.reshape(-1))
