"""Touching pairs as a pen makes them (data.touching), and reading pieces that hold two."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.touching import touching_number
from digitnet.read import decode, lattice
from digitnet.read.pairs import FRAME, ONE, TWO, frame
from digitnet.read.segment import Piece


def drawn_rows():
    """A 0, a 1 and a 7 drawn in MNIST's 28x28 form, as rows of 784 values in [0, 1]."""
    rows = []
    for shape in ("ellipse", "line", "seven"):
        image = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(image)
        if shape == "ellipse":
            draw.ellipse((7, 4, 21, 24), outline=255, width=3)
        elif shape == "line":
            draw.line((14, 4, 13, 24), fill=255, width=3)
        else:
            draw.line((6, 5, 21, 5, 11, 24), fill=255, width=3)
        rows.append(np.asarray(image, np.float32).ravel() / 255)
    return np.stack(rows)


@pytest.mark.parametrize("seed", range(12))
def test_a_touching_pair_is_one_piece_and_each_digit_keeps_its_own_ink(seed):
    rng = np.random.default_rng(seed)
    rows = drawn_rows()[rng.permutation(3)[:2]]
    image, boxes, layers = touching_number(rows, rng)
    page = 1 - np.asarray(image, np.float32) / 255
    assert len(lattice(image).groups) == 1  # the strokes meet
    assert (page >= np.max(layers, axis=0) - 1 / 255).all()  # a ligature only adds ink
    for (left, top, right, bottom), layer in zip(boxes, layers):
        inside = np.zeros(layer.shape, bool)
        inside[top:bottom, left:right] = True
        assert layer[~inside].max() <= 0.1 < layer[inside].max()
    assert boxes[0][0] < boxes[1][0] and boxes[0][2] < boxes[1][2]  # left to right


def test_digits_that_do_not_touch_stay_apart():
    rng = np.random.default_rng(0)
    image, boxes, _ = touching_number(drawn_rows(), rng, touching=0.0)
    assert len(boxes) == 3 and len(lattice(image).groups) == 3


def test_a_piece_is_framed_whole_and_centred_keeping_its_shape():
    small = np.zeros((64, 100), np.float32)
    small[10:50, 20:80] = 1.0  # 40 high, 60 wide
    row = frame(small, Piece(0, 100, small > 0.25)).reshape(FRAME)
    rows, cols = np.flatnonzero(row.max(axis=1) > 0.5), np.flatnonzero(row.max(axis=0) > 0.5)
    assert row.max() == 1.0
    assert len(rows) == 24 and abs(len(cols) - 36) <= 1  # scaled by 24 / 40
    assert rows[0] + rows[-1] in (26, 27) and abs(cols[0] + cols[-1] - 55) <= 1
    assert not frame(small * 0, Piece(0, 100, small > 2)).any()


def two_zeros():
    image = Image.new("L", (300, 160), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 30, 120, 130), outline=0, width=10)
    draw.ellipse((105, 30, 185, 130), outline=0, width=10)
    return image


def scores_of(lat, count, pair):
    """Scores in which every piece is a sure 0 and whole, with the counter's and the
    pair reader's outputs given."""
    n = len(lat.pieces)
    p = np.full((n, 10), 1e-4)
    p[:, 0] = 1 - 9e-4
    log_count = np.log(np.tile(np.asarray(count, float), (n, 1)))
    return decode.Scores(list(lat.pieces), p, np.zeros(n), True, log_count,
                         np.tile(np.asarray(pair, float), (n, 1)))


def test_a_wide_piece_the_counter_sees_two_digits_in_is_read_as_the_pair():
    lat = lattice(two_zeros())
    sure_pair = np.full(100, 1e-4)
    sure_pair[42] = 1 - 99e-4
    count = np.full(4, 0.01)
    count[TWO] = 0.97
    chosen = decode.decode(lat, scores_of(lat, count, sure_pair))
    assert [d for _, d, _ in chosen] == [4, 2]
    assert chosen[0][0] == chosen[1][0]  # one piece, read as two
    count[[ONE, TWO]] = count[[TWO, ONE]]  # the counter sees one digit: no pair
    assert [d for _, d, _ in decode.decode(lat, scores_of(lat, count, sure_pair))] != [4, 2]


def test_a_pair_read_from_one_piece_gets_a_box_each(monkeypatch):
    from digitnet.read import pairs

    image = two_zeros()
    lat = lattice(image)
    sure_pair = np.full(100, 1e-4)
    sure_pair[42] = 1 - 99e-4
    count = np.asarray([0.01, 0.01, 0.97, 0.01])
    n = len(lat.pieces)
    monkeypatch.setattr(pairs, "assess", lambda lat, keys: (
        np.log(np.tile(count, (n, 1))), np.tile(sure_pair, (n, 1))))

    class Zeros:
        def confidences(self, x):
            p = np.full((len(x), 10), 1e-4)
            p[:, 0] = 1 - 9e-4
            return p

    reading = decode.read_number(image, Zeros())
    assert reading.text == "42"
    (l0, _, r0, _), (l1, _, r1, _) = (d.box for d in reading.digits)
    assert 35 <= l0 < r0 == l1 < r1 <= 190


@pytest.mark.slow
def test_fit_pairs_trains_a_counter_and_a_pair_reader_that_fit_read(tmp_path):
    """The networks `read.pairs` ships are made by this command (here on 30 numbers)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from digitnet.io import load_model
    from digitnet.read.pairs import counter_input, shape

    if not os.environ.get("DIGITNET_DATA"):
        pytest.skip("set DIGITNET_DATA to the folder holding the MNIST IDX files")
    done = subprocess.run([sys.executable, "-m", "benchmarks.fit_pairs", "--numbers", "30",
                           "--pairs", "60", "--epochs", "1", "--out", str(tmp_path)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lat = lattice(two_zeros())
    keys = list(lat.pieces)
    frames = np.stack([frame(lat.small, lat.pieces[k]) for k in keys])
    counter = load_model(tmp_path / "count.npz")
    assert counter.predict_proba(counter_input(frames, shape(lat, keys))).shape == (len(keys), 4)
    for name in ("left", "right"):
        assert load_model(tmp_path / f"{name}.npz").predict_proba(frames).shape == (len(keys), 10)
