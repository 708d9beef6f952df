"""read.sequence: the line the sequence reader sees, its network's shapes, the chains it
chooses from and how it chooses."""

import numpy as np
import pytest

from digitnet.read import sequence
from digitnet.read.segment import LINE_HEIGHT


def one_hot(digit):
    p = np.full(10, 0.001)
    p[digit] = 1 - 0.009
    return p


def test_the_line_is_halved_to_the_readers_height_with_blank_margins():
    small = np.zeros((LINE_HEIGHT, 100), np.float32)
    small[:, 40:60] = 1.0
    x = sequence.line(small)
    assert x.shape == (sequence.HEIGHT, 50 + 2 * sequence.MARGIN)
    assert x.min() == 0 and x.max() == 1
    assert not x[:, :sequence.MARGIN + 20].any() and x[:, sequence.MARGIN + 20:sequence.MARGIN + 30].all()


def test_the_reader_scores_every_fourth_column_of_lines_of_any_width():
    net = sequence.sequence_reader(np.random.default_rng(0), (4, 4, 4), 8)
    for width in (sequence.STRIDE, 40, 100):
        x = np.random.default_rng(1).random((2, 1, sequence.HEIGHT, width), np.float32)
        scores = sequence.column_scores_batch(net, x)
        assert scores.shape == (2, width // sequence.STRIDE, sequence.BLANK + 1)


def test_readers_saved_as_an_ensemble_are_read_together(tmp_path):
    """A sequence.npz holding several readers (joined by join_sequence) reads a line by
    the weighted mean of their columns' ln P, normalised again; one reader reads as it is."""
    from benchmarks.join_sequence import main as join

    from digitnet.io import load_model, save_model
    from digitnet.nn.functional import log_softmax

    a, b = (sequence.sequence_reader(np.random.default_rng(s), (4, 4, 4), 8) for s in (0, 1))
    for name, net in (("a", a), ("b", b)):
        save_model(tmp_path / f"{name}.npz", net, {"training": {"seed": 0}, "outputs": "logits"}, half=True)
    a, b = (load_model(tmp_path / f"{name}.npz") for name in "ab")  # as saved: half precision
    assert join([str(tmp_path / "both.npz"), f"{tmp_path / 'a.npz'}*3", str(tmp_path / "b.npz")]) == 0
    save_model(tmp_path / "one.npz", a)
    x = np.random.default_rng(2).random((1, 1, sequence.HEIGHT, 40), np.float32)
    both = sequence.column_scores_batch(sequence.readers(load_model(tmp_path / "both.npz")), x)
    za, zb = (log_softmax(sequence.column_scores_batch(m, x)) for m in (a, b))
    np.testing.assert_allclose(both, log_softmax(0.75 * za + 0.25 * zb), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.exp(both).sum(axis=-1), 1, atol=1e-9)  # ln P already
    assert not np.allclose(za, zb, atol=1e-3)  # two different readers
    assert not np.allclose(both, log_softmax(za + zb), atol=1e-3)  # the weights count
    one = sequence.column_scores_batch(sequence.readers(load_model(tmp_path / "one.npz")), x)
    np.testing.assert_allclose(log_softmax(one), za, rtol=1e-4, atol=1e-5)


def test_join_sequence_refuses_what_it_cannot_join(tmp_path, capsys):
    from benchmarks.join_sequence import main as join

    from digitnet.io import save_model
    from digitnet.nn.ensemble import Ensemble

    a = sequence.sequence_reader(np.random.default_rng(0), (4, 4, 4), 8)
    save_model(tmp_path / "a.npz", a, {"training": {"seed": 0}})
    save_model(tmp_path / "both.npz", Ensemble([a, a]), {"training": [{}, {}]})
    for bad in ("a.npz*0", "a.npz*x", "a.npz*-1"):
        with pytest.raises(SystemExit) as exit:
            join([str(tmp_path / "out.npz"), str(tmp_path / bad)])
        assert exit.value.code == 2 and "positive number" in capsys.readouterr().err
    for bad in ("missing.npz", "both.npz"):
        assert join([str(tmp_path / "out.npz"), str(tmp_path / bad)]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "out.npz").exists()


def test_join_sequence_takes_joined_readers_apart_again(tmp_path, capsys):
    """``--apart``: each reader of a joined file written alone, as trained (its own run in
    its metadata), so that joining them again reads a line as the file did."""
    from benchmarks.join_sequence import main as join

    from digitnet.io import load_model, read_config, save_model

    for seed in (0, 1):
        net = sequence.sequence_reader(np.random.default_rng(seed), (4, 4, 4), 8)
        save_model(tmp_path / f"{seed}.npz", net, {"training": {"seed": seed}, "outputs": "logits",
                                                   "preprocessing": "a line"}, half=True)
    assert join([str(tmp_path / "both.npz"), f"{tmp_path / '0.npz'}*2", str(tmp_path / "1.npz")]) == 0
    assert join([str(tmp_path / "parts"), "--apart", str(tmp_path / "both.npz")]) == 0
    assert "reader2.npz: weight 1" in capsys.readouterr().out
    assert read_config(tmp_path / "parts" / "reader2.npz")["training"] == {"seed": 1}
    assert join([str(tmp_path / "again.npz"), f"{tmp_path / 'parts' / 'reader1.npz'}*2",
                 str(tmp_path / "parts" / "reader2.npz")]) == 0
    x = np.random.default_rng(2).random((1, 1, sequence.HEIGHT, 40), np.float32)
    before, after = (sequence.column_scores_batch(sequence.readers(load_model(tmp_path / name)), x)
                     for name in ("both.npz", "again.npz"))
    np.testing.assert_array_equal(before, after)
    assert join([str(tmp_path / "out"), "--apart", str(tmp_path / "0.npz")]) == 2  # one reader
    assert "not several" in capsys.readouterr().err
    # metadata that does not match its readers (a run or a weight missing) is refused, not cut short
    from digitnet.nn.ensemble import Ensemble

    two = load_model(tmp_path / "both.npz").members
    save_model(tmp_path / "odd.npz", Ensemble(two), {"training": [{"seed": 0}], "weights": [2, 1],
                                                     "outputs": "logits", "preprocessing": "a line"})
    assert join([str(tmp_path / "odd"), "--apart", str(tmp_path / "odd.npz")]) == 2
    assert "2 readers, but 1 training runs" in capsys.readouterr().err
    assert not (tmp_path / "odd").exists()
    with pytest.raises(SystemExit):
        join([str(tmp_path / "out"), "--apart", str(tmp_path / "both.npz"), str(tmp_path / "0.npz")])


@pytest.mark.parametrize("weights", [[1], [1, 0], "heavy", [1, None]])
def test_a_readers_file_with_bad_weights_is_a_model_file_error(tmp_path, weights):
    from digitnet.errors import ModelFileError
    from digitnet.io import load_model, save_model
    from digitnet.nn.ensemble import Ensemble

    a = sequence.sequence_reader(np.random.default_rng(0), (4, 4, 4), 8)
    save_model(tmp_path / "both.npz", Ensemble([a, a]), {"weights": weights})
    with pytest.raises(ModelFileError, match="weights"):
        sequence.readers(load_model(tmp_path / "both.npz"))


@pytest.mark.parametrize("weights", [[1], [1, 0], [1, -1], [1, float("nan")]])
def test_readers_read_together_need_one_positive_weight_each(weights):
    a = sequence.sequence_reader(np.random.default_rng(0), (4, 4, 4), 8)
    with pytest.raises(ValueError, match="one positive weight"):
        sequence.Averaged([a, a], weights)


def lattice_reading():
    """Three nodes: one piece read 7 (0 -> 2), or a 1 (0 -> 1) and a 7 (1 -> 2), scoring
    1.5 less; the 7's runner-up is a 1 with 0.1."""
    seven = np.full(10, 0.1 / 9)
    seven[7], seven[1] = 0.8, 0.1 + 0.1 / 9
    read = {(0, 2): (5.0, [(7, seven)]), (0, 1): (2.0, [(1, one_hot(1))]), (1, 2): (1.5, [(7, seven)])}
    return read


def test_candidates_are_the_best_chain_of_each_length_and_runner_ups():
    options = sequence.candidates(3, lattice_reading(), margin=4.0, runner_up=0.05)
    texts = {sequence.text(o.digits): o for o in options}
    assert set(texts) == {"7", "1", "17", "11"}
    assert texts["7"].score == 5.0 and texts["7"].behind == 0.0
    assert texts["17"].score == 3.5 and texts["17"].behind == 1.5
    assert np.isclose(texts["1"].score, 5.0 + np.log(0.1 + 0.1 / 9) - np.log(0.8))
    assert [k for k, _, _ in texts["17"].digits] == [(0, 1), (1, 2)]
    assert {sequence.text(o.digits) for o in sequence.candidates(3, lattice_reading(), 1.0, 0.5)} == {"7"}


class Reader:
    """A stand-in for the network: column scores that say ``text`` plainly."""

    def __init__(self, text):
        self.text = text

    def predict_proba(self, x, batch_size=None):
        steps = x.shape[-1] // sequence.STRIDE
        path = [sequence.BLANK] * steps
        for i, c in enumerate(self.text):
            path[1 + 2 * i] = int(c)
        return (np.eye(sequence.BLANK + 1)[path] * 8).astype(np.float32)


@pytest.mark.parametrize("says, weight, expected", [("17", 1.0, "17"), ("7", 1.0, "7"), ("11", 0.0, "7")])
def test_rescoring_chooses_the_chain_the_reader_finds_likely(monkeypatch, says, weight, expected):
    from types import SimpleNamespace

    monkeypatch.setattr(sequence, "_MODEL", [Reader(says)])
    lat = SimpleNamespace(n_nodes=3, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32))
    digits, keys, lead = sequence.rescored(lat, lattice_reading(), [(0, 2)], weight)
    assert sequence.text(digits) == expected
    assert keys == ([(0, 1), (1, 2)] if expected == "17" else [(0, 2)])
    if weight:  # chosen by the reader: its string is the one it finds likeliest
        assert lead > 0


class Counted(Reader):
    """A Reader that counts how often it is asked."""

    calls = 0

    def predict_proba(self, x, batch_size=None):
        self.calls += 1
        return super().predict_proba(x, batch_size)


@pytest.mark.parametrize("first_says, asked", [("7", False), ("17", True)])
def test_several_readers_are_a_cascade_when_the_lattice_offers_one_chain(monkeypatch, first_says, asked):
    """Where the lattice offers one candidate and the first reader reads it, the others
    are not run (nothing to choose); where that reader reads something else, they are."""
    from types import SimpleNamespace

    from digitnet.read.evidence import LIMIT

    first, other = Counted(first_says), Counted("17")
    monkeypatch.setattr(sequence, "_MODEL", [sequence.Averaged([first, other])])
    lat = SimpleNamespace(n_nodes=2, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32))
    digits, keys, lead = sequence.rescored(lat, {(0, 1): (5.0, [(7, one_hot(7))])}, [(0, 1)])
    assert first.calls == 1 and other.calls == int(asked)
    if not asked:
        assert sequence.text(digits) == "7" and keys == [(0, 1)] and lead == LIMIT


def test_several_readers_are_all_asked_when_the_lattice_offers_several_chains(monkeypatch):
    from types import SimpleNamespace

    first, other = Counted("7"), Counted("7")
    monkeypatch.setattr(sequence, "_MODEL", [sequence.Averaged([first, other])])
    lat = SimpleNamespace(n_nodes=3, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32))
    digits, _, _ = sequence.rescored(lat, lattice_reading(), [(0, 2)])
    assert sequence.text(digits) == "7" and first.calls == 1 and other.calls == 1


def test_without_a_sequence_reader_the_lattices_best_chain_is_read(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(sequence, "_MODEL", [None])
    lat = SimpleNamespace(n_nodes=3, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32))
    digits, keys, lead = sequence.rescored(lat, lattice_reading(), [(0, 2)])
    assert sequence.text(digits) == "7" and keys == [(0, 2)] and lead is None


def test_the_aligned_chain_reads_the_target_with_each_pieces_own_probabilities():
    read = lattice_reading()
    one = sequence.aligned(3, read, "17")
    assert one.keys == [(0, 1), (1, 2)] and sequence.text(one.digits) == "17" and one.score == 3.5
    # the single piece read as a 1: its 7's score traded for its 1's
    ones = sequence.aligned(3, read, "1")
    assert ones.keys == [(0, 2)] and np.isclose(ones.score, 5.0 + np.log(0.1 + 0.1 / 9) - np.log(0.8))
    assert sequence.aligned(3, read, "123") is None  # no chain of three pieces
    assert sequence.aligned(3, read, "17", margin=1.0) is None  # its chain scores 1.5 below the best


@pytest.mark.parametrize("text, strokes", [
    ("710", [("line", [(40, 50), (110, 50), (70, 160)]), ("line", [(180, 40), (180, 160)]),
             ("ellipse", [(250, 40), (330, 160)])]),
    ("00", [("ellipse", [(40, 40), (120, 160)]), ("ellipse", [(112, 40), (192, 160)])]),
    # a 1 touching the bar of a 7: no straight cut parts them
    ("17", [("line", [(60, 40), (50, 160)]), ("line", [(70, 50), (140, 50), (100, 160)])]),
])
def test_the_shipped_reader_reads_drawn_numbers_alone(text, strokes):
    from digitnet.read import lattice
    from test_read import handwritten

    assert sequence.sequence_model() is not None
    assert sequence.greedy(sequence.column_scores(lattice(handwritten(strokes)).small)) == text


@pytest.mark.slow
def test_fit_sequence_trains_a_reader_that_fits_read(tmp_path):
    """The sequence reader `read` ships is made by this command (here on 40 numbers,
    smaller), written after each epoch, and reads lines as ``read`` gives them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from digitnet.io import load_model, read_config

    if not os.environ.get("DIGITNET_DATA"):
        pytest.skip("set DIGITNET_DATA to the folder holding the MNIST IDX files")
    out, lines = tmp_path / "sequence.npz", tmp_path / "lines.npz"
    command = [sys.executable, "-m", "benchmarks.fit_sequence", "--numbers", "40", "--epochs", "2",
               "--channels", "4,4,4", "--hidden", "8", "--out", str(out), "--lines", str(lines)]
    root = Path(__file__).resolve().parents[1]
    for _ in range(2):  # composed, then read back from --lines
        done = subprocess.run(command, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "epoch 2: held-out" in done.stdout and lines.is_file()
    assert read_config(out)["training"]["epochs"] == 2
    scores = sequence.column_scores(np.ones((LINE_HEIGHT, 90), np.float32), load_model(out))
    assert scores.shape == ((45 + 2 * sequence.MARGIN) // sequence.STRIDE, sequence.BLANK + 1)


def test_fit_sequence_draws_lines_as_a_pen_and_puts_ones_in_touching_numbers():
    """The training lines' two shares that aim at real writing: crisp strokes (``--pens``)
    and a 1 among the digits of a touching number (``--ones``)."""
    from types import SimpleNamespace

    from benchmarks.fit_sequence import compose, pen

    from test_touching import drawn_rows

    columns = np.arange(120, dtype=np.float32)
    blurred = np.tile(np.exp(-((columns % 30 - 15) / 4) ** 2), (LINE_HEIGHT, 1))
    crisp = pen(blurred, np.random.default_rng(0))
    grey = lambda ink: ((ink > 0.05) & (ink < 0.95)).mean()  # noqa: E731
    assert crisp.shape == blurred.shape and crisp.max() == 1.0
    assert grey(crisp) < grey(blurred) / 2  # a soft edge of about a pixel, no more

    rows = drawn_rows()  # a 0, a 1 and a 7
    digits = SimpleNamespace(x=rows[[0, 2] * 20], y=np.array([0, 7] * 20))
    digits.x[-1], digits.y[-1] = rows[1], 1
    rng = np.random.default_rng(1)
    touching = [compose(3 * i, rng, digits, ones=1.0)[1] for i in range(20)]
    assert all("1" in text for text in touching if len(text) > 1)
    assert sum("1" in compose(3 * i, rng, digits)[1] for i in range(20)) < 10  # 1 in 40 a 1


def test_fit_sequence_crowds_touching_numbers_when_asked():
    """``--crowd``: touching numbers slid over each other by up to half a digit's width
    are narrower, over the same digits, than those slid by a quarter."""
    from types import SimpleNamespace

    from benchmarks.fit_sequence import compose

    from test_touching import drawn_rows

    rows = drawn_rows()
    digits = SimpleNamespace(x=rows[[0, 2] * 20], y=np.array([0, 7] * 20))

    def width(crowd):
        rng = np.random.default_rng(5)
        return sum(compose(3 * i, rng, digits, crowd=crowd)[0].width for i in range(30))

    assert width(1.0) < 0.97 * width(0.0)


def test_fit_sequence_without_the_new_shares_composes_the_lines_it_always_did():
    """The shares draw from the generator only when asked for: the commands that made the
    earlier readers (BENCHMARKS.md) still compose the same lines. Labels and widths as
    fit_sequence before ``--ones``, ``--pens`` and ``--ligatures`` gave them."""
    from types import SimpleNamespace

    from benchmarks.fit_sequence import lines

    from test_touching import drawn_rows

    rows = drawn_rows()
    digits = SimpleNamespace(x=rows[[0, 1, 2] * 4], y=np.array([0, 1, 7] * 4))
    images, labels = lines(9, np.random.default_rng(3), digits)
    assert labels == ["1777010", "717", "111", "17", "171001", "770", "0171", "77107", "710"]
    assert [im.shape[1] for im in images] == [154, 84, 46, 54, 124, 92, 82, 95, 74]


def test_the_sheet_of_training_lines_shows_twelve_lines(tmp_path):
    from types import SimpleNamespace

    from benchmarks.touching_sheet import lines_sheet
    from PIL import Image

    from test_touching import drawn_rows

    rows = drawn_rows()
    lines_sheet(SimpleNamespace(x=rows, y=np.array([0, 1, 7])), np.random.default_rng(0),
                tmp_path / "lines.png")
    sheet = np.asarray(Image.open(tmp_path / "lines.png"))
    assert sheet.shape == (6 * 52, 2 * 330)
    inked = [(sheet[r * 52:(r + 1) * 52, c * 330:(c + 1) * 330] < 128).any()
             for r in range(6) for c in range(2)]
    assert all(inked)


def test_a_models_command_names_files_not_the_folders_they_were_in():
    from benchmarks import recorded_command

    command = recorded_command("fit_sequence", ["--start", "/tmp/runs/B.npz", "--lr", "0.5",
                                                "--out", "out/D.npz", "--seed", "4"])
    assert command == ("python -m benchmarks.fit_sequence --start B.npz --lr 0.5 --out D.npz "
                       "--seed 4")


def test_a_piece_read_the_other_way_joins_the_candidates():
    seven = lattice_reading()[(0, 2)][1][0][1]
    others = {(0, 2): (4.0, [(1, one_hot(1)), (7, seven)])}  # the wide piece read as two digits
    texts = {sequence.text(o.digits): o for o in sequence.candidates(3, lattice_reading(), 4.0, 1.1, others)}
    assert texts["17"].keys == [(0, 2)] and texts["17"].score == 4.0  # better than its two pieces
    assert texts["7"].score == 5.0 and texts["7"].behind == 0.0  # the best chain is unchanged
    alone = {sequence.text(o.digits): o for o in sequence.candidates(3, lattice_reading(), 4.0, 1.1)}
    assert alone["17"].keys == [(0, 1), (1, 2)] and alone["17"].score == 3.5
    assert sequence.aligned(3, lattice_reading(), "17", others=others).keys == [(0, 2)]


@pytest.mark.parametrize("cost, expected, keys", [(0.0, "1", [(0, 2)]), (1e9, "17", [(0, 1), (1, 2)])])
def test_the_aligned_chain_pays_its_cost(monkeypatch, cost, expected, keys):
    from types import SimpleNamespace

    # the reader says 1: no candidate reads it (the 7's runner-up is below RUNNER_UP), the
    # aligned chain does, reading the 7 as a 1; at a prohibitive cost, the candidate nearest
    monkeypatch.setattr(sequence, "_MODEL", [Reader("1")])
    monkeypatch.setattr(sequence, "ALIGN_COST", cost)
    lat = SimpleNamespace(n_nodes=3, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32))
    digits, chosen, _ = sequence.rescored(lat, lattice_reading(), [(0, 2)], 1.0)
    assert sequence.text(digits) == expected and chosen == keys


class SaysAt:
    """A stand-in reader that says each digit of ``text`` at its step of ``steps``."""

    def __init__(self, text, steps):
        self.text, self.steps = text, steps

    def predict_proba(self, x, batch_size=None):
        path = [sequence.BLANK] * (x.shape[-1] // sequence.STRIDE)
        for c, t in zip(self.text, self.steps):
            path[t] = int(c)
        return (np.eye(sequence.BLANK + 1)[path] * 8).astype(np.float32)


def test_a_sure_best_path_no_chain_reads_is_spelled_with_boxes_of_its_own(monkeypatch):
    from types import SimpleNamespace

    from digitnet.read.segment import Piece

    factor = sequence.HEIGHT / LINE_HEIGHT
    small = np.zeros((LINE_HEIGHT, 200), np.float32)
    for left in (20, 80, 140):  # three blocks of ink; the lattice has no chain of three pieces
        small[10:40, left:left + 40] = 1.0
    # the reader's peaks over each block's middle: step t covers the line's columns 4t..4t+3
    steps = [int(((left + 20) * factor + sequence.MARGIN) // sequence.STRIDE) for left in (20, 80, 140)]
    monkeypatch.setattr(sequence, "_MODEL", [SaysAt("140", steps)])
    blocks = [Piece(left, left + 40, small[:, left:left + 40] > 0) for left in (20, 80, 140)]
    lat = SimpleNamespace(n_nodes=3, groups=blocks, height=30, small=small)
    assert sequence.separate_pieces(lat) == 3
    digits, keys, lead = sequence.rescored(lat, lattice_reading(), [(0, 2)])
    assert sequence.text(digits) == "140" and keys == [(0, 2)] and lead >= sequence.SPELL_LEAD
    pieces = [piece for piece, _, _ in digits]
    assert all(isinstance(piece, Piece) and piece.mask[10:40].all() and not piece.mask[:10].any()
               for piece in pieces)
    assert [(piece.left, piece.right) for piece in pieces] == [(20, 60), (80, 120), (140, 180)]
    p = digits[0][2]
    assert p.shape == (10,) and p.argmax() == 1 and np.isclose(p.sum(), 1)
    monkeypatch.setattr(sequence, "SPELL_LEAD", np.inf)  # never spelled: a chain of the lattice
    monkeypatch.setattr(sequence, "SPELL_MORE", np.inf)  # (nor as a path of more digits)
    digits, keys, _ = sequence.rescored(lat, lattice_reading(), [(0, 2)])
    assert all(not isinstance(k, Piece) for k, _, _ in digits)


def test_a_path_of_fewer_digits_than_pieces_standing_apart_is_not_spelled(monkeypatch):
    # "439" written apart was read "39": the reader, sure of its path (a lead of 6.1), did
    # not see the 4, and its path was spelled over three pieces the lattice read
    from types import SimpleNamespace

    from digitnet.read.segment import Piece

    factor = sequence.HEIGHT / LINE_HEIGHT
    small = np.zeros((LINE_HEIGHT, 200), np.float32)
    for left in (20, 80, 140):
        small[10:40, left:left + 40] = 1.0
    steps = [int(((left + 20) * factor + sequence.MARGIN) // sequence.STRIDE) for left in (80, 140)]
    monkeypatch.setattr(sequence, "_MODEL", [SaysAt("39", steps)])
    monkeypatch.setattr(sequence, "SPELL_LEAD", 5.0)  # (this stand-in leads "439" by 5.4)
    # the lattice: three pieces, one chain of three digits, none of two
    read = {(0, 1): (2.0, [(4, one_hot(4))]), (1, 2): (2.0, [(3, one_hot(3))]),
            (2, 3): (2.0, [(9, one_hot(9))])}
    keys = [(0, 1), (1, 2), (2, 3)]
    blocks = [Piece(left, left + 40, small[:, left:left + 40] > 0) for left in (20, 80, 140)]
    lat = SimpleNamespace(n_nodes=4, groups=blocks, height=30, small=small)
    digits, _, _ = sequence.rescored(lat, read, keys)
    assert sequence.text(digits) == "439" and all(not isinstance(k, Piece) for k, _, _ in digits)
    # close together (gaps under SEPARATE_GAP of the height): one piece, and spelled
    close = [Piece(left, left + 40, small[:, left:left + 40] > 0) for left in (20, 64, 108)]
    assert sequence.separate_pieces(SimpleNamespace(groups=close, height=30)) == 1
    lat = SimpleNamespace(n_nodes=4, groups=close, height=30, small=small)
    digits, _, _ = sequence.rescored(lat, read, keys)
    assert sequence.text(digits) == "39" and all(isinstance(k, Piece) for k, _, _ in digits)
    # a dash standing apart is no digit
    dash = Piece(190, 198, np.zeros((LINE_HEIGHT, 8), bool))
    dash.mask[24:27] = True
    assert sequence.separate_pieces(SimpleNamespace(groups=[*blocks, dash], height=30)) == 3


class OneThenFour:
    """A stand-in reader: a 1 (or ``digit``) at one step with probability ``p`` (else the
    blank), then a plain 4."""

    def __init__(self, p, digit=1):
        self.p, self.digit = p, digit

    def predict_proba(self, x, batch_size=None):
        steps = x.shape[-1] // sequence.STRIDE
        scores = np.eye(sequence.BLANK + 1)[[sequence.BLANK] * steps] * 8
        scores[3] = -30.0
        scores[3, [self.digit, sequence.BLANK]] = np.log(self.p), np.log(1 - self.p)
        scores[6] = np.eye(sequence.BLANK + 1)[4] * 8
        return scores.astype(np.float32)


def one_piece_read_as_four(monkeypatch, reader, ink_right=60, several=None):
    """``rescored`` with ``reader`` as the sequence reader, on a line of one piece of ink
    (columns 10 to ``ink_right``) that the lattice reads as a 4: (digits, keys, lead)."""
    from types import SimpleNamespace

    monkeypatch.setattr(sequence, "_MODEL", [reader])
    small = np.zeros((LINE_HEIGHT, 80), np.float32)
    small[10:40, 10:ink_right] = 1.0
    lat = SimpleNamespace(n_nodes=2, groups=[], height=30, small=small)
    read = {(0, 1): (3.0, [(4, one_hot(4))])}
    return sequence.rescored(lat, read, [(0, 1)], several=several)


@pytest.mark.parametrize("p, expected", [(0.5, "4"), (0.7, "4"), (0.95, "14")])
def test_a_one_no_chain_reads_is_read_where_the_reader_is_surer_of_it(monkeypatch, p, expected):
    # one piece, read 4: no chain reads "14"; the reader's lead for it is ln(p / (1 - p)):
    # 0 and 0.85 (below ONE_LEAD and DROP_LEAD: the chain is read) and 2.9 (the reader's
    # path is read)
    digits, keys, lead = one_piece_read_as_four(monkeypatch, OneThenFour(p))
    assert sequence.text(digits) == expected and keys == [(0, 1)]
    assert sequence.ONE_LEAD < sequence.SPELL_LEAD  # the path is not read as a spelled one
    assert np.log(0.7 / 0.3) < min(sequence.ONE_LEAD, sequence.DROP_LEAD)
    # read or not, the lead is the reader's ln P of the string read less that of the other
    assert np.isclose(lead, np.log(p / (1 - p)) * (1 if expected == "14" else -1), atol=0.05)


@pytest.mark.parametrize("p, several, expected", [(0.7, None, "4"), (0.8, None, "74"), (0.9, None, "74"),
                                                   (0.9, 0.3, "4"), (0.9, 0.6, "74"), (0.97, 0.3, "74")])
def test_a_digit_the_chain_drops_is_read_where_the_reader_is_surer_of_it(monkeypatch, p, several, expected):
    """Two digits written over each other are one piece, read as one digit: the reader's
    path with one more digit of any kind is read where it leads by DROP_LEAD (ln(p / (1 -
    p)): 0.85 below it, 1.4 and 2.2 above), spelled where the pair reader sees two digits
    or more in a piece of the chain (P at least DROP_SEVERAL; without a pair reader, any)
    or where the reader leads by DROP_ALONE (3.5 at 0.97, whatever the pair reader says)."""
    digits, keys, lead = one_piece_read_as_four(monkeypatch, OneThenFour(p, digit=7),
                                                several=None if several is None else {(0, 1): several})
    assert sequence.text(digits) == expected
    assert sequence.ONE_LEAD <= sequence.SPELL_LEAD
    assert sequence.DROP_LEAD < sequence.DROP_ALONE < np.log(0.97 / 0.03) < sequence.SPELL_LEAD
    assert np.isclose(lead, np.log(p / (1 - p)) * (1 if expected == "74" else -1), atol=0.05)


def test_more_finds_a_string_with_digits_added_anywhere():
    assert sequence.more("1234", "24", 2) and sequence.more("1234", "12", 2)
    assert sequence.more("2244", "24", 2) and not sequence.more("1234", "42", 2)
    assert not sequence.more("1234", "124", 2) and sequence.more("1234", "124", 1)


class TwoThenFour(OneThenFour):
    """A reader sure, with probability p, of a 7 and a 2 before a plain 4."""

    def predict_proba(self, x, batch_size=None):
        scores = super().predict_proba(x, batch_size)
        scores[1] = -30.0
        scores[1, [2, sequence.BLANK]] = np.log(self.p), np.log(1 - self.p)
        return scores


@pytest.mark.parametrize("p, expected", [(0.7, "4"), (0.8, "274"), (0.95, "274")])
def test_two_digits_the_chain_drops_are_read_where_the_reader_is_surer_of_them(monkeypatch, p, expected):
    """Writing crowded over itself: one piece, read as one digit, where the reader sees
    three. Its path with two more digits is read where it leads by DROP_TWO: 2 ln(p / (1 -
    p)) here, 1.7 below it, 2.8 and 5.9 above (below SPELL_LEAD: only this rule reads it)."""
    digits, keys, lead = one_piece_read_as_four(monkeypatch, TwoThenFour(p, digit=7), several={(0, 1): 0.0})
    assert sequence.text(digits) == expected
    assert sequence.DROP_TWO < 2 * np.log(0.8 / 0.2) < sequence.SPELL_LEAD
    assert np.isclose(lead, 2 * np.log(p / (1 - p)) * (1 if expected == "274" else -1), atol=0.05)


class ThreeThenFour(TwoThenFour):
    """A reader sure, with probability p, of a 2 and a 7 before a plain 4 and a 5 after it."""

    def predict_proba(self, x, batch_size=None):
        scores = super().predict_proba(x, batch_size)
        scores[9] = -30.0
        scores[9, [5, sequence.BLANK]] = np.log(self.p), np.log(1 - self.p)
        return scores


@pytest.mark.parametrize("p, expected", [(0.65, "4"), (0.8, "2745")])
def test_more_digits_no_chain_reads_are_spelled_where_the_reader_is_sure_of_them(monkeypatch, p, expected):
    """Three digits more than the chain chosen, which no rule for one or two dropped digits
    reads: the path is spelled where the reader leads by SPELL_MORE (3 ln(p / (1 - p)): 1.9
    below it, 4.2 above, below SPELL_LEAD)."""
    digits, keys, lead = one_piece_read_as_four(monkeypatch, ThreeThenFour(p, digit=7), ink_right=70,
                                                several={(0, 1): 0.0})
    assert sequence.text(digits) == expected
    assert sequence.SPELL_MORE < 3 * np.log(0.8 / 0.2) < sequence.SPELL_LEAD
    assert np.isclose(lead, 3 * np.log(p / (1 - p)) * (1 if expected == "2745" else -1), atol=0.05)


def test_a_dropped_digit_is_read_from_the_chain_aligned_to_the_reader():
    """Where a chain of the lattice reads the reader's string, that chain is read, with its
    own pieces, when it leads the chain chosen by DROP_LEAD, even if the lattice scores it
    lower."""
    from types import SimpleNamespace

    monkeypatch = pytest.MonkeyPatch()
    try:
        monkeypatch.setattr(sequence, "_MODEL", [Reader("17")])
        lat = SimpleNamespace(n_nodes=3, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32))
        digits, keys, lead = sequence.rescored(lat, lattice_reading(), [(0, 2)], weight=0.0)
    finally:
        monkeypatch.undo()
    assert sequence.text(digits) == "17" and keys == [(0, 1), (1, 2)] and lead > sequence.DROP_LEAD


def test_one_more_is_a_single_one_added_anywhere():
    assert sequence.one_more("14", "4") and sequence.one_more("412", "42") and sequence.one_more("771", "77")
    assert not sequence.one_more("44", "4") and not sequence.one_more("114", "4")
    assert not sequence.one_more("4", "4") and not sequence.one_more("17", "4")
    # of any digit
    every = sequence.DIGITS
    assert sequence.one_more("44", "4", every) and sequence.one_more("72368", "7238", every)
    assert not sequence.one_more("72368", "7228", every) and not sequence.one_more("17", "4", "0123")


def test_a_deepened_reader_reads_as_before_and_its_new_layers_learn():
    """``fit_sequence --deepen``: convolutions added before the columns are the identity at
    first (the same scores to the bit), then train like the others."""
    from benchmarks.fit_sequence import deepen

    from digitnet.nn.conv import Columns, Conv2D

    reader = sequence.sequence_reader(np.random.default_rng(3), (4, 4, 6), 8)
    deeper = deepen(reader, 2)
    at = next(i for i, layer in enumerate(deeper.layers) if isinstance(layer, Columns))
    assert [type(layer).__name__ for layer in deeper.layers[at - 4:at]] == ["Conv2D", "ReLU"] * 2
    x = np.random.default_rng(4).random((2, 1, sequence.HEIGHT, 40)).astype(np.float32)
    assert np.array_equal(reader.train(False).predict_proba(x), deeper.train(False).predict_proba(x))
    new = deeper.layers[at - 2]
    assert isinstance(new, Conv2D) and new.params["weight"][0, 0, 1, 1] == 1
    deeper.train()
    deeper.loss_and_gradients(x, np.random.default_rng(5).random((20, sequence.BLANK + 1)).astype(np.float32))
    assert np.abs(new.grads["weight"]).sum() > 0


class TwoSteps:
    """A stand-in reader: a plain 4, then ``whole`` with probability ``p`` and ``part``
    with the rest."""

    def __init__(self, p, whole, part):
        self.p, self.whole, self.part = p, whole, part

    def predict_proba(self, x, batch_size=None):
        steps = x.shape[-1] // sequence.STRIDE
        scores = np.eye(sequence.BLANK + 1)[[sequence.BLANK] * steps] * 8
        scores[3] = np.eye(sequence.BLANK + 1)[4] * 8
        scores[6] = -30.0
        scores[6, [self.whole, self.part]] = np.log(self.p), np.log(1 - self.p)
        return scores.astype(np.float32)


@pytest.mark.parametrize("p, part, whole, kind, expected", [
    (0.9, 3, 8, "cut", "48"), (0.8, 3, 8, "cut", "43"), (0.9, 7, 9, "whole", "49"), (0.9, 1, 4, "cut", "44"),
    (0.9, 1, 4, "bridged", "41"), (0.9, 3, 8, "bridged", "43"), (0.9, 8, 3, "cut", "48")])
def test_a_digit_read_as_a_part_of_it_is_read_whole_where_the_reader_is_surer(
        monkeypatch, p, part, whole, kind, expected):
    """A digit written over its left neighbour loses its left side to the neighbour's
    piece: an 8 is read as a 3, a 4 as a 1. Where the reader reads the digit whole, a chain
    reads that, and the reader leads by PART_LEAD (ln(p / (1 - p)): 2.2 at 0.9, 1.4 at
    0.8), the chain reading it whole is read; but not where the piece was freed of a pen's
    joining stroke (a 1 met by a stroke is a 4 to the reader), and only parts (``PARTS``):
    an 8 stays an 8 where the reader sees a 3."""
    from types import SimpleNamespace

    from digitnet.read.segment import BRIDGED, CUT, WHOLE

    monkeypatch.setattr(sequence, "_MODEL", [TwoSteps(p, whole, part)])
    read_as = np.full(10, 0.01 / 8)
    read_as[part], read_as[whole] = 0.9, 0.09
    made = {"cut": CUT, "whole": WHOLE, "bridged": BRIDGED}[kind]
    lat = SimpleNamespace(n_nodes=3, groups=[], height=30, small=np.zeros((LINE_HEIGHT, 80), np.float32),
                          kind={(0, 1): WHOLE, (1, 2): made})
    read = {(0, 1): (3.0, [(4, one_hot(4))]), (1, 2): (3.0, [(part, read_as)])}
    digits, keys, lead = sequence.rescored(lat, read, [(0, 1), (1, 2)])
    assert sequence.text(digits) == expected and keys == [(0, 1), (1, 2)]
    is_part = (str(part), str(whole)) in sequence.PARTS
    assert sequence.part_read(f"4{part}", f"4{whole}") == (1 if is_part else None)
    assert sequence.DROP_LEAD <= sequence.PART_LEAD < np.log(0.9 / 0.1)
