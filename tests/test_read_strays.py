"""A pen lying on the page, a long straight stroke beside the writing: no writing
(select._bars), where a 1 stays a 1."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.frontend import select
from digitnet.read import read_number
from test_read import SEVEN_ONE_ZERO, handwritten
from test_read_spaced import photographed


@pytest.fixture(scope="module")
def model():
    from digitnet.pretrained import resolve_model

    return resolve_model(None)


def with_pen(image, width=30, start=(420, 60), end=(640, 330)):
    """``image`` widened to the right, a pen (a long straight bar) lying there."""
    out = Image.new("L", (700, 360), 255)
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).line([start, end], fill=60, width=width)
    return out


def test_a_pen_beside_a_number_is_not_read(model):
    # before: the pen was the dominant ink, read "1" at confidence 0.9-1.0
    image = with_pen(handwritten(SEVEN_ONE_ZERO, size=(400, 200)))
    assert read_number(image, model).text == "710"
    assert read_number(photographed(image), model).text == "710"


def test_a_pen_below_the_number_is_no_other_line(model):
    # the pen was the "more writing above or below" that `read` hints --lines for
    image = with_pen(handwritten(SEVEN_ONE_ZERO, size=(400, 200)), start=(300, 220), end=(620, 340))
    reading = read_number(image, model)
    assert reading.text == "710" and not reading.other_lines


def test_a_ruler_line_beside_a_number_is_not_read(model):
    image = with_pen(handwritten(SEVEN_ONE_ZERO, size=(400, 200)), width=14)
    assert read_number(image, model).text == "710"


def test_a_pen_beside_one_digit_is_not_predicted(model):
    from digitnet import predict

    seven = handwritten([("line", [(40, 50), (110, 50), (70, 160)])], size=(400, 200))
    assert predict(with_pen(seven), model).digit == 7


def pieces(binary):
    found = select.label(binary)
    stats = select.measure(found, binary.astype(np.float32))
    return found, stats


def test_bars_are_long_straight_strokes_beside_writing_not_a_1_among_digits():
    binary = np.zeros((200, 400), bool)
    binary[20:60, 10:14] = True               # a 1, 40 high
    binary[20:24, 30:60] = binary[20:60, 56:60] = True  # a 7
    binary[100:108, 100:380] = True           # a bar, 280 long
    found, stats = pieces(binary)
    score = stats.mass.copy()
    bars = select._bars(found, stats, score)
    assert [int(stats.left[k]) for k in np.flatnonzero(bars)] == [100]

    binary[100:108, 100:380] = False           # the 1 among digits as high as it is none
    found, stats = pieces(binary)
    assert not select._bars(found, stats, stats.mass.copy()).any()


def test_a_1_with_blots_beside_it_is_no_bar():
    # a thick 1 and two blots of its ink beside it: predicted 0 while the 1 was a "bar"
    binary = np.zeros((200, 200), bool)
    binary[20:120, 50:58] = True               # a 1, 100 high
    binary[140:152, 120:132] = True            # two blots 12 across
    binary[20:32, 80:92] = True
    found, stats = pieces(binary)
    assert not select._bars(found, stats, stats.mass.copy()).any()
    binary[20:40, 150:154] = binary[20:24, 150:170] = binary[36:40, 150:170] = True  # a small digit
    found, stats = pieces(binary)
    assert select._bars(found, stats, stats.mass.copy()).any()  # the 1 is 5 times its height


@pytest.mark.parametrize("gap, bar", [(3, False), (40, True)])
def test_a_straight_stroke_against_the_writing_is_the_digits_own(gap, bar):
    # a 7 drawn in two strokes: its long straight stem lies against its top (a drawn 7
    # was read as a 5 while the stem was taken for a pen); a pen lies apart
    binary = np.zeros((300, 300), bool)
    binary[10:50, 10:14] = binary[10:14, 10:40] = binary[46:50, 10:40] = True  # a small digit
    image = Image.fromarray(binary)
    ImageDraw.Draw(image).line([(44 + gap, 10), (144 + gap, 280)], fill=True, width=8)  # the stroke
    found, stats = pieces(np.asarray(image))
    assert select._bars(found, stats, stats.mass.copy()).any() == bar
