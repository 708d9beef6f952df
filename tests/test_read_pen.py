"""Numbers in a hand that is not MNIST's (``benchmarks/bench_pen.py``: digits drawn from a
pen's strokes): written apart they are read, and two digits written over each other are
not read as one where the sequence reader reads them both (``sequence.DROP_LEAD``)."""

import numpy as np
import pytest
from benchmarks import bench_pen

from digitnet.read import read_number, sequence


@pytest.fixture(scope="module")
def reader():
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    return for_inference(resolve_model(None))


def test_a_pen_writes_every_digit_in_every_shape_as_ink():
    rng = np.random.default_rng(0)
    for digit, shapes in bench_pen.GLYPHS.items():
        for _ in range(3 * len(shapes)):
            ink = bench_pen.written([digit], rng, [])
            assert ink.dtype == np.float32 and 0 < ink.max() <= 1 and ink.min() == 0
            assert ink.shape[0] > ink.shape[1] / 2  # one digit: about as high as wide, or higher
    apart = bench_pen.written([1, 2, 3], np.random.default_rng(1), [0.3, 0.3])
    over = bench_pen.written([1, 2, 3], np.random.default_rng(1), [-0.1, -0.1])
    assert over.shape[1] < apart.shape[1]  # (the same digits, overlapping: narrower)


@pytest.mark.parametrize("index", range(4))
def test_numbers_in_a_pen_hand_written_apart_are_read(reader, index):
    data, label = bench_pen.make("apart-number", "validation", index)
    assert read_number(data, reader).text == label


def test_two_digits_written_over_each_other_are_not_read_as_one(reader):
    # "243" scanned, its 4 written into the 3: the lattice's best chain read "23" (the 4
    # and the 3 one piece), the sequence reader reads "243" and leads by DROP_LEAD or more
    data, label = bench_pen.make("touching-number", "validation", 28)
    assert label == "243"
    reading = read_number(data, reader)
    assert reading.text == "243"
    assert reading.evidence["sequence_lead"] >= sequence.DROP_LEAD


@pytest.mark.parametrize("index, label, before", [(70, "9849", "89"), (333, "246", "26")])
def test_digits_crowded_over_each_other_are_read_where_the_reader_sees_them(reader, index, label, before):
    # every digit written over its neighbour (bench_pen's crowded writing, validation
    # seeds): the lattice's best chain read `before`; the reader's path, two digits more
    # (DROP_TWO) or one more at a lead of 1.2 (DROP_LEAD 1), is read
    data, truth = bench_pen.make("crowded-number", "validation", index)
    assert truth == label
    reading = read_number(data, reader)
    assert reading.text == label
    assert sequence.more(label, before, len(label) - len(before))
