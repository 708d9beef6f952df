"""Touching pairs as a pen makes them (data.touching), and the pair reader: how many digits
a piece holds, and which two."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.touching import touching_number
from digitnet.read import decode, lattice, sequence
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


def test_a_ligature_across_a_wider_gap_still_joins_the_pair():
    """Joined writing: the digits up to 0.4 of their height apart, the pen's stroke
    between them making one piece of the two; without ``ligature_gap``, the numbers are
    those the frozen benchmark sets were made with."""
    rows = drawn_rows()[[0, 2]]
    default = touching_number(rows, np.random.default_rng(0))[0]
    assert np.array_equal(np.asarray(default), np.asarray(
        touching_number(rows, np.random.default_rng(0), ligature_gap=None)[0]))
    gaps = []
    for seed in range(12):
        image, boxes, layers = touching_number(rows, np.random.default_rng(seed),
                                               ligature_gap=(0.3, 0.4))
        stroke = (np.asarray(image) < 128) & (np.max(layers, axis=0) < 0.5)
        if stroke.sum() > 20:  # a ligature (else the pair overlaps)
            assert len(lattice(image).groups) == 1
            gaps.append((boxes[1][0] - boxes[0][2]) / (boxes[0][3] - boxes[0][1]))
    assert len(gaps) >= 2 and min(gaps) > 0.2


def test_a_crowded_hand_slides_its_digits_further_over_each_other():
    """``overlap``: how far past touching a pair may be slid (fit_sequence ``--crowd``
    gives half the narrower digit's width); the default draws what it always drew."""
    rows = drawn_rows()[[0, 2]]
    assert np.array_equal(np.asarray(touching_number(rows, np.random.default_rng(0))[0]),
                          np.asarray(touching_number(rows, np.random.default_rng(0), overlap=0.25)[0]))

    def shared(overlap):
        """The mean share of the narrower box that the two boxes share, over 40 draws
        without ligatures."""
        out = []
        for seed in range(40):
            rng = np.random.default_rng(seed)
            image, boxes, layers = touching_number(rows, rng, overlap=overlap)
            stroke = (np.asarray(image) < 128) & (np.max(layers, axis=0) < 0.5)
            if stroke.sum() <= 20:  # slid, not joined by a pen's stroke
                (l0, _, r0, _), (l1, _, r1, _) = boxes
                out.append((r0 - l1) / min(r0 - l0, r1 - l1))
        return np.mean(out)

    assert shared(0.5) > shared(0.25) + 0.05 > shared(0.0) + 0.1


def test_a_piece_is_framed_whole_and_centred_keeping_its_shape():
    small = np.zeros((64, 100), np.float32)
    small[10:50, 20:80] = 1.0  # 40 high, 60 wide
    row = frame(small, Piece(0, 100, small > 0.25), 40).reshape(FRAME)
    rows, cols = np.flatnonzero(row.max(axis=1) > 0.5), np.flatnonzero(row.max(axis=0) > 0.5)
    assert row.max() == 1.0
    assert len(rows) == 24 and abs(len(cols) - 36) <= 1  # scaled by 24 / 40
    assert rows[0] + rows[-1] in (26, 27) and abs(cols[0] + cols[-1] - 55) <= 1
    assert not frame(small * 0, Piece(0, 100, small > 2), 40).any()
    # in writing twice as high, half the size
    row = frame(small, Piece(0, 100, small > 0.25), 80).reshape(FRAME)
    assert len(np.flatnonzero(row.max(axis=1) > 0.5)) in (12, 13)


def two_zeros():
    image = Image.new("L", (300, 160), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 30, 120, 130), outline=0, width=10)
    draw.ellipse((105, 30, 185, 130), outline=0, width=10)
    return image


def scores_of(lat, count):
    """Scores in which every piece is a sure 0, the component as found is whole and cut
    pieces are doubtful (P(whole) = 0.1), with the pair reader's count given for the
    component (cut pieces: one digit), no pairs."""
    from digitnet.read.segment import WHOLE

    n = len(lat.pieces)
    p = np.full((n, 10), 1e-4)
    p[:, 0] = 1 - 9e-4
    one = np.asarray([0.01, 0.97, 0.01, 0.01])
    counts = np.stack([count if lat.kind[k] == WHOLE else one for k in lat.pieces])
    whole = np.log([1.0 if lat.kind[k] == WHOLE else 0.1 for k in lat.pieces])
    return decode.Scores(list(lat.pieces), p, whole, True, np.log(counts))


def test_a_piece_the_counter_sees_two_digits_in_costs_more_read_as_one(monkeypatch):
    monkeypatch.setattr(decode, "COUNT_WEIGHT", 2.0)  # the mechanism, whatever the shipped weight
    monkeypatch.setattr(sequence, "_MODEL", [None])  # the lattice's choice alone
    lat = lattice(two_zeros())
    assert len(lat.groups) == 1
    one = np.asarray([0.01, 0.97, 0.01, 0.01])
    assert len(decode.decode(lat, scores_of(lat, one))) == 1
    two = np.asarray([0.01, 0.01, 0.97, 0.01])
    assert len(decode.decode(lat, scores_of(lat, two))) == 2


def test_a_piece_the_pair_reader_reads_as_two_digits_is_read_as_two_with_a_box_each(monkeypatch):
    from digitnet.read.segment import WHOLE

    lat = lattice(two_zeros())
    s = scores_of(lat, np.asarray([0.01, 0.01, 0.97, 0.01]))
    # cut pieces are judged no digit at all: only the pair reader can read two digits
    s.log_whole[[lat.kind[k] != WHOLE for k in lat.pieces]] = np.log(1e-6)
    s.log_whole[[lat.kind[k] == WHOLE for k in lat.pieces]] = np.log(0.5)  # the judge in doubt
    s.pair = np.full((len(lat.pieces), 100), 1e-5)
    s.pair[:, 7] = 0.9  # 0 then 7
    monkeypatch.setattr(decode, "PAIR_COST", 3.0)
    # the lattice's choice alone: the sequence reader would see the picture's two zeros
    monkeypatch.setattr(sequence, "_MODEL", [None])
    chosen = decode.decode(lat, s)
    assert [d for _, d, _ in chosen] == [0, 7] and chosen[0][0] == chosen[1][0]
    assert lat.kind[chosen[0][0]] == WHOLE
    monkeypatch.setattr(decode, "PAIR_COST", np.inf)  # without pairs: one digit
    assert len(decode.decode(lat, s)) == 1


class SaysPlainly:
    """A stand-in sequence reader whose column scores say ``text`` plainly."""

    def __init__(self, text):
        self.text = text

    def predict_proba(self, x, batch_size=None):
        path = [sequence.BLANK] * (x.shape[-1] // sequence.STRIDE)
        for i, c in enumerate(self.text):
            path[1 + 2 * i] = int(c)
        return (np.eye(sequence.BLANK + 1)[path] * 8).astype(np.float32)


def test_a_pair_reading_that_loses_is_kept_and_the_sequence_reader_may_choose_it(monkeypatch):
    from digitnet.read.segment import WHOLE

    lat = lattice(two_zeros())
    s = scores_of(lat, np.asarray([0.01, 0.01, 0.97, 0.01]))
    s.log_whole[[lat.kind[k] != WHOLE for k in lat.pieces]] = np.log(1e-6)
    s.log_whole[[lat.kind[k] == WHOLE for k in lat.pieces]] = np.log(0.5)
    s.pair = np.full((len(lat.pieces), 100), 1e-5)
    s.pair[:, 7] = 0.9
    monkeypatch.setattr(decode, "PAIR_COST", 6.0)  # one digit reads better, but not by much
    monkeypatch.setattr(decode, "COUNT_WEIGHT", 0.25)  # (the weights this case was made with)
    monkeypatch.setattr(decode, "PAIR_WHOLE", 2.0)
    whole = next(k for k in lat.pieces if lat.kind[k] == WHOLE)
    assert len(decode.readings(lat, s)[whole][1]) == 1
    other = decode.both_readings(lat, s)[1][whole]
    assert [d for d, _ in other[1]] == [0, 7] and other[0] < decode.readings(lat, s)[whole][0]
    monkeypatch.setattr(sequence, "_MODEL", [None])
    assert len(decode.decode(lat, s)) == 1  # the lattice alone reads one digit
    monkeypatch.setattr(sequence, "_MODEL", [SaysPlainly("07")])
    chosen = decode.decode(lat, s)
    assert [d for _, d, _ in chosen] == [0, 7] and chosen[0][0] == chosen[1][0] == whole
    monkeypatch.setattr(decode, "PAIR_COST", np.inf)  # no pair reading at all: nothing to choose
    monkeypatch.setattr(sequence, "SPELL_LEAD", np.inf)  # (nor the reader's path read alone,
    monkeypatch.setattr(sequence, "DROP_LEAD", np.inf)  # as it would be: "07" is "0" with one more)
    monkeypatch.setattr(sequence, "SPELL_MORE", np.inf)
    assert whole not in decode.both_readings(lat, s)[1] and len(decode.decode(lat, s)) == 1


def test_a_pair_is_split_at_its_thinnest_column_in_the_middle():
    mask = np.ones((10, 20), bool)
    mask[:, 12] = False
    mask[:, 2] = False  # outside the middle half: not the split
    left = decode._half((100, 120, mask), first=True)
    right = decode._half((100, 120, mask), first=False)
    assert left[:2] == (100, 112) and right[:2] == (112, 120)
    assert left[2].shape == (10, 12) and right[2].shape == (10, 8)


@pytest.mark.slow
def test_fit_pairs_trains_a_pair_reader_that_fits_read(tmp_path):
    """The pair reader `read` ships is made by this command (here on 20 numbers)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from digitnet.io import load_model
    from digitnet.read.counter import assess_frames

    if not os.environ.get("DIGITNET_DATA"):
        pytest.skip("set DIGITNET_DATA to the folder holding the MNIST IDX files")
    out = tmp_path / "count.npz"
    done = subprocess.run([sys.executable, "-m", "benchmarks.fit_pairs", "--numbers", "20",
                           "--pairs", "20", "--epochs", "1", "--out", str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lat = lattice(two_zeros())
    frames = np.stack([frame(lat.small, lat.pieces[k], lat.height) for k in lat.pieces])
    reader = load_model(out)
    log_count, pair = assess_frames(frames, reader)
    assert log_count.shape == (len(frames), 4) and pair.shape == (len(frames), 100)
    assert reader.metadata["training"]["command"].startswith("python -m benchmarks.fit_pairs")


def test_fit_pairs_trains_a_pair_reader_given_further_at_the_rate_given():
    # fit_pairs --start/--lr: the networks of an existing pair reader, not new ones
    from benchmarks.fit_pairs import train

    from digitnet.read.counter import FRAME, pair_reader

    rng = np.random.default_rng(0)
    x = rng.random((20, FRAME[0] * FRAME[1])).astype(np.float16)
    y = np.zeros((20, 24), np.float32)
    y[np.arange(20), rng.integers(0, 4, 20)] = 1.0
    trained = []
    for lr in (0.01, 0.02):
        start = pair_reader(np.random.default_rng(1))
        before = [w.copy() for w, _ in start.parameters()]
        net, held = train(x, y, 1, 0, log=lambda line: None, start=start, lr=lr)
        assert net is start and len(held) == 2
        trained.append([w for w, _ in net.parameters()])
        assert any(not np.array_equal(a, b) for a, b in zip(before, trained[-1]))
    assert any(not np.allclose(a, b) for a, b in zip(*trained))  # the rate given is used


def test_the_pair_reader_gives_each_head_its_probabilities():
    from digitnet.read.counter import HEADS, assess_frames, pair_reader

    net = pair_reader(np.random.default_rng(0))
    frames = np.random.default_rng(1).random((3, FRAME[0] * FRAME[1])).astype(np.float32)
    assert net.predict_proba(frames).shape == (3, HEADS[-1].stop)
    log_count, pair = assess_frames(frames, net)
    np.testing.assert_allclose(np.exp(log_count).sum(axis=1), 1, rtol=1e-6)
    # P(two, a, b) sums to P(two) over the hundred pairs
    np.testing.assert_allclose(pair.sum(axis=1), np.exp(log_count[:, 2]), rtol=1e-6)


def test_the_shipped_pair_reader_sees_two_touching_zeros():
    from digitnet.read.counter import assess, counter_model

    assert counter_model() is not None and counter_model().input_shape == (FRAME[0] * FRAME[1],)
    lat = lattice(two_zeros())
    whole = [k for k in lat.pieces if lat.kind[k] == 0]
    log_count, pair = assess(lat, whole)
    assert np.exp(log_count)[0, 2:].sum() > 0.5 and pair[0].argmax() == 0


def test_a_judge_given_is_used_in_place_of_the_shipped_one():
    # benchmarks.tune_counter compares judges on the same pieces this way
    from digitnet.read import judge

    class Sure:
        def predict_proba(self, x):
            return np.tile([0.2, 0.8], (len(x), 1))

    whole = judge.log_whole(np.zeros((3, 784)), np.zeros((3, 29)), Sure())
    assert np.allclose(whole, np.log(0.8))
    assert not np.allclose(judge.log_whole(np.zeros((3, 784)), np.zeros((3, 29))), np.log(0.8))


def test_the_tuning_benchmarks_read_kept_scores_as_read_does(tmp_path):
    # benchmarks.tune_counter and bench_touching read from kept scores; they rebuilt a
    # lattice without the line's ink, and the sequence reader, which reads it, crashed
    from benchmarks.tune_counter import count, load, read_scored, save, score

    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_number

    model = for_inference(resolve_model(None))
    scored = {"zeros": score([(two_zeros(), "00")], model)}
    save(tmp_path / "kept.npz", scored)
    kept = load(tmp_path / "kept.npz")
    count(scored)  # the pair reader's view, as bench_touching adds it
    count(kept)
    assert kept["zeros"][0].small.shape == scored["zeros"][0].small.shape
    read = read_number(two_zeros(), model).text
    assert read_scored(kept["zeros"][0]) == read_scored(scored["zeros"][0]) == read


def test_several_is_the_pair_readers_probability_of_two_digits_or_more():
    from digitnet.read import counter

    log_count = np.log(np.array([[0.1, 0.6, 0.2, 0.1], [0.0 + 1e-9, 0.1, 0.5, 0.4 - 1e-9]]))
    assert np.allclose(counter.several(log_count), [0.3, 0.9])
    assert np.isclose(counter.several(log_count[0]), 0.3)  # one piece's


def test_fit_pairs_crowds_touching_pairs_when_asked():
    """``fit_pairs --crowd``: pairs slid over each other by up to half a digit's width are
    further over each other, over the same digits, than those slid by a quarter; without it, the generator
    is not drawn from, so the pieces of earlier runs are composed again."""
    from types import SimpleNamespace

    from benchmarks.fit_pairs import compose, whole_pairs

    rows = drawn_rows()
    digits = SimpleNamespace(x=rows[[0, 2] * 20], y=np.array([0, 7] * 20))

    def overlap(crowd):
        """The mean share of the narrower digit's columns its neighbour's ink also covers."""
        rng = np.random.default_rng(5)
        shares = []
        for i in range(40):
            layers = compose(2 * i, rng, digits, crowd=crowd)[1]  # a pair: each digit's ink
            (a0, a1), (b0, b1) = ((c[0], c[-1]) for c in
                                  (np.flatnonzero(np.asarray(layer).max(axis=0)) for layer in layers))
            shares.append(max(0, a1 - b0) / min(a1 - a0, b1 - b0))
        return np.mean(shares)

    assert overlap(1.0) > overlap(0.0) + 0.05
    a, b = (whole_pairs(6, np.random.default_rng(3), digits, **extra)[0] for extra in ({}, {"crowd": 0.0}))
    np.testing.assert_array_equal(a, b)
    crowded = whole_pairs(6, np.random.default_rng(3), digits, crowd=1.0)[0]
    assert not np.array_equal(a, crowded)
