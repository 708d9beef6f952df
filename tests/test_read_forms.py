"""Numbers written on forms: a printed line to write on, a comb's boxes, a frame round the
number are not digits (select.paper_lines with ``form``, select.box_sides)."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.frontend import ink, select
from digitnet.read import read_number
from test_read import SEVEN_ONE_ZERO, handwritten


@pytest.fixture(scope="module")
def model():
    from digitnet.pretrained import resolve_model

    return resolve_model(None)


def on_form(form, colour=0, width=3, size=(500, 200)):
    """710 (the strokes of test_read) on a white page with a form printed on it."""
    image = handwritten(SEVEN_ONE_ZERO, size).convert("RGB")
    draw = ImageDraw.Draw(image)
    fill = (colour,) * 3 if isinstance(colour, int) else colour
    if form == "line":
        draw.line([(15, 172), (360, 172)], fill=fill, width=width)
    elif form == "frame":
        draw.rectangle([15, 25, 360, 180], outline=fill, width=width)
    elif form == "boxes":
        for left in (20, 130, 230):
            draw.rectangle([left, 25, left + 115, 180], outline=fill, width=width)
    elif form == "cells":  # a row of boxes apart from each other, a digit in each
        for left, right in ((20, 125), (140, 220), (235, 345)):
            draw.rectangle([left, 25, right, 180], outline=fill, width=width)
    elif form == "ticks":  # a line with short upright marks between the digits
        draw.line([(15, 172), (360, 172)], fill=fill, width=width)
        for x in (15, 130, 245, 360):
            draw.line([(x, 100), (x, 172)], fill=fill, width=width)
    return image


def photographed(image, seed=0):
    """The page in uneven light with sensor noise: what the front end treats as a photo."""
    values = np.asarray(image, np.float32)
    h, w, _ = values.shape
    light = np.linspace(0.75, 1.0, w)[None, :, None] * np.linspace(0.9, 1.0, h)[:, None, None]
    noise = np.random.default_rng(seed).normal(0, 4, values.shape)
    return Image.fromarray(np.clip(values * light + noise, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("form", ["line", "frame", "boxes", "cells", "ticks"])
@pytest.mark.parametrize("photo", [False, True])
def test_a_number_on_a_form_is_read_without_the_print(model, form, photo):
    # before: 710 on a printed line read "7101", in a frame or boxes "171101" and the like,
    # on a line with ticks "17111" and the like, in boxes apart from each other "1711101"
    picture = on_form(form)
    reading = read_number(photographed(picture) if photo else picture, model)
    assert reading.text == "710"


def test_a_reading_knows_its_picture_was_a_photographed_form(model):
    # (what the calibration weighs: numbers on forms, in photos, are read less surely)
    evidence = read_number(photographed(on_form("boxes")), model).evidence
    assert (evidence["photo"], evidence["form"]) == (1.0, 1.0)
    evidence = read_number(on_form("line"), model).evidence
    assert (evidence["photo"], evidence["form"]) == (0.0, 1.0)


def test_print_in_a_forms_colour_goes_too(model):
    assert read_number(on_form("boxes", colour=(200, 40, 40), width=2), model).text == "710"


def test_only_the_writing_is_left_of_a_form():
    values = ink(on_form("boxes"))
    assert values[:, :15].max() == 0 and values[:, 365:].max() == 0  # the outer sides
    assert values[:24].max() == 0 and values[182:].max() == 0  # the top and bottom lines
    assert values[60:150, 175:186].min() > 0.5  # the 1, close to two boxes' sides, stays


def test_print_darker_than_faint_ink_leaves_the_ink():
    # (a regression: the threshold fell between the print and the ink, and the faint
    # digits were left out with the print: "no digit found")
    strokes = handwritten(SEVEN_ONE_ZERO).convert("L")
    faint = Image.eval(strokes, lambda v: 255 - (255 - v) * 40 // 100)  # grey pencil-like ink
    image = faint.convert("RGB")
    ImageDraw.Draw(image).rectangle([15, 25, 360, 180], outline=(0, 0, 0), width=5)
    values = ink(photographed(image))
    assert values[60:150, 175:186].mean() > 0.5 and values[:20].max() == 0


def test_a_line_long_for_the_writing_goes_and_strokes_crossing_it_stay():
    binary = np.zeros((120, 300), bool)
    binary[20:100, 40:46] = binary[20:100, 120:126] = binary[20:100, 200:206] = True  # strokes
    binary[90:93, 10:290] = True  # the line they stand on, and cross
    lines = select.paper_lines(binary, paper=False, form=True)
    assert lines[90:93, 50:115].all() and lines[90:93, 210:290].all()
    assert not lines[20:100, 40:46].any() and not lines[20:89].any()


def test_a_digits_bar_is_not_a_forms_line():
    # (a regression: in "44" written close, the two 4s' bars in one row were a "line")
    binary = np.zeros((60, 80), bool)
    binary[5:55, 25:30] = binary[5:55, 60:65] = True
    binary[35:40, 5:68] = True  # the bars, 63 pixels: less than 1.5 times the 50 high
    assert not select.paper_lines(binary, paper=False, form=True).any()
    assert not select.paper_lines(binary, paper=False).any()  # (without form: nothing)


def test_box_sides_go_from_line_to_line_and_a_stroke_touching_one_line_stays():
    binary = np.zeros((100, 300), bool)
    binary[10:12, 10:290] = binary[88:90, 10:290] = True  # the comb's top and bottom
    for x in (10, 100, 190, 288):
        binary[10:90, x:x + 2] = True  # its sides
    binary[40:88, 140:145] = True  # a 1 standing on the bottom line
    binary[30:60, 60:66] = True  # a stroke touching no line
    lines = select.paper_lines(binary, paper=False, form=True)
    sides = select.box_sides(binary, lines)
    gone = lines | sides
    assert gone[10:90, [10, 11, 100, 101, 190, 191, 288, 289]].all()
    assert not gone[40:86, 140:145].any() and not gone[30:60, 60:66].any()
    assert not select.box_sides(binary, np.zeros_like(binary)).any()


def test_ruled_paper_and_a_margin_line_are_no_form():
    # (a regression: a margin line, or ruled lines, taken for a form's print had the
    # threshold found again and a piece of the margin read as the number)
    binary = np.zeros((200, 300), bool)
    binary[:, 40:42] = True  # the margin line
    binary[80:140, 100:106] = binary[80:140, 160:166] = binary[80:84, 100:166] = True  # writing
    lines, printed = select._lines(binary, paper=True, form=True)
    assert lines[:, 40:42].mean() > 0.9 and not printed.any()
    binary[20::30, :] = True  # and ruled lines, across the frame
    lines, printed = select._lines(binary, paper=True, form=True)
    assert lines[20::30].mean() > 0.9 and not printed.any()


def test_sides_leaning_as_a_tilted_camera_sees_them_go():
    # (a regression: a side leaning by a few pixels over its height stayed, read as a 1)
    image = Image.new("L", (300, 120), 0)
    draw = ImageDraw.Draw(image)
    draw.line([(10, 10), (290, 14)], fill=255, width=2)  # top and bottom, not parallel
    draw.line([(12, 100), (288, 108)], fill=255, width=2)
    draw.line([(10, 10), (16, 100)], fill=255, width=2)  # sides leaning 4 degrees
    draw.line([(290, 14), (284, 108)], fill=255, width=2)
    binary = np.asarray(image) > 0
    level = select.paper_lines(binary, paper=False, form=True)
    lines = level | select._sloped_form_lines(binary)
    assert lines[95:].sum() > level[95:].sum() + 50  # the bottom line, at its own slope
    upright = select.box_sides(binary, lines)
    leaning = select.box_sides(binary, lines, lean=True)
    assert leaning[30:80, 275:295].sum() > 80 and not upright[30:80, 275:295].any()


def test_a_combs_ticks_go_and_strokes_standing_on_its_line_stay():
    binary = np.zeros((100, 400), bool)
    binary[80:82, 10:390] = True  # the line
    for x in (10, 100, 190, 280, 370):
        binary[55:80, x:x + 2] = True  # ticks, alike and in step
    binary[30:80, 140:145] = True  # a 1 standing on the line, between two ticks
    binary[55:80, 230:234] = True  # a stroke as long as a tick, out of step...
    binary[60:64, 215:250] = True  # ...and part of a digit
    lines = select.paper_lines(binary, paper=False, form=True)
    gone = lines | select.box_sides(binary, lines)
    assert gone[55:80, [10, 11, 100, 101, 190, 191, 280, 281, 370, 371]].all()
    assert not gone[30:78, 140:145].any() and not gone[55:78, 230:234].any()


def test_strokes_as_tall_as_the_writing_are_no_ticks():
    # "111" standing on a line, as long as each other and evenly spaced: a form's ticks
    # are shorter than the digits written between them
    binary = np.zeros((100, 400), bool)
    binary[80:82, 10:390] = True
    for x in (60, 160, 260):
        binary[40:80, x:x + 4] = True
    lines = select.paper_lines(binary, paper=False, form=True)
    assert not select.box_sides(binary, lines).any()
    binary[5:80, 100:106] = binary[5:10, 100:125] = True  # a taller 7 beside them: ticks
    assert select.box_sides(binary, lines)[45:75, 160:164].all()


def test_strokes_out_of_step_are_no_ticks():
    binary = np.zeros((100, 400), bool)
    binary[80:82, 10:390] = True
    binary[5:80, 20:26] = True  # the tallest digit
    for x in (60, 105, 200, 230):  # as long as each other, apart by 45, 95 and 30
        binary[55:80, x:x + 4] = True
    lines = select.paper_lines(binary, paper=False, form=True)
    assert not select.box_sides(binary, lines).any()


def test_one_line_across_the_frame_is_a_forms_and_two_are_ruled_paper():
    # (a regression: a photo as wide as the form, its line across the frame, was taken
    # for ruled paper, and the comb's ticks on the line stayed, read as 1s)
    binary = np.zeros((200, 300), bool)
    binary[80:140, 100:106] = binary[80:140, 160:166] = binary[80:84, 100:166] = True  # writing
    binary[150:152, 5:295] = True  # a line across the frame, below the writing
    lines, printed = select._lines(binary, paper=True, form=True)
    assert printed[150:152, 20:280].all()
    binary[30:32, 5:295] = True  # and another: ruled paper
    lines, printed = select._lines(binary, paper=True, form=True)
    assert lines[150:152, 20:280].all() and not printed.any()


def two_twos(feet_joined=True, height=60, gap=20):
    """"22" drawn with a pen, the first 2's foot running on into the second's (one level
    stroke about 1.7 times the writing's height long), or each 2 with its own foot."""
    from io import BytesIO

    image = Image.new("L", (260, 130), 235)
    draw = ImageDraw.Draw(image)
    left, top, width = 40, 30, 0.6 * height
    for k in range(2):
        x = left + k * (width + gap)
        turns = np.linspace(np.pi * 0.95, -0.3, 12)
        arc = [(x + width / 2 * (1 + np.cos(t)), top + height * 0.28 * (1 - np.sin(t))) for t in turns]
        draw.line(arc + [(x, top + height)], fill=30, width=5, joint="curve")
        if not feet_joined:
            draw.line([(x, top + height), (x + width + 4, top + height)], fill=30, width=5)
    if feet_joined:
        draw.line([(left, top + height), (left + 2 * width + gap + 10, top + height)], fill=30, width=5)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("feet_joined", [True, False])
def test_two_digits_feet_joined_in_one_stroke_are_no_forms_line(model, feet_joined):
    # (a regression: the joined feet, as long as a line under a number of two, were taken
    # out as a form's print and "22" read "77", at confidence 1.0)
    reading = read_number(two_twos(feet_joined), model)
    assert reading.text == "22"
    assert not reading.evidence.get("form")


def test_a_line_is_the_writings_own_stroke_only_when_it_ends_within_the_writing():
    rest = np.zeros((100, 300), bool)
    rest[20:80, 100:106] = rest[20:80, 160:166] = True  # the rest of the ink: 60 high
    line = np.zeros_like(rest)
    line[80:84, 100:200] = True  # from the first stroke on, 100 long: the writing's
    assert select._own_stroke(rest, line)
    line[:] = False
    line[80:84, 70:200] = True  # past the writing on both sides: print
    assert not select._own_stroke(rest, line)
    line[:] = False
    line[80:84, 100:250] = True  # 150 long, 2.5 times the writing's height: print
    assert not select._own_stroke(rest, line)
    line[:] = False
    line[80:84, 0:166] = True  # leaving the frame (a photo cropped close): print
    assert not select._own_stroke(rest, line)
    rest[20:80, 100:106] = False
    rest[70:80, 100:102] = True  # the first stroke a short tick at the line's end: print
    line[:] = False
    line[80:84, 100:200] = True
    assert not select._own_stroke(rest, line)
    rest[20:68, 103:106] = True  # a digit's stroke beside the tick, off the line: print
    assert not select._own_stroke(rest, line)
    rest[68:80, 103:106] = True  # the stroke running down into the line: the writing's
    assert select._own_stroke(rest, line)


def circled(shape, size=(500, 230), width=6):
    """710 (test_read's strokes, moved down) with a circle or a box drawn round it by hand,
    apart from the digits: an oval, or a box whose sides lean a little."""
    image = Image.new("L", size, 255)
    strokes = [(kind, [(x, y + 20) for x, y in points]) for kind, points in SEVEN_ONE_ZERO]
    image.paste(handwritten(strokes, size), (0, 0))
    draw = ImageDraw.Draw(image)
    if shape == "oval":
        draw.ellipse([5, 5, 380, 225], outline=0, width=width)
    else:
        corners = [(15, 22), (360, 18), (364, 212), (12, 216), (15, 22)]
        draw.line(corners, fill=0, width=width, joint="curve")
    return image


@pytest.mark.parametrize("shape", ["oval", "box"])
@pytest.mark.parametrize("photo", [False, True])
def test_a_number_circled_or_boxed_by_hand_is_read_without_the_circle(model, shape, photo):
    # (before: a circled "710" read "0" and the like, the oval taken for the writing)
    picture = circled(shape)
    reading = read_number(photographed(picture.convert("RGB")) if photo else picture, model)
    assert reading.text == "710"


def test_the_line_round_the_writing_is_found_and_a_digits_loop_is_not():
    binary = np.zeros((120, 200), bool)
    binary[10:110, 10:190] = True
    binary[13:107, 13:187] = False  # a box drawn round the writing, 3 pixels wide
    binary[30:90, 60:66] = binary[30:90, 120:126] = True  # the writing in it
    ring = select.enclosure(binary)
    assert ring[10:13, 10:190].all() and ring[10:110, 10:13].all()
    assert not ring[30:90].any(axis=0)[20:180].any()
    zero = np.zeros((120, 200), bool)  # a 0 with nothing in it, a 1 beside it
    zero[10:110, 40:100] = True
    zero[16:104, 46:94] = False
    zero[10:110, 150:156] = True
    assert not select.enclosure(zero).any()
    zero[55:60, 68:72] = True  # a speck in the 0: no writing
    assert not select.enclosure(zero).any()
    comb = binary.copy()  # a comb's boxes: sides from top to bottom inside, left to box_sides
    comb[10:110, 95:98] = True
    assert not select.enclosure(comb).any()
    broken = binary.copy()  # its sides lost (a thin line broken in a small copy): two arcs
    broken[14:106, 10:13] = broken[14:106, 187:190] = False
    ring = select.enclosure(broken)
    assert ring[10:13, 10:190].all() and ring[107:110, 10:190].all()
    assert not ring[30:90].any()
    gap = binary.copy()  # a gap in the line no wider than it: closed
    gap[10:13, 100:102] = False
    assert select.enclosure(gap)[107:110, 10:190].all()
    gap[10:13, 80:120] = False  # an opening: no line round the writing
    assert not select.enclosure(gap).any()


def test_a_papers_lines_above_and_below_the_writing_are_no_line_round_it():
    # (before: a crop round a number on ruled paper showed a line above it and one below,
    # end to end, taken for a broken oval round it; what touched them went with them)
    binary = np.zeros((120, 300), bool)
    binary[10:12, 1:299] = binary[104:106, 1:299] = True  # from side to side of the frame
    binary[30:90, 60:66] = binary[30:90, 200:206] = True  # the writing between them
    binary[30:34, 100:140] = binary[30:90, 136:140] = True
    assert not select.enclosure(binary).any()
    binary[10:12, 1:10] = binary[104:106, 1:10] = False  # ending within the frame: arcs
    assert select.enclosure(binary)[10:12, 10:299].all()



def test_a_1_as_long_as_a_line_in_a_crop_is_no_line():
    # (before: a crop round a number showed a 1 of 37 rows in 99, long enough for a
    # paper's upright line; its tapered tips, thin, were taken out as "lines", and the 1
    # between them as a box's side: "710" on faint ruled paper read "70")
    binary = np.zeros((99, 144), bool)
    binary[31:33, 70:72] = binary[66:68, 70:72] = True  # the tips, thin
    binary[33:66, 68:74] = True  # the stem, thicker than a line
    assert not select.paper_lines(binary).any()
    binary[31:68, 100:102] = True  # a line as long and thin along its length stays
    assert select.paper_lines(binary)[31:68, 100:102].all()


def test_a_number_under_a_faint_ruled_line_keeps_its_1(model):
    page = Image.new("L", (1600, 1100), 255)
    draw = ImageDraw.Draw(page)
    for y in range(25, 1100, 80):
        draw.line([(0, y), (1600, y)], fill=150, width=2)
    number = handwritten(SEVEN_ONE_ZERO).crop((20, 20, 360, 180)).resize((102, 48))
    top = 25 + 7 * 80 + 6  # under a line, a third of the way down to the next
    box = (600, top, 600 + number.width, top + number.height)
    page.paste(Image.fromarray(np.minimum(np.asarray(page.crop(box)), np.asarray(number))), box[:2])
    assert read_number(photographed(page.convert("RGB")), model).text == "710"


def boxes_apart(draw_inside, n=3, gap=20, size=60):
    """A row of ``n`` boxes ``size`` pixels square, ``gap`` apart, on a white page (bool
    ink), each drawn into by ``draw_inside(draw, left, top)``."""
    image = Image.new("L", (40 + n * (size + gap), 2 * size), 255)
    draw = ImageDraw.Draw(image)
    for i in range(n):
        left, top = 20 + i * (size + gap), size // 2
        draw.rectangle([left, top, left + size, top + size], outline=0, width=2)
        draw_inside(draw, left, top)
    return np.asarray(image) < 128


def test_a_row_of_boxes_apart_is_found_and_its_print_goes_but_not_the_digits():
    def one(draw, left, top):  # a 1 standing in each box, not touching it
        draw.line([(left + 30, top + 10), (left + 30, top + 50)], fill=0, width=4)

    binary = boxes_apart(one)
    found = select.cells(binary)
    assert [(b - t, r - lf) for t, b, lf, r in found] == [(61, 61)] * 3
    printed = select.cell_print(binary, found)
    assert printed[30, 20:81].all() and printed[60, 20:22].all()  # a box's top and left side
    assert not printed[35:86, 46:55].any()  # the 1 in it stays


def test_no_row_of_boxes_without_digits_in_them_or_where_the_ink_is_digits():
    def nothing(draw, left, top):
        pass

    def one_in_the_first(draw, left, top):
        if left == 20:
            draw.line([(left + 30, top + 10), (left + 30, top + 50)], fill=0, width=4)

    assert select.cells(boxes_apart(nothing)) == []  # an empty form: no digit in it
    assert select.cells(boxes_apart(one_in_the_first)) == []  # one digit, one box: alone_print's
    # "00" written large, "88" and two solid blocks: no boxes
    image = Image.new("L", (300, 140), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse([20, 20, 120, 120], outline=0, width=6)
    draw.ellipse([150, 20, 250, 120], outline=0, width=6)
    assert select.cells(np.asarray(image) < 128) == []
    blocks = np.zeros((140, 300), bool)
    blocks[20:120, 20:120] = blocks[20:120, 150:250] = True
    assert select.cells(blocks) == []


def test_squared_paper_is_no_row_of_boxes():
    # a notebook's grid runs to the frame's edge: one piece, its box the frame, twice as
    # wide as high, with digits in it; taken for two boxes, a 622 written on it read "62"
    grid = np.zeros((101, 201), bool)
    grid[::25, :] = grid[:, ::25] = True
    grid[30:45, 60:63] = grid[55:70, 110:113] = True  # two 1s in its squares
    assert select.cells(grid) == []
