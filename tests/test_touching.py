"""Touching pairs as a pen makes them (data.touching), and the counter of digits in a piece."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.touching import touching_number
from digitnet.read import decode, lattice
from digitnet.read.counter import FRAME, frame
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


def scores_of(lat, count):
    """Scores in which every piece is a sure 0, the component as found is whole and cut
    pieces are doubtful (P(whole) = 0.1), with the counter's output given for the
    component (cut pieces: one digit)."""
    from digitnet.read.segment import WHOLE

    n = len(lat.pieces)
    p = np.full((n, 10), 1e-4)
    p[:, 0] = 1 - 9e-4
    one = np.asarray([0.01, 0.97, 0.01, 0.01])
    counts = np.stack([count if lat.kind[k] == WHOLE else one for k in lat.pieces])
    whole = np.log([1.0 if lat.kind[k] == WHOLE else 0.1 for k in lat.pieces])
    return decode.Scores(list(lat.pieces), p, whole, True, np.log(counts))


def test_a_piece_the_counter_sees_two_digits_in_costs_more_read_as_one():
    lat = lattice(two_zeros())
    assert len(lat.groups) == 1
    one = np.asarray([0.01, 0.97, 0.01, 0.01])
    assert len(decode.decode(lat, scores_of(lat, one))) == 1
    two = np.asarray([0.01, 0.01, 0.97, 0.01])
    assert len(decode.decode(lat, scores_of(lat, two))) == 2


@pytest.mark.slow
def test_fit_counter_trains_a_counter_that_fits_read(tmp_path):
    """The counter `read` ships is made by this command (here on 30 numbers)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from digitnet.io import load_model
    from digitnet.read.counter import counter_input, shape

    if not os.environ.get("DIGITNET_DATA"):
        pytest.skip("set DIGITNET_DATA to the folder holding the MNIST IDX files")
    out = tmp_path / "count.npz"
    done = subprocess.run([sys.executable, "-m", "benchmarks.fit_counter", "--numbers", "30",
                           "--epochs", "1", "--out", str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lat = lattice(two_zeros())
    keys = list(lat.pieces)
    frames = np.stack([frame(lat.small, lat.pieces[k]) for k in keys])
    counter = load_model(out)
    assert counter.predict_proba(counter_input(frames, shape(lat, keys))).shape == (len(keys), 4)
    assert counter.metadata["training"]["command"].startswith("python -m benchmarks.fit_counter")


def test_the_shipped_counter_sees_two_touching_zeros():
    from digitnet.read.counter import counter_model, log_count

    assert counter_model() is not None and counter_model().input_shape == (FRAME[0] * FRAME[1] + 2,)
    lat = lattice(two_zeros())
    whole = [k for k in lat.pieces if lat.kind[k] == 0]
    assert np.exp(log_count(lat, whole))[0, 2:].sum() > 0.5
