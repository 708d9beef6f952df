"""One digit on a form: the box round it, the line it stands on, a comb's cell cut out
are not the digit (select.alone_print), for predict and the web page's canvas alike."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.frontend import select
from digitnet.data.preprocess import to_mnist
from test_read_forms import photographed


@pytest.fixture(scope="module")
def model():
    from digitnet.pretrained import resolve_model

    return resolve_model(None)


def seven(form):
    """A 7 on a white page, in a box, on a line, or in a comb's cell cut out."""
    image = Image.new("RGB", (200, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(80, 50), (130, 50), (95, 150)], fill="black", width=10)
    if form == "box":
        draw.rectangle([40, 30, 165, 175], outline="black", width=3)
    elif form == "line":
        draw.line([(20, 160), (180, 160)], fill="black", width=3)
    elif form == "cell":
        for y in (20, 180):
            draw.line([(0, y), (199, y)], fill="black", width=3)
        for x in (30, 170):
            draw.line([(x, 20), (x, 180)], fill="black", width=3)
    return image


@pytest.mark.parametrize("form", ["box", "line", "cell"])
@pytest.mark.parametrize("photo", [False, True])
def test_a_digit_on_a_form_is_recognised_without_the_print(model, form, photo):
    # before: a 7 in a box read 0, on a line 1, in a cell 1, on a clean scan
    picture = photographed(seven(form)) if photo else seven(form)
    assert int(np.argmax(model.confidences(to_mnist(picture)[None])[0])) == 7


def test_the_print_round_a_digit_goes_and_the_digit_stays():
    binary = np.zeros((120, 120), bool)
    binary[10:12, 10:110] = binary[108:110, 10:110] = True  # a box's top and bottom
    binary[10:110, 10:12] = binary[10:110, 108:110] = True  # its sides
    binary[30:90, 58:63] = True  # a 1 in it
    printed = select.alone_print(binary)
    assert printed[10:12, 10:110].all() and printed[30:100, 10:12].all()
    assert not printed[30:90, 58:63].any()


def test_a_digits_own_bars_are_no_print():
    binary = np.zeros((100, 100), bool)
    binary[20:24, 30:75] = True  # a 7's bar...
    for row in range(24, 90):  # ...and its stem, from the bar's right end
        x = 72 - (row - 24) * 25 // 66
        binary[row, x:x + 4] = True
    assert not select.alone_print(binary).any()
    binary[55:58, 40:70] = True  # a crossbar: short for the digit
    assert not select.alone_print(binary).any()
    foot = np.zeros((100, 100), bool)
    foot[10:90, 48:53] = True
    foot[88:91, 35:66] = True  # a 1's foot, past its stem on both sides but short
    assert not select.alone_print(foot).any()


def test_a_line_under_a_digit_goes_where_the_digit_does_not_cross_it():
    binary = np.zeros((100, 160), bool)
    binary[20:82, 70:75] = True  # a 1 reaching through the line
    binary[78:80, 10:150] = True  # the line
    printed = select.alone_print(binary)
    assert printed[78:80, 10:60].all() and printed[78:80, 85:150].all()
    assert not printed[20:78, 70:75].any() and not printed[78:80, 70:75].any()


def test_a_two_with_a_flat_top_and_foot_is_no_box():
    # (two bars across the digit, one above and one below, but no sides between them)
    binary = np.zeros((100, 100), bool)
    binary[15:19, 25:75] = binary[80:84, 20:80] = True  # the top and the foot
    for row in range(19, 80):  # the diagonal
        x = 72 - (row - 19) * 50 // 61
        binary[row, x:x + 5] = True
    assert not select.alone_print(binary).any()


def test_a_digit_filling_its_box_leaves_the_box_too():
    binary = np.zeros((100, 80), bool)
    binary[10:12, 10:70] = binary[88:90, 10:70] = binary[10:90, 10:12] = binary[10:90, 68:70] = True
    binary[20:80, 15:65] = False
    binary[20:24, 15:65] = True  # a 7 as wide as the box, nearly touching its sides
    for row in range(24, 80):
        binary[row, 61 - (row - 24) * 30 // 56:65 - (row - 24) * 30 // 56] = True
    printed = select.alone_print(binary)
    assert printed[10:12, 10:70].all() and printed[30:80, 10:12].all()
    assert not printed[20:24, 15:65].any()


def test_a_drawn_twos_thick_foot_is_its_own():
    # (a regression, from drawn validation digits: a 2 drawn with a broad pen, its foot
    # reaching past its curve on both sides, lost the foot and read 1)
    binary = np.zeros((100, 100), bool)
    binary[80:91, 8:98] = True  # the foot, thicker than the strokes (a broad pen)
    for row in range(20, 80):  # the curve's way down, meeting the foot in its middle
        x = 60 - (row - 20) * 15 // 60
        binary[row, x:x + 9] = True
    binary[15:24, 35:65] = True
    assert not select.alone_print(binary).any()


def test_the_quick_look_passes_a_forms_print_and_not_a_sevens_bar():
    # (alone_print looks first, quickly, whether there can be any print: a 7 alone is
    # left there, a digit on a line or in a box goes on to the lines)
    seven = np.zeros((100, 100), bool)
    seven[20:24, 30:75] = True
    for row in range(24, 90):
        x = 72 - (row - 24) * 25 // 66
        seven[row, x:x + 4] = True
    assert not select._may_hold_print(seven, 27)
    on_line = np.zeros((100, 160), bool)
    on_line[20:78, 70:75] = True  # a 1
    on_line[80:82, 10:150] = True  # standing on a line
    assert select._may_hold_print(on_line, 84)
    boxed = np.zeros((120, 120), bool)
    boxed[10:12, 10:110] = boxed[108:110, 10:110] = boxed[10:110, 10:12] = boxed[10:110, 108:110] = True
    boxed[30:90, 58:63] = True
    assert select._may_hold_print(boxed, 60)


def _band_of(values):
    """The BAND quantiles of ``values`` from the sorted values themselves, linear between
    order statistics (what ``alone_print`` computed before it read a mask's sums)."""
    ordered = np.sort(values, axis=None)
    out = []
    for q in select.BAND:
        at = q * (len(ordered) - 1)
        i = int(at)
        j = min(i + 1, len(ordered) - 1)
        out.append(float(ordered[i] + (ordered[j] - ordered[i]) * (at - i)))
    return out[0], out[1]


def test_the_band_of_a_mask_from_its_sums_is_band_of_its_pixels_to_the_bit():
    # (``alone_print`` measures the ink's band from its rows' and columns' sums, without
    # listing its pixels: the values must be ``_band_of``'s of the pixels' rows and columns
    # to the bit, np.quantile's to rounding, and the middle row np.median's)
    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = rng.integers(1, 50, 2)
        mask = rng.random((h, w)) < rng.random() * 0.3
        if not mask.any():
            continue
        rows, columns = np.nonzero(mask)
        (top, bottom), (left, right), middle = select.extent(mask)
        assert (top, bottom) == _band_of(rows)
        assert (left, right) == _band_of(columns)
        quantiles = np.concatenate([np.quantile(rows, select.BAND), np.quantile(columns, select.BAND)])
        assert np.allclose((top, bottom, left, right), quantiles)
        assert middle == np.median(rows)


def test_a_close_up_photo_of_a_cell_leaves_its_thick_print_out(model):
    # (a regression, from bench_boxed's validation photos: print 9 pixels thick or more
    # on a copy 600 pixels wide was taken for no line, and the cell round a 7 read 0)
    image = Image.new("RGB", (600, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(240, 170), (370, 170), (280, 430)], fill="black", width=28)
    for y in (80, 520):
        draw.line([(40, y), (560, y)], fill="black", width=18)
    for x in (90, 510):
        draw.line([(x, 80), (x, 520)], fill="black", width=18)
    assert int(np.argmax(model.confidences(to_mnist(photographed(image))[None])[0])) == 7


@pytest.mark.parametrize("photo", [False, True])
def test_a_grey_digit_in_a_black_box_is_found(model, photo):
    # (a regression: with the black print taken out, the threshold set between the paper
    # and the print left a grey pen's digit below it: "no digit found")
    image = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(170, 130), (240, 130), (190, 270)], fill=(150, 150, 150), width=8)
    draw.rectangle([110, 90, 290, 310], outline="black", width=5)
    picture = photographed(image) if photo else image
    assert int(np.argmax(model.confidences(to_mnist(picture)[None])[0])) == 7


@pytest.mark.parametrize("photo", [False, True])
def test_a_digit_circled_by_hand_is_recognised(model, photo):
    image = seven(None)
    ImageDraw.Draw(image).ellipse([30, 15, 180, 190], outline="black", width=4)
    picture = photographed(image) if photo else image
    assert int(np.argmax(model.confidences(to_mnist(picture)[None])[0])) == 7
