"""Numbers written with their digits far apart, or in groups ("5041   9238"): every digit
is the number's (select._along), where a single digit keeps the dominant one."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from digitnet.data.frontend import select
from digitnet.read import read_number
from test_read import handwritten

# a 7, a 1, a 0 and a 4, 120 pixels high, each drawn with its left edge at x
GLYPHS = {
    "7": lambda x: [("line", [(x, 50), (x + 70, 50), (x + 30, 170)])],
    "1": lambda x: [("line", [(x + 30, 50), (x + 30, 170)])],
    "0": lambda x: [("ellipse", [(x, 50), (x + 80, 170)])],
    "4": lambda x: [("line", [(x + 60, 170), (x + 60, 50), (x, 130), (x + 80, 130)])],
}


def spaced(text, gap, groups=None):
    """``text`` drawn with ``gap`` digit heights between neighbours (or, with ``groups``,
    the digits of each group 0.3 heights apart and the groups ``gap`` apart)."""
    strokes, x = [], 40
    for k, ch in enumerate(text):
        strokes += GLYPHS[ch](x)
        apart = gap if groups is None or (k + 1) in groups else 0.3
        x += 80 + int(apart * 120)
    return handwritten(strokes, size=(x + 40, 220))


def photographed(image, seed=0):
    """``image`` on grey paper with uneven light and noise, as a JPEG."""
    rng = np.random.default_rng(seed)
    ink = 1 - np.asarray(image, np.float32) / 255
    h, w = ink.shape
    light = 0.8 + 0.15 * np.linspace(0, 1, w)[None, :]
    grey = (light * (1 - 0.75 * ink) + rng.normal(0, 0.02, ink.shape)) * 255
    out = io.BytesIO()
    Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def model():
    from digitnet.pretrained import resolve_model

    return resolve_model(None)


@pytest.mark.parametrize("gap", [0.3, 1.0, 2.0, 3.5])
def test_every_digit_of_a_number_spaced_out_is_read(model, gap):
    # before: two heights apart and more, one digit of "7104" was read, at confidence 1
    image = spaced("7104", gap)
    assert read_number(image, model).text == "7104"
    assert read_number(photographed(image), model).text == "7104"


def test_a_number_written_in_groups_is_read_whole_and_with_marks_spaced(model):
    image = spaced("710471", 2.5, groups={4})  # "7104   71"
    assert read_number(image, model).text == "710471"
    reading = read_number(image, model, marks=True)
    assert reading.text == "7104 71"
    (space,) = reading.marks
    before, after = reading.digits[3].box, reading.digits[4].box
    assert space.after == 4 and before[2] <= space.box[0] < space.box[2] <= after[0]
    assert json.loads(json.dumps(reading.as_dict()))["marks"][0]["after"] == 4  # (--json)


def test_cli_read_json_with_marks_writes_the_space(tmp_path, capsys):
    # --marks --json crashed on the space's NumPy integer before
    from digitnet.cli import main

    path = tmp_path / "groups.png"
    spaced("710471", 2.5, groups={4}).save(path)
    assert main(["read", str(path), "--marks", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "7104 71"


@pytest.mark.parametrize("gap", [0.3, 2.0])
def test_digits_spaced_out_evenly_are_one_group(model, gap):
    assert read_number(spaced("7104", gap), model, marks=True).text == "7104"


def test_a_single_digit_keeps_the_dominant_one(model):
    from digitnet.data.frontend import to_mnist

    image = spaced("70", 2.5)
    rows, cols = np.nonzero(np.asarray(to_mnist(image)).reshape(28, 28) > 0.3)
    assert rows.max() - rows.min() >= 18  # one digit framed as MNIST's are, not two small


def along(binary, seed_box):
    """select._along on the pieces of ``binary``, the writing being the piece at the top
    left corner of ``seed_box`` (top, bottom, left, right): the boxes of the pieces taken."""
    found = select.label(binary)
    stats = select.measure(found, binary.astype(np.float32))
    best = int(found.labels[seed_box[0], seed_box[2]]) - 1
    keep = np.ones(found.n, bool)
    chosen, box = select._along(found, binary, stats, [best], seed_box, keep, select.JOIN_NUMBER)
    return sorted((int(stats.left[i]), int(stats.top[i])) for i in chosen), box


def stroke(binary, top, bottom, left, right, width=4):
    """A digit-like frame of strokes ``width`` thick in the box (an 0)."""
    binary[top:bottom, left:left + width] = binary[top:bottom, right - width:right] = True
    binary[top:top + width, left:right] = binary[bottom - width:bottom, left:right] = True


def test_along_takes_digits_on_the_line_far_apart_and_nothing_else():
    binary = np.zeros((200, 1100), bool)
    stroke(binary, 10, 50, 10, 35)        # the writing
    stroke(binary, 12, 50, 200, 225)      # a digit 4 heights away on its line
    stroke(binary, 10, 48, 400, 420)      # and one 5 heights beyond that
    stroke(binary, 120, 160, 10, 35)      # a digit on another line
    stroke(binary, 12, 50, 900, 925)      # a digit 12 heights beyond the last
    binary[10:50, 600:640] = True         # a blot as high as the digits
    taken, box = along(binary, (10, 50, 10, 35))
    assert taken == [(10, 10), (200, 12), (400, 10)]
    assert box == (10, 50, 10, 420)


def test_along_takes_a_digit_in_two_strokes_and_a_5s_bar():
    binary = np.zeros((100, 600), bool)
    stroke(binary, 10, 50, 10, 35)        # the writing
    stroke(binary, 10, 28, 200, 225)      # a 3 broken in two, neither high enough alone
    stroke(binary, 31, 50, 200, 226)
    binary[10:14, 400:430] = True         # a 5's bar and its body, 5 heights on
    stroke(binary, 19, 50, 398, 428)
    taken, _ = along(binary, (10, 50, 10, 35))
    assert taken == [(10, 10), (200, 10), (200, 31), (398, 19), (400, 10)]
