"""digitnet plot makes readable PNG files of the expected size."""

import pytest

pytest.importorskip("matplotlib")
from PIL import Image  # noqa: E402

from digitnet.cli import main  # noqa: E402


@pytest.mark.parametrize("recipe", ["seed", "cnn"])
def test_plot_files(tiny_mnist, tmp_path, capsys, recipe):
    model, log = tmp_path / "m.npz", tmp_path / "log.jsonl"
    assert main(["train", "--recipe", recipe, "--epochs", "2", "--data", str(tiny_mnist),
                 "--out", str(model), "--log", str(log), "--quiet"]) == 0
    out = tmp_path / "plots"
    out.mkdir()
    assert main(["plot", str(model), "--log", str(log), "--data", str(tiny_mnist),
                 "--out", str(out)]) == 0
    sizes = {"training.png": (1000, 400), "confusion.png": (700, 600), "weights.png": None,
             "mistakes.png": None}
    for name, size in sizes.items():
        with Image.open(out / name) as image:
            image.verify()
        with Image.open(out / name) as image:
            assert image.format == "PNG"
            if size:
                assert image.size == size
            else:
                assert image.size[0] >= 600 and image.size[1] >= 100
    assert sorted(p.name for p in out.iterdir()) == sorted(sizes)


def test_plot_errors(tmp_path, capsys):
    assert main(["plot"]) == 2
    bad = tmp_path / "log.jsonl"
    bad.write_text("not json\n")
    assert main(["plot", "--log", str(bad), "--out", str(tmp_path)]) == 2
    assert main(["plot", "--log", str(tmp_path / "none.jsonl"), "--out", str(tmp_path)]) == 2
    assert main(["plot", "--log", str(bad), "--out", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4 and all(line.startswith("digitnet: error: ") for line in err)
    assert not list(tmp_path.glob("*.png"))
