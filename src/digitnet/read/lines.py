"""Every line of writing in a picture: an envelope's postcode and house number, a form's
two amounts, one under the other.

``read_number`` reads one line: the writing the front end finds dominant. ``read_lines``
reads that line, then the picture above it and the picture below it (the whole width,
cropped, never painted over: a photo keeps its paper and light), each again the same
way, until no writing is left. A line found so is kept when its digits are between
LINE_HEIGHTS and 1 / LINE_HEIGHTS times as high as the first line's: what is far smaller
(a note, print) or far larger (a shadow, a page's edge) is not a line of the number's.
"""

from __future__ import annotations

from dataclasses import replace

from ..data.frontend import open_image
from ..errors import ImageError
from .decode import Reading, read_number

#: A line's band (its digits' boxes) grown by this much of its height before the
#: picture above and below it is read.
LINE_PAD = 0.1
#: The other lines: their digits' height within these bounds of the first line's
#: (LINE_HEIGHTS to 1 / LINE_HEIGHTS times). Asking read_number to be at least 0.2 or 0.5
#: sure of them too lost real lines whose digits were hard to read (two lines found in
#: 98.5% of 200 validation pictures without, 98.0 and 97.0% with) and kept out no more
#: invented ones (2 and 1 of 600 pictures of one line); BENCHMARKS.md, "Every line".
LINE_HEIGHTS = 0.5
#: At most this many lines are read.
MAX_LINES = 20


def read_lines(image, model, min_confidence: float = 0.5, marks: bool = False,
               max_lines: int = MAX_LINES) -> list[Reading]:
    """The number written on each line of ``image`` (a path, bytes, an open binary file, a
    Pillow image or a NumPy array), top to bottom: ``read_number``'s readings
    (``min_confidence`` and ``marks`` as its), their boxes in the whole picture's pixels.
    Raises ``ImageError`` for a blank picture."""
    picture = open_image(image)
    found: list[tuple[int, int, Reading]] = []  # (top, bottom, reading) in the picture

    def read_band(top: int, bottom: int):
        if bottom - top < 8 or len(found) >= max_lines:
            return
        try:
            reading = read_number(picture.crop((0, top, picture.width, bottom)), model,
                                  min_confidence, marks=marks)
        except ImageError:  # nothing there, or nothing readable
            return
        add(top, bottom, _moved(reading, top))

    def add(top: int, bottom: int, reading: Reading):
        y0 = min(d.box[1] for d in reading.digits)
        y1 = max(d.box[3] for d in reading.digits)
        if found:
            height, first = y1 - y0, found[0][1] - found[0][0]
            if not LINE_HEIGHTS * first <= height <= first / LINE_HEIGHTS:
                return
        found.append((y0, y1, reading))
        pad = max(2, int(LINE_PAD * (y1 - y0)))
        read_band(top, y0 - pad)
        read_band(y1 + pad, bottom)

    # the first line as read_number reads the picture: its errors are the picture's
    add(0, picture.height, _moved(read_number(picture, model, min_confidence, marks=marks), 0))
    return [reading for _, _, reading in sorted(found, key=lambda f: f[0])]


def _moved(reading: Reading, top: int) -> Reading:
    """``reading`` of a band starting at row ``top``, its boxes in the whole picture's (and
    no longer said to leave other lines out: they are read too)."""
    def down(box):
        return (box[0], box[1] + top, box[2], box[3] + top)

    return replace(reading, other_lines=False,
                   digits=[replace(d, box=down(d.box)) for d in reading.digits],
                   marks=None if reading.marks is None
                   else [replace(m, box=down(m.box)) for m in reading.marks])
