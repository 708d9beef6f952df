"""The segmentation's evidence a reading carries for calibration (read.evidence)."""

import numpy as np
import pytest

from digitnet.read import evidence as ev
from digitnet.read.decode import Scores


def one(gain):
    return (gain, [(1, None)])


def two(gain):
    return (gain, [(1, None), (2, None)])


def test_margin_is_the_lead_over_the_best_chain_of_another_length():
    # nodes 0-1-2: two pieces read as one digit each (2 + 2), or the whole as one (3)
    read = {(0, 1): one(2.0), (1, 2): one(2.0), (0, 2): one(3.0)}
    assert ev.margin(3, read, [(0, 1), (1, 2)]) == pytest.approx(1.0)
    # the same lattice, the whole read as two digits (a pair): no rival of another length
    read[(0, 2)] = two(3.0)
    assert ev.margin(3, read, [(0, 1), (1, 2)]) == ev.LIMIT
    # a rival of another length that scores better than the chosen chain: a negative margin
    read[(0, 2)] = one(5.0)
    assert ev.margin(3, read, [(0, 1), (1, 2)]) == pytest.approx(-1.0)


def test_margin_counts_a_pair_as_two_digits():
    read = {(0, 1): one(1.0), (1, 2): one(1.0), (0, 2): two(1.5), (2, 3): one(0.5), (1, 3): one(0.8)}
    # chosen 0-1-2-3: 3 digits, 2.5; rivals: 0-2-3 also 3 digits (2.0), 0-1-3 two digits (1.8)
    assert ev.margin(4, read, [(0, 1), (1, 2), (2, 3)]) == pytest.approx(0.7)


def test_evidence_takes_the_worst_piece_read_as_one():
    keys = [(0, 1), (1, 2), (0, 2)]
    log_count = np.log(np.array([[0.1, 0.8, 0.05, 0.05], [0.05, 0.55, 0.3, 0.1], [0.1, 0.1, 0.7, 0.1]]))
    s = Scores(keys, np.eye(10)[:3], np.log([0.9, 0.4, 0.2]), True, log_count)
    read = {(0, 1): one(2.0), (1, 2): one(2.0), (0, 2): one(3.0)}
    got = ev.evidence(3, read, [(0, 1), (1, 2)], s)
    assert got["least_whole"] == pytest.approx(np.log(0.4))
    assert got["most_several"] == pytest.approx(0.4)
    assert got["margin"] == pytest.approx(1.0)


def test_a_reading_carries_its_evidence():
    from digitnet.pretrained import resolve_model
    from digitnet.read import read_number
    from test_read import SEVEN_ONE_ZERO, handwritten

    reading = read_number(handwritten(SEVEN_ONE_ZERO), resolve_model(None))
    assert reading.text == "710"
    assert set(reading.evidence) == {"margin", "least_whole", "most_several", "sequence_lead", "spelled",
                                     "turned", "photo", "form"}
    # a level drawing on white: not turned, not a photo of paper, no form's print
    assert [reading.evidence[k] for k in ("turned", "photo", "form")] == [0.0, 0.0, 0.0]
    assert reading.evidence["margin"] > 0  # the chain read beats every rival of another length
    assert reading.evidence["sequence_lead"] > 0  # and the sequence reader finds it likeliest
    assert "evidence" not in reading.as_dict()  # not part of what users see


def test_the_margin_weighs_rivals_the_cascade_only_screened():
    from digitnet.pretrained import resolve_model
    from digitnet.read import decode, lattice, read_number
    from test_read import handwritten

    model = resolve_model(None)
    # a 7 touching a 0 (tests/test_read.py): its cuts are looked at
    image = handwritten([("line", [(40, 50), (110, 50), (70, 160)]), ("ellipse", [(100, 40), (180, 160)])])
    lat = lattice(image)
    s = decode.scores(lat, model)
    assert s.screened is not None and set(s.keys) < set(s.screened.keys)  # more looked at than classified
    rivals = decode.readings(lat, s.screened)
    read = decode.readings(lat, s)
    keys = decode.best_path(lat.n_nodes, {k: g for k, (g, _) in read.items()})
    assert all(rivals[k][0] == read[k][0] for k in keys)  # the chain read scores alike in both
    reading = read_number(image, model)
    assert reading.text == "70"
    assert reading.evidence["margin"] == pytest.approx(ev.margin(lat.n_nodes, rivals, keys))
    assert reading.evidence["margin"] < ev.margin(lat.n_nodes, read, keys)  # a rival only screened is nearer
