"""The cascade (read.cascade): fewer pieces scored, fewer networks a piece, the same
readings as every piece scored by every network."""

import numpy as np
import pytest

from digitnet.read import cascade, decode, lattice, read_number
from digitnet.read.segment import CUT, JOINED, WHOLE
from test_read import SEVEN_ONE_ZERO, handwritten


@pytest.fixture(scope="module")
def model():
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    return for_inference(resolve_model(None))


def drawn_numbers():
    """Numbers of drawn digits: apart, touching, a chain of touching zeros, and random
    strokes of a fixed seed (ovals, bars and slants, some overlapping)."""
    out = [handwritten(SEVEN_ONE_ZERO),
           handwritten([("line", [(40, 50), (110, 50), (70, 160)]), ("ellipse", [(100, 40), (180, 160)])]),
           handwritten([("ellipse", [(30 + 72 * i, 40), (110 + 72 * i, 160)]) for i in range(4)],
                       size=(450, 200))]
    rng = np.random.default_rng(3)
    for _ in range(5):
        strokes, x = [], 30
        for _ in range(int(rng.integers(2, 5))):
            kind = ["ellipse", "line", "slant"][int(rng.integers(0, 3))]
            if kind == "ellipse":
                strokes.append(("ellipse", [(x, 40), (x + int(rng.integers(50, 90)), 160)]))
            elif kind == "line":
                strokes.append(("line", [(x + 30, 40), (x + 30, 160)]))
            else:
                strokes.append(("line", [(x, 45), (x + 70, 45), (x + 25, 160)]))
            x += int(rng.integers(60, 110))
        out.append(handwritten(strokes, size=(x + 100, 200)))
    return out


def both(lat, model):
    """(decoded by every piece scored, by the cascade), and the cascade's scores."""
    s = decode.scores(lat, model)
    return decode.decode(lat, decode.full_scores(lat, model)), decode.decode(lat, s), s


def test_the_cascade_reads_as_every_piece_scored_by_every_network(model):
    fewer = cut = 0
    for image in drawn_numbers():
        lat = lattice(image)
        full, cheap, s = both(lat, model)
        assert [(k, d) for k, d, _ in full] == [(k, d) for k, d, _ in cheap]
        for (_, _, p), (_, _, q) in zip(full, cheap):  # the digits' confidences: the ensemble's
            np.testing.assert_allclose(p, q, atol=1e-5)
        fewer += len(s.keys) < len(lat.pieces)
        cut += any(lat.kind[k] == CUT for k in s.keys)
    assert fewer >= 6  # it saved work on most of them
    assert cut >= 2  # and the touching digits were cut apart by the whole ensemble


def test_read_number_reads_with_the_cascade(model, monkeypatch):
    calls = []
    monkeypatch.setattr(decode, "full_scores", lambda *a: calls.append(a))
    assert read_number(handwritten(SEVEN_ONE_ZERO), model).text == "710" and not calls


def test_a_component_surely_one_digit_is_not_cut(model, monkeypatch):
    lat = lattice(handwritten([("ellipse", [(40, 40), (140, 160)])]))  # a wide 0: cut pieces
    assert any(kind == CUT for kind in lat.kind.values())
    screen = model.members[cascade.cheapest(model.members)]
    found = cascade._Pieces(lat)
    found.add([k for k in lat.pieces if lat.kind[k] == WHOLE], screen)
    assert cascade._unsure_parts(lat, found) == []
    monkeypatch.setattr(cascade, "SURE_FEWER", 1.01)  # nothing is ever sure: every cut is scored
    assert cascade._unsure_parts(lat, found) == [k for k in lat.pieces if lat.kind[k] == CUT]


def test_joins_are_scored_unless_both_components_are_surely_digits(model, monkeypatch):
    # two strokes close together: one digit written in two strokes, or two 1s
    lat = lattice(handwritten([("line", [(40, 40), (40, 160)]), ("line", [(62, 40), (62, 160)])]))
    joins = [k for k in lat.pieces if lat.kind[k] == JOINED]
    assert joins
    found = cascade._Pieces(lat)
    found.add([k for k in lat.pieces if lat.kind[k] == WHOLE], model.members[cascade.cheapest(model.members)])
    monkeypatch.setattr(cascade, "SURE_FEWER", 1.01)  # neither is surely a digit
    assert set(joins) <= set(cascade._unsure_parts(lat, found))
    for name in ("SURE_FEWER", "SURE_WHOLE", "SURE_DIGIT"):
        monkeypatch.setattr(cascade, name, 0.0)  # both are: nothing more is scored
    assert cascade._unsure_parts(lat, found) == []


def test_with_nothing_sure_and_no_margin_every_piece_is_scored_as_before(model, monkeypatch):
    monkeypatch.setattr(cascade, "SURE_DIGIT", 1.01)
    monkeypatch.setattr(cascade, "MARGIN", np.inf)
    seven_zero = [("line", [(40, 50), (110, 50), (70, 160)]), ("ellipse", [(100, 40), (180, 160)])]
    lat = lattice(handwritten(seven_zero))
    s, full = decode.scores(lat, model), decode.full_scores(lat, model)
    order = [s.keys.index(k) for k in full.keys]
    assert sorted(s.keys) == sorted(full.keys)
    np.testing.assert_allclose(s.probabilities[order], full.probabilities, atol=1e-5)
    np.testing.assert_allclose(s.log_whole[order], full.log_whole, atol=1e-4)
    np.testing.assert_allclose(s.log_count[order], full.log_count, atol=1e-4)


def test_the_contenders_are_the_pieces_of_chains_near_the_best(monkeypatch):
    monkeypatch.setattr(cascade, "MARGIN", 2.0)
    # nodes 0..3: the best chain 0-1-2-3 scores 9; 0-2 then 2-3 scores 8; 1-3 after 0-1 scores 4
    gain = {(0, 1): 3.0, (1, 2): 3.0, (2, 3): 3.0, (0, 2): 5.0, (1, 3): 1.0}
    assert cascade.contenders(4, gain) == [(0, 1), (0, 2), (1, 2), (2, 3)]
    monkeypatch.setattr(cascade, "MARGIN", 0.0)
    assert cascade.contenders(4, gain) == [(0, 1), (1, 2), (2, 3)]
    monkeypatch.setattr(cascade, "MARGIN", 5.0)
    assert cascade.contenders(4, gain) == sorted(gain)


def test_the_screen_is_the_network_of_fewest_multiply_adds():
    from digitnet.nn import layers as L
    from digitnet.nn import losses
    from digitnet.nn.conv import Conv2D, Flatten, Reshape
    from digitnet.nn.network import Network

    rng = np.random.default_rng(0)
    def net(channels):
        layers = [Reshape((1, 28, 28)), Conv2D(1, channels, 3, 1, 1, "he", rng), Flatten(),
                  L.Linear(channels * 784, 10, "he", rng)]
        return Network(layers, losses.SoftmaxCrossEntropy(), (784,))

    assert cascade.cheapest([net(8), net(2), net(4)]) == 1
    assert cascade.cheapest([net(2), net(8)]) == 0


def test_a_single_network_reads_as_before(model):
    network = model.members[0]
    for image in drawn_numbers()[:4]:
        lat = lattice(image)
        full, cheap, _ = both(lat, network)
        assert [(k, d) for k, d, _ in full] == [(k, d) for k, d, _ in cheap]
