"""The network for photos of paper (``pretrained.PHOTO``): it answers for the pictures the
front end finds to be photos, with the default model, in every way of predicting."""

import io
import json

import numpy as np
import pytest
from PIL import Image

import digitnet
from digitnet import pretrained
from digitnet.data.preprocess import to_mnist_seen
from digitnet.nn import mlp
from helpers import run
from test_preprocess import paper_photo, seven


def always(digit):
    """A network that answers ``digit`` whatever it is shown."""
    net = mlp([784, 10], cost="ce", rng=0)
    state = net.state_dict()
    weights = {"0.weight": np.zeros_like(state["0.weight"]),
               "0.bias": np.where(np.arange(10) == digit, 20.0, 0.0).astype(np.float32)}
    net.load_state_dict(weights)
    return net


def scan():
    buffer = io.BytesIO()
    seven(size=120).save(buffer, "PNG")
    return buffer.getvalue()


def chalk():
    """Light strokes on a dark board, photographed (noise, JPEG)."""
    board = np.asarray(seven(size=120, ink=220, paper=50), np.float32)
    board = board + np.random.default_rng(0).normal(0, 6, board.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(board, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


PHOTO = paper_photo(1, ink=0.8)


def test_the_front_end_tells_paper_and_boards_from_a_drawing():
    assert to_mnist_seen(PHOTO)[1].surface and to_mnist_seen(PHOTO)[1].photo
    assert to_mnist_seen(chalk())[1].surface and not to_mnist_seen(chalk())[1].photo
    assert not to_mnist_seen(scan())[1].surface  # one flat level: a drawing


def test_confidences_give_each_row_to_its_network():
    x = np.zeros((4, 784), np.float32)
    photos = [False, True, True, False]
    p = pretrained.confidences(always(7), always(3), x, photos)
    assert p.argmax(axis=1).tolist() == [7, 3, 3, 7]
    assert pretrained.confidences(always(7), None, x, photos).argmax(axis=1).tolist() == [7] * 4
    assert pretrained.confidences(always(7), always(3), x, [True] * 4).argmax(axis=1).tolist() == [3] * 4


def test_the_photo_network_goes_with_the_default_model_only(tmp_path):
    shipped = pretrained.photo_model(None)
    assert shipped is not None and len(shipped.members) == 5
    assert pretrained.photo_model("ensemble") is not None
    assert pretrained.photo_model("cnn") is None
    assert pretrained.photo_model(str(tmp_path / "mine.npz")) is None


def test_the_shipped_photo_network_reads_the_photo():
    assert digitnet.predict(PHOTO).digit == 7
    assert pretrained.photo_model(None).predict(to_mnist_seen(PHOTO)[0][None])[0] == 7


@pytest.fixture
def answers_3_for_photos(monkeypatch):
    monkeypatch.setattr(pretrained, "photo_model", lambda path: always(3) if path is None else None)
    monkeypatch.setattr(digitnet, "_shipped_photo_model", lambda: always(3))


def test_python_predict_gives_photos_to_the_photo_network(answers_3_for_photos):
    assert digitnet.predict(PHOTO).digit == 3
    assert digitnet.predict(chalk()).digit == 3
    assert digitnet.predict(scan()).digit == 7
    assert digitnet.predict(PHOTO, model=always(5)).digit == 5  # a model given answers alone


def test_cli_predict_gives_photos_to_the_photo_network(answers_3_for_photos, tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(PHOTO)
    (tmp_path / "scan.png").write_bytes(scan())
    code, out, _ = run(capsys, "predict", str(tmp_path / "photo.jpg"), str(tmp_path / "scan.png"),
                       "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["digit"] for r in rows] == [3, 7]


def test_batch_predict_gives_photos_to_the_photo_network(answers_3_for_photos, tmp_path):
    from digitnet.batch import work
    from digitnet.batch.sources import Input

    task = work.Task("predict")
    work.release()
    results = work.run_chunk(task, [Input("photo", PHOTO), Input("scan", scan())])
    work.release()
    assert [r.answer for r in results] == ["3", "7"]

