"""Step 3 of the front end: which of the ink is the writing.

The ink strength is binarised at a threshold that adapts to the picture (Otsu's, among
the pixels clearly above the noise); ruled and squared paper lines (long, thin, straight
runs) are taken out, and for a number a form's print too (the line it is written on, the
boxes or the frame it is written in); the rest is split into connected pieces, and the
writing is the dominant piece (the most ink, a piece touching the frame's edge counting
for less in a photo: a page edge, a shadow, a finger) with the pieces close to it (a digit
written in two strokes, broken pencil strokes, the other digits of a number). Specks are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import NoDigitError

#: Pixels this many noise deviations above the paper are ink candidates.
NOISE_SIGMAS = 4.0
#: The faintest ink there is: strength relative to the paper (a tenth darker).
FAINTEST = 0.06
#: A straight run of ink longer than this fraction of the frame and than LINE_PIXELS,
#: and no thicker than the paper's lines (LINE_WIDTH pixels, or as measured where runs
#: span SPANNING of the frame, up to LINE_WIDTH_MAX), is a line of the paper, not a
#: stroke. Lines are looked for up to TILT degrees off level or upright.
LINE_LENGTH = 0.4
LINE_PIXELS = 40
LINE_WIDTH = 3
LINE_WIDTH_MAX = 6
SPANNING = 0.8
TILT = 5
#: A line that does not span SPANNING of the frame is thin along LINE_THIN of its length
#: or more (not a stroke thin only at its ends: a 1 in a crop round a number).
LINE_THIN = 0.5
#: A page turned in the photo by more than TILT degrees (up to TURN): its ruling is
#: TURN_LINES or more parallel lines at one angle, each a band of rows (turned level) at
#: most TURN_THICK thick whose ink covers TURN_FILL of the frame's width there
#: (``turned_lines``). Where a stroke crosses a line (ink within TURN_CROSS pixels of it
#: on both sides), the line is kept.
TURN = 45
#: (Looked for only where the faint ink lies in TURN_SPREAD or more of the frame's parts,
#: TURN_PARTS x TURN_PARTS of them: a ruling runs across it.)
TURN_PARTS = 8
TURN_SPREAD = 0.5
TURN_LINES = 3
TURN_FILL = 0.5
TURN_THICK = 8
#: (A ruling's lines are evenly spaced: each gap between them a whole number of the
#: smallest, within TURN_EVEN of it.)
TURN_EVEN = 0.2
#: (In a crop round the writing, a line's ink reaches within TURN_END pixels of the frame's
#: edge at both ends, TURN_END for every LINE_PIXELS of its length.)
TURN_END = 3
TURN_CROSS = 2
#: On a photo, a paper's lines are looked for a second time in its ink binarised lower
#: than the writing (above LINE_LOW of the low, hysteresis, threshold), and what that
#: finds fainter than the writing's threshold goes too. A faint line in a photo's noise
#: breaks into dashes at the writing's own threshold, too short to be a line, and the
#: dashes near a digit were taken for its strokes (a pencil digit on squared paper;
#: chosen on validation: BENCHMARKS.md, "Conditions combined").
LINE_LOW = 0.7
#: Of LATTICE_PIECES pieces or more gathered as the writing, LATTICE_SHARE or more
#: smaller than LATTICE_SPECK of the largest: a lattice of specks, a grid's crossings
#: (squared paper photographed whole: its lines fade in the small working copy, its
#: crossings do not); the writing is gathered again without them.
LATTICE_PIECES = 20
LATTICE_SHARE = 0.7
LATTICE_SPECK = 0.25
#: ... when they lie on rows and columns (``_lattice``), not anyhow as a photo's noise does.
LATTICE_ALIGNED = 0.7
LATTICE_LEVEL = 1.5
LATTICE_APART = 4
LATTICE_LOOK = 400
#: A number's form (the line it is written on, the edges of its boxes or frame): level
#: lines up to FORM_WIDTH_MAX pixels thick, or FORM_WIDTH_SHARE of the picture's smaller
#: side in a bigger one (a photo close up), that need not run across the frame:
#: FORM_LENGTH of the ink's width (between its BAND percentiles of columns)
#: and FORM_ASPECT times its height long or more (a digit's bar, in a number of two, is
#: not a line), and straight: their thin pixels cover FORM_STRAIGHT of their length, or
#: they are FORM_LONG times the ink's height long (digits stand on much of a long line).
FORM_WIDTH_MAX = 12
FORM_WIDTH_SHARE = 0.04
FORM_LENGTH = 0.6
FORM_ASPECT = 1.5
BAND = (0.01, 0.99)
FORM_STRAIGHT = 0.7
FORM_LONG = 2.5
#: One such line with fewer than two upright marks (a box's sides, a comb's ticks) is
#: the writing's own stroke, not print, when it is at most FORM_OWN times the rest of the
#: ink's height long and reaches past the rest by at most FORM_BEYOND of that height on
#: one side or the other, where the strokes it runs into rise, within FORM_END of that
#: height of its end, into the top FORM_HIGH of the writing (a digit's, not a comb's tick)
#: (``_own_stroke``: two digits' feet joined in one stroke, "22").
FORM_OWN = 2.0
FORM_BEYOND = 0.04
FORM_END = 0.1
FORM_HIGH = 1 / 3
#: A circle, an oval or a box drawn round the writing (``enclosure``): what it closes in
#: holds ENCLOSED of the other ink or more, as high as RING_CONTENT of it, and its line's
#: pixels are at most RING_FILL of the area it closes (a thin line round them).
ENCLOSED = 0.9
RING_CONTENT = 0.3
RING_FILL = 0.3
#: Pieces at least RING_ARCS as wide as the widest, two of them one above the other, are
#: the arcs of one line broken at its ends (a thin line breaks up in a small copy).
RING_ARCS = 0.8
#: Two such pieces that both run from within RING_EDGE pixels of the frame's left side to
#: within RING_EDGE of its right are a paper's lines above and below the writing (a crop
#: round it shows them end to end), not a line drawn round it.
RING_EDGE = 2
#: A piece with upright strokes RING_DIVIDER of its height long or more away from its
#: left and right ends is a comb's boxes, left to the form's rules.
RING_DIVIDER = 0.8
#: Pieces within a stroke of that line, RING_OUTSIDE of them or more outside the box of
#: what it holds, are of it too (a line drawn in several strokes).
RING_OUTSIDE = 0.8
#: The line round the writing: the piece's pixels within RING_LINE of its strokes' width
#: of what lies outside it (a digit touching it from inside keeps the rest of its strokes).
RING_LINE = 1.5
#: Once a form is found, its lines are looked for again at slopes this many degrees apart.
FORM_SLOPE_STEP = 1.0
#: A box's upright side: a run from within GAP rows of one line found to within GAP of
#: another, SIDE_MIN pixels or more of it away from them, and no wider than SIDES_DOUBLE
#: times SIDE_WIDTH (or than the lines are thick and two pixels): two boxes' sides side
#: by side, their gap closed in a small copy, are one side twice as wide.
SIDE_MIN = 8
SIDE_WIDTH = 6
SIDES_DOUBLE = 2
GAP = 2
#: A comb's ticks: upright marks standing on a line found, free at their other end and
#: TICKS or more as long as each other and evenly spaced, within TICK_SPREAD, TICKS_ALONE
#: of them alone (no ink within TICK_CLEAR pixels), and at most TICK_SHORT of the other
#: ink's height (a form's ticks are shorter than the digits written between them).
TICKS = 3
TICKS_ALONE = 2
TICK_SPREAD = 0.15
TICK_CLEAR = 3
TICK_SHORT = 0.8
#: One digit's form (``alone_print``): level lines BOX_LENGTH of the ink's width long (and
#: BOX_PIXELS or more), reaching BOX_BEYOND of the digit's height past it on both sides
#: and BOX_LONG of its height long or more; a box round it leaves BOX_REST of the ink off
#: its lines or more (``_boxed``: not a digit's stem between its bars).
BOX_LENGTH = 0.6
BOX_PIXELS = 16
BOX_BEYOND = 0.15
BOX_LONG = 0.9
BOX_REST = 0.3
#: Round one digit, print darker than the ink is looked for past it (the ink binarised
#: again) where the threshold without it is below PRINT_DARKER times the one with it
#: (black print round a grey pen's digit: about half; a digit's own bar mistaken for
#: print in a small photo: 0.9).
PRINT_DARKER = 0.75
#: A line the rest of the ink meets only within BAR_END of its length from one end is a
#: digit's bar (``_bar``).
BAR_END = 0.35
#: A row of printed boxes apart from each other (a postcode's, a tax form's: ``cells``):
#: pieces away from the frame's edge, at least CELL_PIXELS high and CELL_ASPECT as wide
#: as high, whose outline with its holes filled fills CELL_FILL of their box or more (a
#: box; a 0 or an oval about pi/4 of it) and whose holes fill CELL_HOLES of it (not a
#: solid block), CELLS or more of them as high as each other within CELL_SPREAD of that
#: height, their tops as level, and two of them holding ink in their middle (a digit:
#: away from their edges by CELL_EDGE of their height, and across CELL_CONTENT of it;
#: "00" holds none).
CELL_PIXELS = 10
CELL_ASPECT = 0.5
CELL_FILL = 0.9
CELL_HOLES = 0.15
CELLS = 2
CELL_SPREAD = 0.2
CELL_EDGE = 0.15
CELL_CONTENT = 0.3
#: A cell's level lines: within CELL_EDGE of its height of its top and its bottom, and
#: CELL_LENGTH of its width long or more.
CELL_LENGTH = 0.6
#: The digits in a form (not on ruled paper: its lines do not run across the frame) are
#: joined this far apart, in units of the writing's height (a comb's boxes are wide).
FORM_JOIN = 2.5
ONLY_LINES = ("no digit found: the image holds only straight lines (ruled paper or a form's print),"
              " no writing")
#: A piece touching the frame's edge counts for this fraction of its ink; one that also
#: spans more than SPAN of the frame's height or width, and either covers more than
#: FILLED of its box or is longer than THIN times its mean width, does not count.
EDGE_WEIGHT = 0.02
SPAN = 0.6
FILLED = 0.8
THIN = 10
#: Pieces are the ink above this fraction of the adaptive threshold (hysteresis).
HYSTERESIS = 0.5
#: Pieces smaller than this fraction of the dominant one are specks.
SPECK = 0.02
#: A straight stroke much longer than the rest of the ink is high (a pen or a pencil lying
#: on the paper, a ruler's line, a crease) is no writing: a piece among the BAR_LOOKS
#: heaviest whose ink lies within BAR_THIN of its length across its axis (the spread of
#: its pixels across and along it) and that is BAR_LONG times as long as the tallest other
#: piece of writing is high (at least 1/BAR_PIECE of its length high and SPECK of its area,
#: filling at most BAR_SOLID of its box, at least half as high as wide: a digit, not a dot,
#: a blot or a digit's bar; where it is the only one, BAR_SEEN pixels high or more) is
#: passed over when the writing is chosen, and left out of it, where it lies BAR_APART of
#: that height or more away from such a piece (a digit's stroke broken off lies against
#: the rest of it). (A 1 is as long as its neighbours are high; a 1 with specks or blots
#: beside it stays a 1.)
BAR_LOOKS = 3
BAR_THIN = 0.18
BAR_LONG = 2.5
BAR_PIECE = 16
BAR_SOLID = 0.7
BAR_SEEN = 12
BAR_APART = 0.25
#: Pieces join the writing when this close to it, horizontally and vertically, in
#: units of the writing's height: for one digit (chosen on validation: 0.35 read one more
#: of 900 than 0.2), and for a number (digits spaced apart).
JOIN = (0.5, 0.35)
JOIN_NUMBER = (1.5, 0.3)
#: A number's digits written further apart than that ("504   192", "1    2    3"): pieces
#: ALONG_HIGH as high as the writing or more (and the writing as high as ALONG_HIGH of
#: them), whose rows lie ALONG_ROWS within its rows, strokes (not filling their box,
#: STROKE_FILL, unless narrow, a 1 ALONG_NARROW as wide as high; their ink's mean width
#: at most ALONG_WIDTH of their height: not a blot) where large enough to tell (ALONG_SEEN
#: pixels high: a small digit's strokes fill its box), and at most ALONG_GAP of its height
#: from it, one after another along the line, join it too.
ALONG_HIGH = 0.6
ALONG_ROWS = 0.7
ALONG_NARROW = 0.5
ALONG_WIDTH = 0.5
ALONG_SEEN = 20
ALONG_GAP = 6.0
#: One digit expected (``predict``), a piece left out of the writing is a digit beside it
#: (a number given to ``predict``: its other digits) when it is as high as ALONG_HIGH of
#: the writing or more (and the writing as high as ALONG_HIGH of it), its rows within the
#: writing's (ALONG_ROWS), at most BESIDE_GAP of the writing's height away on its line.
BESIDE_GAP = 1.5
#: (and no more than BESIDE_WIDE times as wide as high: a stroke across the page is no digit)
BESIDE_WIDE = 1.5
#: A piece is a stroke (not a finger or a shadow) when it covers at most STROKE_FILL of
#: its box and its ink's mean width is at most STROKE_WIDTH of its longer side.
STROKE_FILL = 0.8
STROKE_WIDTH = 0.4


@dataclass
class Writing:
    mask: np.ndarray  # (H, W) bool: the pixels of the writing's pieces
    box: tuple  # (top, bottom, left, right), bottom and right exclusive
    threshold: float
    ink: np.ndarray  # (H, W) bool: the pixels of every piece, the writing's and the others'
    form: bool = False  # a form's print was found, and taken out
    printed: np.ndarray | None = None  # (H, W) bool: the lines and print taken out
    #: the writing goes on beyond the frame: ink at the frame's edge, left out, lies
    #: within the joining distance of it (or it is at the edge itself)
    cut: bool = False
    #: the box (top, bottom, left, right) of a circle or box drawn round the writing and
    #: taken out (``enclosure``), or of a row of boxes a digit in each (``cells``), or None
    ring: tuple | None = None
    #: (H, W) bool: the straight strokes passed over as no writing (``_bars``: a pen lying
    #: on the page), or None
    bars: np.ndarray | None = None
    #: degrees the page is turned in the picture, measured by its ruling (``turned_lines``):
    #: the picture turned counter-clockwise by as much stands the page upright; 0 if not
    turn: float = 0.0
    #: one digit expected (``alone``): a digit-sized piece of ink left out beside it on its
    #: line (``_beside``): the picture holds a number
    beside: bool = False


def threshold(strength: np.ndarray, sigma: float) -> float | None:
    """The binarisation threshold: Otsu's among the pixels above the noise, no lower
    than NOISE_SIGMAS deviations or FAINTEST; None if nothing stands out."""
    floor = max(NOISE_SIGMAS * sigma, FAINTEST)
    above = strength[strength > floor]
    if above.size < 4:
        return None
    return max(otsu(above), floor)


def otsu(values: np.ndarray, bins: int = 64) -> float:
    """Otsu's threshold of ``values``: the level that best separates two classes."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return lo
    index = ((values - lo) * (bins / (hi - lo))).astype(np.intp)
    counts = np.bincount(np.minimum(index, bins - 1), minlength=bins)
    edges = lo + (hi - lo) / bins * np.arange(bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    total = weight[-1]
    mean = np.cumsum(counts * centres)
    between = (mean[-1] * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1)
    return float(edges[int(np.argmax(between[:-1])) + 1])


def runs(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The horizontal runs of True in ``binary`` (H, W), row by row, left to right:
    (rows, starts, ends), ends one past each run's last column."""
    h, w = binary.shape
    padded = np.zeros((h, w + 2), bool)
    padded[:, 1:-1] = binary
    # each run starts and ends in its row, so that its two edges come one after the other
    edges = np.flatnonzero(padded[:, 1:] != padded[:, :-1])
    rows, columns = np.divmod(edges, w + 1)
    return rows[::2], columns[::2], columns[1::2]


def _positions(rows, starts, lengths, width):
    """The flat indices of every pixel of the runs, run after run."""
    first = np.cumsum(lengths) - lengths
    return np.repeat(rows * width + starts - first, lengths) + np.arange(int(lengths.sum()))


def run_lengths(binary: np.ndarray) -> np.ndarray:
    """For each pixel of ``binary`` (H, W), the length of the horizontal run of True it
    belongs to (0 outside)."""
    rows, starts, ends = runs(binary)
    lengths = ends - starts
    out = np.zeros(binary.size, np.int64)
    out[_positions(rows, starts, lengths, binary.shape[1])] = np.repeat(lengths, lengths)
    return out.reshape(binary.shape)


def paper_lines(binary: np.ndarray, paper: bool = True, form: bool = False) -> np.ndarray:
    """The pixels of ``binary`` on straight lines that run across the frame (ruled or
    squared paper), near horizontal or near vertical (up to TILT degrees: a page not
    square to the camera); where a stroke crosses a line it is kept. With ``form``, also
    (or, without ``paper``, only) a form's level print (a line to write on, the edges of
    boxes): lines that need not span the frame but are long for the ink's height, and
    may be thicker (``_level_lines``); a box's upright sides are ``box_sides``'s."""
    return _lines(binary, paper, form)[0]


def _lines(binary: np.ndarray, paper: bool, form: bool) -> tuple[np.ndarray, np.ndarray]:
    """``paper_lines``, and which of them are a form's level print."""
    lines, printed = np.zeros_like(binary), np.zeros_like(binary)
    for flip in (False, True)[:1 + paper]:
        # (upright lines looked for once the level ones are gone: where two cross, what
        # is left of either is as thin as the other)
        b = (binary & ~lines).T if flip else binary
        # the lines made level: each column's ink moved by the slope's offset, and back
        rows, cols = np.nonzero(b)
        flat, back = _shear(b, _tilt(rows, cols, b.shape[1]))
        for found, into in zip(_lines_of(flat(b), paper, form and not flip), (lines, printed)):
            found = back(found)
            into |= found.T if flip else found
    return lines | printed, printed


def _may_hold_lines(binary: np.ndarray) -> bool:
    """Whether a row or a column of ``binary`` holds ink enough for a paper's line (a
    quick look before ``_lines``: level or upright lines only)."""
    h, w = binary.shape
    return bool(_sums(binary, 1).max(initial=0) >= max(LINE_LENGTH * w, LINE_PIXELS)
                or _sums(binary, 0).max(initial=0) >= max(LINE_LENGTH * h, LINE_PIXELS))


def _sloped_form_lines(binary: np.ndarray, least: float | None = None) -> np.ndarray:
    """A form's level lines at each slope of -TILT..TILT degrees (a camera tilted off the
    page turns its lines by different angles: one slope for all leaves some); ``least``:
    as ``_level_lines``'."""
    found = np.zeros_like(binary)
    for degrees in np.arange(-TILT, TILT + 0.5, FORM_SLOPE_STEP):
        flat, back = _shear(binary, _offsets(binary.shape[1], degrees))
        found |= back(_level_lines(flat(binary), form=True, least=least))
    return found


def _lines_of(b: np.ndarray, paper: bool, form: bool) -> tuple[np.ndarray, np.ndarray]:
    """``b``'s level lines: a paper's, and a form's unless the paper is ruled (two lines
    or more run across the frame: then they are the only print; one alone may be a
    form's line, the photo as wide as the form)."""
    found = _level_lines(b) if paper else np.zeros_like(b)
    if form and _spanning(found) < 2:
        return found, _level_lines(b, form=True)
    return found, np.zeros_like(b)


def _spanning(lines: np.ndarray) -> int:
    """How many of ``lines`` (bands of rows apart from each other) run across SPANNING of
    the frame's width."""
    return sum(end - 1 - start >= SPANNING * lines.shape[1] for _, start, end in _bands(lines))


def _bands(lines: np.ndarray) -> list[tuple[np.ndarray, int, int]]:
    """Each line of ``lines``: a band of rows holding line pixels (a stroke crossing a
    line cuts it in two; the band is one line), with the first column of its pixels and
    one past the last: [(rows, start, end)], top to bottom."""
    rows = np.flatnonzero(lines.any(axis=1))
    if not rows.size:
        return []
    out = []
    for band in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1):
        columns = np.flatnonzero(lines[band[0]:band[-1] + 1].any(axis=0))
        out.append((band, int(columns[0]), int(columns[-1]) + 1))
    return out


def box_sides(binary: np.ndarray, lines: np.ndarray, lean: bool = False) -> np.ndarray:
    """The pixels of ``binary`` on the upright sides of printed boxes: thin upright runs
    from one of the ``lines`` found to another (a comb's boxes, a frame round a number),
    each within a pixel or two of a line at both ends; where a stroke crosses a side
    (wider there than the widest side, SIDES_DOUBLE sides side by side) it is kept.
    With ``lean``, sides leaning by up to TILT degrees (a camera tilted off the page) too."""
    if not lines.any():
        return np.zeros_like(binary)
    if not lean:
        return _upright_sides(binary, lines)
    found = np.zeros_like(binary)
    for degrees in np.arange(-TILT, TILT + 0.5, FORM_SLOPE_STEP):
        # (the picture sheared so that sides leaning by ``degrees`` stand upright)
        flat, back = _shear(binary.T, _offsets(binary.shape[0], degrees))
        side = _upright_sides(flat(binary.T).T, flat(lines.T).T)
        found |= back(side.T).T
    return found


def _offsets(width: int, degrees: float) -> np.ndarray:
    """Each of ``width`` columns' offset in rows along a slope of ``degrees``."""
    return np.round(np.arange(width) * np.tan(np.radians(degrees))).astype(np.intp)


def _shear(mask: np.ndarray, offsets: np.ndarray):
    """Functions that move each column of an array shaped like ``mask`` up by its
    ``offsets`` (rows added above and below: ``pad``), and back to ``mask``'s shape."""
    pad = int(np.abs(offsets).max(initial=0))

    def flat(values):
        rows, cols = np.nonzero(values)
        out = np.zeros((values.shape[0] + 2 * pad, values.shape[1]), bool)
        out[rows - offsets[cols] + pad, cols] = True
        return out

    def back(values):
        rows, cols = np.nonzero(values)
        out = np.zeros(mask.shape, bool)
        out[rows + offsets[cols] - pad, cols] = True
        return out

    return flat, back


def _upright_sides(binary: np.ndarray, lines: np.ndarray) -> np.ndarray:
    rest = binary & ~lines
    widest = max(SIDE_WIDTH, int(np.median(run_lengths(lines.T).T[lines])) + 2)
    # (a side may lean by a pixel or two over its height: runs measured on the ink grown
    # by a column either side, and the lines by GAP rows up and down)
    grown = rest.copy()
    grown[:, 1:] |= rest[:, :-1]
    grown[:, :-1] |= rest[:, 1:]
    # (where a side crosses a line, the line's pixels are the side's: a run reaches the
    # line's rows in the columns beside it)
    near = lines.copy()
    for shift in range(1, GAP + 1):
        near[shift:] |= lines[:-shift]
        near[:-shift] |= lines[shift:]
    wide = near.copy()
    for shift in range(1, widest):
        wide[:, shift:] |= near[:, :-shift]
        wide[:, :-shift] |= near[:, shift:]
    columns, starts, ends = runs(grown.T)  # upright runs: (column, first row, one past the last)
    h = binary.shape[0]
    lengths = ends - starts
    positions = _positions(columns, starts, lengths, h)
    # (from one line to another: SIDE_MIN rows or more of the run away from any line)
    away = np.add.reduceat(~near.T.reshape(-1)[positions], np.cumsum(lengths) - lengths) \
        if len(lengths) else lengths
    foot, head = wide[ends - 1, columns], wide[starts, columns]
    keep = foot & head & (away >= SIDE_MIN)
    free = rest & ~near
    for standing in (foot & ~head, head & ~foot):
        keep |= _ticks(free, (columns, starts, ends), away, standing)
    sides = np.zeros(binary.size, bool)
    sides[positions[np.repeat(keep, lengths)]] = True
    sides = sides.reshape(binary.shape[1], h).T & rest
    return sides & (run_lengths(rest) <= SIDES_DOUBLE * widest)


def _ticks(free: np.ndarray, runs_: tuple, away: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """Which upright runs (``runs_``: columns, first rows, ends) are a comb's ticks: of the
    runs ``standing`` on a line at one end only, SIDE_MIN or more of their length ``away``
    from the lines, the marks (runs in neighbouring columns), at least TICKS of them as
    long as each other (within TICK_SPREAD of their length), evenly spaced (each gap one
    step or a few, each step within TICK_SPREAD of the next), TICKS_ALONE of them alone in
    ``free`` (the ink off the lines: nothing within TICK_CLEAR pixels round them), and
    at most TICK_SHORT of the height of the ink beside them: a form prints its ticks
    alike, in step and short, a hand does not write its digits' strokes so. Then the
    marks as long a step or more from them too (ticks a digit touches)."""
    columns, starts, ends = runs_
    keep = np.zeros(len(columns), bool)
    candidates = np.flatnonzero(standing & (away >= SIDE_MIN))
    if len(candidates) < TICKS:
        return keep
    candidates = candidates[np.argsort(columns[candidates], kind="stable")]
    # the marks: runs of neighbouring columns; each one's box and length
    mark = np.cumsum(np.r_[0, np.diff(columns[candidates]) > 1])
    first = np.flatnonzero(np.r_[1, np.diff(mark)])
    length = np.maximum.reduceat(away[candidates], first)
    if len(length) < TICKS:
        return keep
    left = columns[candidates][first]
    right = np.maximum.reduceat(columns[candidates], first) + 1
    top = np.minimum.reduceat(starts[candidates], first)
    bottom = np.maximum.reduceat(ends[candidates], first)
    total = np.zeros((free.shape[0] + 1, free.shape[1] + 1), np.int64)  # an integral image
    total[1:, 1:] = free.cumsum(axis=0).cumsum(axis=1)

    def ink_in(t, b, lf, r):
        t, b = np.clip(t, 0, free.shape[0]), np.clip(b, 0, free.shape[0])
        lf, r = np.clip(lf, 0, free.shape[1]), np.clip(r, 0, free.shape[1])
        return total[b, r] - total[t, r] - total[b, lf] + total[t, lf]

    c = TICK_CLEAR  # (beyond the columns of its shorter runs: a blurred mark's edges)
    alone = (ink_in(top - c, bottom + c, left - 2 - c, right + 2 + c)
             == ink_in(top, bottom, left - 2, right + 2))
    alike = np.abs(length[:, None] - length[None, :]) <= np.maximum(TICK_SPREAD * length[:, None], GAP)
    for best in np.argsort(-alike.sum(axis=1), kind="stable")[:3]:
        group = np.flatnonzero(alike[best])
        # (in step all of them, or the ones alone: a digit's stroke may be as long)
        for chosen in (group, group[alone[group]]):
            if len(chosen) < TICKS or alone[chosen].sum() < TICKS_ALONE:
                continue
            centres = (left[chosen] + right[chosen]) / 2
            gaps = np.diff(centres)
            # (each gap a step or a few; a step as long as the next one's, within
            # TICK_SPREAD: a camera tilted off the page draws them longer across it)
            count = np.round(gaps / max(float(gaps.min()), 1.0))
            steps = gaps / count
            if (gaps.min() > 2 * c and np.all(np.abs(np.diff(steps)) <= TICK_SPREAD * steps[1:])
                    and np.all(np.abs(gaps / steps.min() - count) <= 2 * TICK_SPREAD * count)
                    and length[chosen].max() <= TICK_SHORT * _height(free, left[chosen], right[chosen])):
                # and the ticks a digit touches: marks as long, a step or two from the others
                step = float(np.median(steps))
                place = np.abs((left + right)[:, None] / 2 - centres[None, :]).min(axis=1) / step
                in_step = np.abs(place - np.round(place)) <= TICK_SPREAD
                like = np.abs(length - np.median(length[chosen])) <= np.maximum(
                    TICK_SPREAD * np.median(length[chosen]), GAP)
                ticks = np.union1d(chosen, np.flatnonzero(in_step & like))
                keep[candidates[np.isin(mark, ticks)]] = True
                return keep
    return keep


def _height(free: np.ndarray, left: np.ndarray, right: np.ndarray) -> int:
    """How many rows the ink ``free`` spans (between its BAND percentiles), the columns
    from each ``left`` to ``right`` left out."""
    columns = np.ones(free.shape[1], bool)
    for a, b in zip(left, right):
        columns[a:b] = False
    rows = np.nonzero(free[:, columns])[0]
    if not len(rows):
        return 0
    low, high = np.quantile(rows, BAND)
    return int(high - low) + 1


def _tilt(rows: np.ndarray, cols: np.ndarray, width: int) -> np.ndarray:
    """Each column's offset in rows that makes the lines of the ink at (``rows``,
    ``cols``) level: the slope (of -TILT..TILT degrees) whose rows hold the ink most
    unevenly (sum of squared counts)."""
    step = max(1, rows.size // 20_000)
    rows, cols = rows[::step], cols[::step]
    best, best_score = np.zeros(width, np.intp), -1.0
    for degrees in sorted(range(-TILT, TILT + 1), key=abs):  # level first, on ties
        offsets = _offsets(width, degrees)
        shifted = rows - offsets[cols]
        counts = np.bincount(shifted - shifted.min(initial=0)).astype(np.float64)
        score = float(counts @ counts)
        if score > best_score * (1 + 1e-6):
            best, best_score = offsets, score
    return best


def _level_lines(b: np.ndarray, form: bool = False, least: float | None = None) -> np.ndarray:
    """The pixels of ``b`` on horizontal lines across it, thin, long runs; with ``form``,
    a form's: FORM_LENGTH of the ink's width and FORM_ASPECT of its height long or more
    (or ``least`` pixels)."""
    # a line may wander by a pixel, and noise break a paper's line: runs are measured on
    # the ink grown by a row up and down and (not for a form's print, unbroken: digits'
    # bars in a row are apart) two columns either side
    grown = b.copy()
    grown[1:] |= b[:-1]
    grown[:-1] |= b[1:]
    across = grown.copy()
    for shift in () if form else (1, 2):
        across[:, shift:] |= grown[:, :-shift]
        across[:, :-shift] |= grown[:, shift:]
    grown = across
    length = max(LINE_LENGTH * b.shape[1], LINE_PIXELS)
    if form:  # most of the ink's width, and long for its height (not a digit's bar)
        if least:  # (one digit's print: ``alone_print``)
            low, top = _counted(_sums(b, 1), BAND) if b.any() else (0.0, 0.0)
            high, length = top - low, least
        else:
            rows, columns = np.nonzero(b)
            wide = np.ptp(np.quantile(columns, BAND)) if columns.size else 0.0
            high = np.ptp(np.quantile(rows, BAND)) if rows.size else 0.0
            length = max(FORM_LENGTH * wide, FORM_ASPECT * high, LINE_PIXELS)
    if grown.sum(axis=1).max(initial=0) < length:
        return np.zeros_like(b)  # no row holds enough ink for a line
    along = run_lengths(grown)
    long = along >= length
    across = run_lengths(b.T).T
    # (their width measured where they span the frame: no stroke does)
    if form:  # (measured on the long runs: a form's lines need not span the frame)
        width = _line_width(across[long & b], max(FORM_WIDTH_MAX, int(FORM_WIDTH_SHARE * min(b.shape))))
    else:
        width = _line_width(across[(along >= SPANNING * b.shape[1]) & b])
    thin = long & (across <= width) & b
    # a line is thin along most of its length: its thin pixels (give or take a row) cover
    # FORM_STRAIGHT of its run's columns for a form's (where strokes overlap, bits of
    # their curves in one row do not), LINE_THIN for a paper's that does not span the
    # frame (a 1 in a crop round a number is long, but thin only at its tips)
    band = thin.copy()
    band[1:] |= thin[:-1]
    band[:-1] |= thin[1:]
    rows, starts, ends = runs(long)
    counted = np.zeros((b.shape[0], b.shape[1] + 1), np.int64)
    np.cumsum(band, axis=1, out=counted[:, 1:])
    covered = counted[rows, ends] - counted[rows, starts]
    if form:
        straight = (covered >= FORM_STRAIGHT * (ends - starts)) | (ends - starts >= FORM_LONG * high)
    else:
        straight = (covered >= LINE_THIN * (ends - starts)) | (ends - starts >= SPANNING * b.shape[1])
    kept = np.zeros(b.size, bool)
    kept[_positions(rows[straight], starts[straight], (ends - starts)[straight], b.shape[1])] = True
    return thin & kept.reshape(b.shape)


def _line_width(across: np.ndarray, widest: int = LINE_WIDTH_MAX) -> int:
    """How thick the paper's lines are, from the runs across them (``across``: the
    lengths across the long runs' pixels, mostly the lines'): their median and a pixel
    when that is up to ``widest`` (blur and a photo's scale thicken lines), else
    LINE_WIDTH."""
    if not across.size:
        return LINE_WIDTH
    width = int(np.median(across)) + 1
    # (wider than any line: a page's edge, which spans the frame too)
    return width if LINE_WIDTH < width <= widest else LINE_WIDTH


@dataclass
class Pieces:
    """Connected pieces (8-neighbourhood) of a binary image, described by their runs."""
    labels: np.ndarray  # (H, W): 0 for none, 1..n
    n: int
    rows: np.ndarray  # each run's row, first column, one past its last, and piece (0..n-1)
    starts: np.ndarray
    ends: np.ndarray
    piece: np.ndarray


def label(binary: np.ndarray) -> Pieces:
    """The connected pieces of ``binary``. Each run is linked to the runs it touches in
    the row below (found for all runs at once by binary search), and the links are
    resolved by hooking each run to the smallest run it is linked to, until none moves."""
    h, w = binary.shape
    rows, starts, ends = runs(binary)
    n = len(rows)
    stride = w + 2  # keys row * stride + column grow along the runs' order
    first_end = np.searchsorted(rows * stride + ends, (rows + 1) * stride + starts, "left")
    past_start = np.searchsorted(rows * stride + starts, (rows + 1) * stride + ends, "right")
    counts = np.maximum(past_start - first_end, 0)
    a = np.repeat(np.arange(n), counts)
    b = np.repeat(first_end, counts) + np.arange(int(counts.sum())) - np.repeat(
        np.cumsum(counts) - counts, counts)
    parent = np.arange(n)
    while len(a):
        low = np.minimum(parent[a], parent[b])
        before = parent.copy()
        np.minimum.at(parent, parent[a], low)
        np.minimum.at(parent, parent[b], low)
        while True:  # pointer jumping: every run straight to its root
            jumped = parent[parent]
            if (jumped == parent).all():
                break
            parent = jumped
        if (parent == before).all():
            break
    # each run's piece: the rank of its root (its piece's first run) among the roots
    root = parent == np.arange(n)
    piece = (np.cumsum(root) - 1)[parent]
    labels = np.zeros(binary.size, np.int32)
    lengths = ends - starts
    labels[_positions(rows, starts, lengths, w)] = np.repeat(piece + 1, lengths)
    return Pieces(labels.reshape(h, w), int(np.count_nonzero(root)), rows, starts, ends, piece)


@dataclass
class Stats:
    """Per piece: pixels, ink (sum of strength), strongest pixel, box edges."""
    area: np.ndarray
    mass: np.ndarray
    peak: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray


def measure(found: Pieces, strength: np.ndarray) -> Stats:
    """Each piece's size, ink and box, from its runs."""
    n, k = found.n, found.piece
    h, w = strength.shape
    lengths = found.ends - found.starts
    pixels = strength.reshape(-1)[_positions(found.rows, found.starts, lengths, w)]
    # (the runs' pixels in raster order: each piece's ink summed in the picture's order)
    mass = np.bincount(np.repeat(k, lengths), weights=pixels, minlength=n)
    run_peak = np.maximum.reduceat(pixels, np.cumsum(lengths) - lengths) if len(k) else pixels
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, k, run_peak)
    top, left = np.full(n, h), np.full(n, w)
    bottom, right = np.zeros(n, np.int64), np.zeros(n, np.int64)
    np.minimum.at(top, k, found.rows)
    np.maximum.at(bottom, k, found.rows + 1)
    np.minimum.at(left, k, found.starts)
    np.maximum.at(right, k, found.ends)
    return Stats(np.bincount(k, weights=lengths, minlength=n), mass, peak, top, bottom, left, right)


def writing(strength: np.ndarray, sigma: float, join: tuple = JOIN,
            paper: bool = True, longest: bool = False, form: bool = False,
            alone: bool = False, turn: float | None = None, scale: float = 1.0,
            frame: tuple | None = None) -> Writing | None:
    """The writing in ``strength`` (H, W): the dominant piece of ink and the pieces
    near it; None if there is no ink.

    Hysteresis: pieces are the ink above a low threshold (HYSTERESIS x the adaptive
    one, so that faint or broken strokes hold together), and only those reaching the
    adaptive threshold somewhere count. ``join`` is in units of the writing's height, or
    with ``longest`` of its longest side (one digit: a 5's bar, wider than high, is as
    much the digit as its hook further below). With ``alone`` (one digit is expected),
    the print of a form round it goes (``alone_print``). On paper, a ruling turned by
    more than TILT degrees goes first (``turned_lines``; ``turn``: the angle measured on
    a larger view of the page, 0 for none; ``scale``: how much finer this view is;
    ``frame``: (top, bottom, left, right) of the picture itself, paper added round it)."""
    from .light import box3

    smooth = box3(strength)  # against noise and speckled strokes (pencil, chalk)
    t = threshold(smooth, sigma)
    if t is None:
        return None
    low = max(HYSTERESIS * t, NOISE_SIGMAS * sigma, FAINTEST)
    binary = (smooth > low) | (strength > t)  # (a crisp stroke one pixel wide smooths away)
    on_form, removed = False, None
    boxes: list[tuple[int, int, int, int]] = []
    pieces: Pieces | None = label(binary)  # (kept while nothing is taken out)
    ring = enclosure(binary, pieces, frame)
    if ring.any():  # a circle or a box drawn round the writing (the threshold found again
        # without it); not a form's print: ``form`` says whether there was one
        t, binary, ring = _past_print(smooth, strength, sigma, t, binary, ring)
        binary &= ~ring
        removed, pieces = ring, None
    if paper and turn != 0.0:  # a page turned in the photo: its ruling at an angle
        # (the angle told by the faintest ink: a ruling too faint to binarise still turns
        # the page, and the digit with it)
        floor = max(NOISE_SIGMAS * sigma, FAINTEST)
        turned, turn = turned_lines(binary, binary | (smooth > floor), turn, scale, frame)
        if turned.any():
            binary &= ~turned
            removed = turned if removed is None else removed | turned
            pieces = None
    if paper or form:  # (a drawing's lines are its strokes; a form's printed ones are not)
        # a row of boxes apart from each other, a digit in each (not a comb: its lines,
        # which may look unbroken in a small copy, are not looked for)
        boxes, boxed = (cells(binary, pieces), binary) if form else ([], binary)
        if form and paper and not boxes:  # (grey print in a photo breaks up: looked for
            # again in the ink binarised lower, LINE_LOW, as a paper's faint lines are)
            boxed = binary | (smooth > LINE_LOW * low)
            boxes = cells(boxed)
        lines, printed = _lines(binary, paper, form and not boxes)
        if paper:  # (the paper's lines again, in the ink binarised lower, LINE_LOW: faint
            # lines whole, not dashes; where the first look found lines or that ink may hold them)
            faint = binary | (smooth > LINE_LOW * low)
            if lines.any() or _may_hold_lines(faint):
                lines |= _lines(faint, True, False)[0] & binary & (smooth < t)
        on_form = bool(printed.any())
        if on_form:  # a form's print (not ruled paper, nor a margin line alone)
            found = lines | _sloped_form_lines(binary)
            sides = box_sides(binary, found, lean=True)
            on_form = _uprights(sides, found) >= 2 or not _own_stroke(binary & ~found, printed)
            lines = found | sides if on_form else lines & ~printed
        if boxes:
            lines |= cell_print(boxed, boxes) & binary
            on_form = True
        if on_form:
            t, binary, lines = _past_print(smooth, strength, sigma, t, binary, lines)
            join = (max(join[0], FORM_JOIN), join[1])  # a comb's boxes hold digits far apart
        if not (binary & ~lines).any():
            raise NoDigitError(ONLY_LINES)
        binary &= ~lines
        removed = lines if removed is None else removed | lines
        if lines.any():
            pieces = None
    if alone:
        alone_lines = alone_print(binary)
        if alone_lines.any():
            if removed is not None:  # (ruled paper's lines too, should the ink be binarised again)
                alone_lines |= removed
            t, binary, alone_lines = _past_print(smooth, strength, sigma, t, binary, alone_lines,
                                                 PRINT_DARKER)
        binary &= ~alone_lines
        removed = alone_lines if removed is None else removed | alone_lines
        if alone_lines.any():
            pieces = None
    found = label(binary) if pieces is None else pieces
    if found.n == 0:
        return None
    stats = measure(found, np.maximum(smooth, strength))
    h, w = binary.shape
    edge = (stats.top == 0) | (stats.left == 0) | (stats.bottom == h) | (stats.right == w)
    # a piece at the frame's edge, across most of it and filling its box (not strokes):
    # a page edge or a shadow's
    height, width = stats.bottom - stats.top, stats.right - stats.left
    spans = (height > SPAN * h) | (width > SPAN * w)
    filled = stats.area > FILLED * height * width
    length = np.maximum(height, width)
    thin = length * length > THIN * stats.area  # (a line along a shadow's edge)
    page = spans & (filled | thin) & paper
    if not paper:  # (on a canvas a stroke may reach the frame: no page edge, no finger)
        edge[:] = False
    score = stats.mass * np.where(edge, np.where(page, 0.0, EDGE_WEIGHT), 1.0)
    score[stats.peak <= t] = 0.0
    if score.max() <= 0:
        return None
    bars = _bars(found, stats, score)
    score[bars] = 0.0
    best = int(np.argmax(score))
    # (a piece counts where it reaches the threshold somewhere; for one digit on a flat
    # background, which has no noise, its fainter pieces too: a 7's bar drawn lighter)
    keep = (stats.area >= SPECK * stats.area[best]) & ~edge & ~bars \
        & ((stats.peak > t) | (alone and not paper))

    def gathered():
        chosen, box = _gather(stats, best, keep, join, longest)
        if not alone:  # a number's digits far apart along its line
            chosen, box = _along(found, binary, stats, chosen, box, keep, join)
        return chosen, box

    chosen, box = gathered()
    small = stats.area[chosen] < LATTICE_SPECK * stats.area[best]
    if len(chosen) >= LATTICE_PIECES and small.mean() >= LATTICE_SHARE \
            and _lattice(stats, np.asarray(chosen)[small]):
        # a lattice of specks gathered: a grid's crossings (its thin lines fainter than the
        # threshold in a small copy, where they cross twice as dark), the writing among them
        keep &= stats.area >= LATTICE_SPECK * stats.area[best]
        chosen, box = gathered()
    # strokes at the frame's edge next to the writing (not a page's edge or a shadow's,
    # which span the frame, nor a finger or a shadow, which fill their box or are broad):
    # the writing may go on beyond the frame
    beyond = edge & ~page & (stats.peak > t) & (stats.area >= SPECK * stats.area[best])
    beyond[chosen] = False
    beyond = _near(stats, box, beyond, join, longest)
    if beyond.any():
        beyond &= _strokes(found, binary, stats)
    cut = bool(edge[chosen].any()) or bool(beyond.any())
    wanted = np.zeros(found.n, bool)
    wanted[chosen] = True
    runs_kept = wanted[found.piece]  # the chosen pieces' pixels, from their runs
    mask = np.zeros(binary.size, bool)
    mask[_positions(found.rows[runs_kept], found.starts[runs_kept],
                    found.ends[runs_kept] - found.starts[runs_kept], w)] = True
    ring_box = None
    if ring.any():
        rows, columns = np.flatnonzero(ring.any(axis=1)), np.flatnonzero(ring.any(axis=0))
        ring_box = (int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1)
    if boxes:  # (a row of boxes: seen whole in a closer look, and taken out again)
        ring_box = (min(b[0] for b in boxes), max(b[1] for b in boxes),
                    min(b[2] for b in boxes), max(b[3] for b in boxes))
    stray = np.isin(found.labels, np.flatnonzero(bars) + 1) if bars.any() else None
    beside = alone and _beside(stats, chosen, box, keep)
    return Writing(mask.reshape(h, w), box, t, binary, on_form, removed, cut, ring_box, stray,
                   float(turn or 0.0), beside)


def _beside(stats: Stats, chosen: list, box: tuple, keep: np.ndarray) -> bool:
    """Whether pieces stand side by side on the writing's line as digits would (as high as
    ALONG_HIGH of the writing's ``box`` or more, the writing as high as ALONG_HIGH of them,
    their rows within its rows, ALONG_ROWS, at most BESIDE_WIDE as wide as high): two of
    the writing's ``chosen`` pieces apart, or one that ``keep`` allows, left out, at most
    BESIDE_GAP of its height from it."""
    top, bottom, left, right = box
    height = bottom - top
    high = stats.bottom - stats.top
    rows = np.minimum(stats.bottom, bottom) - np.maximum(stats.top, top)
    digit = ((high >= ALONG_HIGH * height) & (ALONG_HIGH * high <= height) & (rows >= ALONG_ROWS * high)
             & (stats.right - stats.left <= BESIDE_WIDE * high))
    inside = np.zeros(len(keep), bool)
    inside[chosen] = True
    gap = np.maximum(stats.left - right, left - stats.right)
    if (digit & keep & ~inside & (gap >= 0) & (gap <= BESIDE_GAP * height)).any():
        return True
    ours = np.flatnonzero(digit & inside)  # two of its own apart: a number joined whole
    lefts, rights = stats.left[ours], stats.right[ours]
    return bool((lefts[:, None] >= rights[None, :]).any())


def turned_lines(binary: np.ndarray, faint: np.ndarray, degrees: float | None = None,
                 scale: float = 1.0, frame: tuple | None = None) -> tuple[np.ndarray, float]:
    """A page turned in the photo by more than TILT degrees (up to TURN): the pixels of
    ``binary`` on its ruling, and the angle of the ruling in degrees (clockwise, as seen);
    nothing and 0 if there is no such ruling. ``faint`` is the ink binarised lower, where
    a faint line is whole. The angle is the one whose lines (turned level) hold the ink most
    unevenly; the ruling is TURN_LINES or more lines at that angle (and any at right angles
    to it: squared paper), each a band whose ink covers TURN_FILL of the frame along it.
    With ``degrees`` (measured on a larger view of the page: a crop round the writing may
    show few lines whole), any such lines at that angle are the ruling. A line is at most
    TURN_THICK pixels thick, with its blurred edges (``scale`` times as many in a crop at a
    finer scale than the view the angle was measured on). Where a stroke
    crosses a line (ink of neither set of lines within TURN_CROSS pixels of it on both
    sides), the line is kept. With ``frame`` ((top, bottom, left, right): the picture
    itself, with paper added round it), the ruling is looked for within the frame, and its
    lines run to the frame's edges."""
    none = np.zeros_like(binary), 0.0
    if frame is not None:
        top, bottom, left, right = frame
        inner, degrees = turned_lines(binary[top:bottom, left:right], faint[top:bottom, left:right],
                                      degrees, scale)
        out = np.zeros_like(binary)
        out[top:bottom, left:right] = inner
        return out, degrees
    rows, cols = np.nonzero(faint)
    if rows.size < TURN_LINES * LINE_PIXELS:
        return none
    least, thick = 1, TURN_THICK * max(1.0, scale)
    if degrees is None:
        # (a quick look first: a ruling runs across the frame, its ink in most parts of it)
        h, w = faint.shape
        parts = np.zeros((TURN_PARTS, TURN_PARTS), bool)
        parts[rows * TURN_PARTS // h, cols * TURN_PARTS // w] = True
        if parts.mean() < TURN_SPREAD:
            return none
        degrees, least = _turn(rows, cols), TURN_LINES
        if abs(degrees) <= TILT or abs(degrees) >= TURN - 1:
            return none  # (level lines: ``paper_lines``; at the search's end, no angle)
    crop = least == 1  # (a crop round the writing: the lines run to its edges, strokes do not)
    rulings = [_Ruling(binary.shape, rows, cols, degrees, thick, crop)]
    if rulings[0].count < least:
        return none
    rulings.append(_Ruling(binary.shape, rows, cols, degrees + 90, thick, crop))
    on = [ruling.on(rows, cols) for ruling in rulings]
    strokes = ~(on[0] | on[1])  # (the ink of neither: the writing's)
    by, bx = np.nonzero(binary)
    found = np.zeros(by.size, bool)
    for ruling in rulings:
        found |= ruling.on(by, bx) & ~ruling.crossed(by, bx, rows[strokes], cols[strokes])
    out = np.zeros_like(binary)
    out[by[found], bx[found]] = True
    return out, degrees


def _turn(rows: np.ndarray, cols: np.ndarray) -> float:
    """The angle (degrees, -TURN..TURN) at which the ink at (``rows``, ``cols``) lies in
    lines: the one whose lines hold it most unevenly (sum of squared counts), to a tenth
    of a degree."""
    step = max(1, rows.size // 5_000)
    y, x = rows[::step].astype(np.float64), cols[::step].astype(np.float64)

    def unevenness(degrees: float) -> float:
        v = _across(y, x, degrees)
        counts = np.bincount(v - v.min()).astype(np.float64)
        return float(counts @ counts)

    coarse = max(np.arange(-TURN, TURN, 1.0), key=unevenness)
    return round(float(max(coarse + np.arange(-1.0, 1.05, 0.1), key=unevenness)), 1)


def _across(y: np.ndarray, x: np.ndarray, degrees: float) -> np.ndarray:
    """Which of the lines at ``degrees`` (one a pixel apart) each point (``y``, ``x``)
    lies on."""
    t = np.radians(degrees)
    return np.round(y * np.cos(t) - x * np.sin(t)).astype(np.intp)


def _along_lines(y: np.ndarray, x: np.ndarray, degrees: float) -> np.ndarray:
    """How far along the lines at ``degrees`` each point (``y``, ``x``) lies, in pixels."""
    t = np.radians(degrees)
    return np.round(x * np.cos(t) + y * np.sin(t)).astype(np.intp)


def _evenly_spaced(bands: np.ndarray) -> bool:
    """Whether lines ``bands`` ((start, end) each, in order) are spaced as a paper's ruling
    is: each gap a whole number of the smallest, within TURN_EVEN of it (a line may be
    hidden), and the smallest more than twice as wide as the lines are thick."""
    if len(bands) < 2:
        return True
    gaps = np.diff(bands.mean(axis=1))
    step = gaps.min()
    if step <= 2 * np.ptp(bands, axis=1).max():
        return False
    return bool(np.all(np.abs(gaps - np.round(gaps / step) * step) <= TURN_EVEN * step + 1))


def _chords(shape: tuple, degrees: float, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of the ``lines`` at ``degrees`` (``_across``'s numbers) enters and
    leaves a frame ``shape``, along it (``_along_lines``'s measure; as long as the pixels
    on it, for a line a pixel wide, where it is in the frame)."""
    h, w = shape
    t = np.radians(degrees)
    c, s = np.cos(t), np.sin(t)
    v = lines.astype(np.float64)
    # the line's points are v * (-s, c) + r * (c, s) in (x, y): the r where x, then y, is
    # within the frame (its pixels' outer edges)
    lo, hi = np.full(v.shape, -np.inf), np.full(v.shape, np.inf)
    for start, size, offset, step in ((-0.5, w, v * s, c), (-0.5, h, -v * c, s)):
        if abs(step) < 1e-12:  # (level, or upright: all of the frame or none)
            inside = (-offset >= start) & (-offset <= start + size)
            lo, hi = np.where(inside, lo, 0.0), np.where(inside, hi, 0.0)
            continue
        a, b = (start + offset) / step, (start + size + offset) / step
        lo, hi = np.maximum(lo, np.minimum(a, b)), np.minimum(hi, np.maximum(a, b))
    return lo, hi


def _thin_bands(on: np.ndarray, counts: np.ndarray, thick: float) -> tuple:
    """The bands of lines ``on`` (with the line beside each that holds ink: its blurred
    edge), those thicker than ``thick`` (a stroke along the lines: a tight crop's) left
    out: (whether each line is in one, every band's first line, every band's end)."""
    bands = on.copy()
    bands[1:] |= on[:-1] & (counts[1:] > 0)
    bands[:-1] |= on[1:] & (counts[:-1] > 0)
    edges = np.diff(np.concatenate([[0], bands.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for start, end in zip(starts, ends):
        if end - start > thick:
            bands[start:end] = False
    return bands, starts, ends


class _Ruling:
    """The lines at ``degrees`` (one a pixel apart) of a frame ``shape`` whose ink (at
    ``rows``, ``cols``) covers TURN_FILL of the frame along them, with the line beside
    each that holds its blurred edge: bands of lines no thicker than ``thick`` (a paper's
    line, not a stroke), ``count`` of them long. With ``to_edges``, only lines whose ink runs
    to the frame's edge at both ends (in a crop round the writing, whose strokes do not)."""

    def __init__(self, shape: tuple, rows: np.ndarray, cols: np.ndarray, degrees: float,
                 thick: float, to_edges: bool = False):
        self.degrees = degrees
        h, w = shape
        corners = _across(np.array([0, 0, h - 1, h - 1]), np.array([0, w - 1, 0, w - 1]), degrees)
        self.low = int(corners.min())
        enter, leave = _chords(shape, degrees, np.arange(self.low, int(corners.max()) + 1))
        chord = np.maximum(leave - enter, 0.0)
        v = _across(rows, cols, degrees) - self.low
        counts = np.bincount(v, minlength=chord.size)
        on = (counts >= TURN_FILL * chord) & (chord >= LINE_PIXELS)
        if to_edges:  # (ink within TURN_END of the frame's edge at both ends: a line, not a stroke)
            u = _along_lines(rows, cols, degrees)
            first = np.full(chord.size, np.inf)
            last = np.full(chord.size, -np.inf)
            np.minimum.at(first, v, u)
            np.maximum.at(last, v, u)
            near = np.maximum(TURN_END, TURN_END * chord / LINE_PIXELS)
            # (a stroke along the lines thicker than a line stays one where only its edges
            # reach the ends)
            on &= (first <= enter + near) & (last >= leave - near) & _thin_bands(on, counts, thick)[0]
        bands, starts, ends = _thin_bands(on, counts, thick)
        thin = ends - starts <= thick
        starts, ends = starts[thin], ends[thin]
        # (counted where they run LINE_LENGTH of the frame's longer side or more: a stroke
        # may fill a short line in a corner of a picture cropped tight round it)
        long = on & (chord >= LINE_LENGTH * max(shape))
        self.bands = bands
        counted = [(start, end) for start, end in zip(starts, ends) if long[start:end].any()]
        self.count = len(counted) if _evenly_spaced(np.array(counted).reshape(-1, 2)) else 0
        self.first = np.zeros(chord.size, np.intp)  # each band's first and last line
        self.last = np.zeros(chord.size, np.intp)
        for start, end in zip(starts, ends):
            self.first[start:end], self.last[start:end] = start, end - 1

    def on(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Whether each point (``y``, ``x``) lies in a band."""
        return self.bands[_across(y, x, self.degrees) - self.low]

    def crossed(self, y: np.ndarray, x: np.ndarray, stroke_y: np.ndarray, stroke_x: np.ndarray
                ) -> np.ndarray:
        """Whether a stroke (ink at ``stroke_y``, ``stroke_x``) crosses the band at each
        point (``y``, ``x``) of a band: it lies 2 to TURN_CROSS + 1 lines past the band's
        edge on both sides (past its blurred edge), within TURN_CROSS + 1 pixels along it."""
        v, u = _across(y, x, self.degrees) - self.low, _along_lines(y, x, self.degrees)
        sv = _across(stroke_y, stroke_x, self.degrees) - self.low
        su = _along_lines(stroke_y, stroke_x, self.degrees)
        if not sv.size:
            return np.zeros(v.size, bool)
        span = TURN_CROSS + 2
        u_low = int(min(su.min(), u.min(initial=0))) - span
        width = int(max(su.max(), u.max(initial=0))) - u_low + span + 1
        marked = np.zeros((self.bands.size + 2 * span, width), bool)
        marked[sv + span, su - u_low] = True
        grid = marked.copy()  # (up to ``span`` pixels either way along the line: a
        for shift in range(1, span):  # stroke crossing it aslant)
            grid[:, shift:] |= marked[:, :-shift]
            grid[:, :-shift] |= marked[:, shift:]
        u = u - u_low
        above, below = np.zeros(v.size, bool), np.zeros(v.size, bool)
        for k in range(2, TURN_CROSS + 2):
            above |= grid[self.first[v] - k + span, u]
            below |= grid[self.last[v] + k + span, u]
        return above & below


def _lattice(stats: Stats, specks: np.ndarray) -> bool:
    """Whether the pieces ``specks`` lie on a grid's rows and columns: LATTICE_ALIGNED of
    them or more have their nearest neighbour LATTICE_APART pixels away or more, level or
    upright with them (within LATTICE_LEVEL pixels; sensor noise's specks lie any way,
    and where they are dense, any neighbour is nearly level with them). At most
    LATTICE_LOOK of them are looked at."""
    cy = (stats.top[specks] + stats.bottom[specks]) / 2
    cx = (stats.left[specks] + stats.right[specks]) / 2
    look = slice(0, LATTICE_LOOK)
    distance = np.hypot(cy[look, None] - cy[None], cx[look, None] - cx[None])
    np.fill_diagonal(distance, np.inf)  # (the first rows: each speck against the others)
    nearest = distance.argmin(axis=1)
    apart = distance.min(axis=1) >= LATTICE_APART
    level = np.abs(cy[look] - cy[nearest]) <= LATTICE_LEVEL
    upright = np.abs(cx[look] - cx[nearest]) <= LATTICE_LEVEL
    return bool(np.mean(apart & (level | upright)) >= LATTICE_ALIGNED)


def enclosure(binary: np.ndarray, found: Pieces | None = None, frame: tuple | None = None
              ) -> np.ndarray:
    """The pixels of a circle, an oval or a box drawn round the writing (by hand or
    printed): the largest piece away from the frame's edge, or the two widest pieces one
    above the other (the arcs of a line broken at its ends by the picture's noise or
    scale), taken as a line (its pixels within a stroke and a half of what lies outside
    it) round the rest of the writing: what it closes in (other pieces within it, and the
    strokes of it beyond that line: digits it touches) holds ENCLOSED of the ink but its
    own or more, is as high as RING_CONTENT of it at least (not a speck in a 0), and the
    line is thin (at most RING_FILL of the area it closes). A digit's loop holds no digit.
    Empty where there is no such piece, or where it touches every digit (one piece).
    ``found``: ``binary``'s pieces, if labelled already; ``frame``: (top, bottom, left,
    right) of the picture itself, paper added round it (a piece at its edge is cut there,
    not closed)."""
    found = label(binary) if found is None else found
    none = np.zeros_like(binary)
    if found.n < 2:  # (a line touching every digit, one piece with them, is not looked for)
        return none
    # quickly: a line round the writing (or an arc of one) spans the columns of most of
    # the other ink
    stats = measure(found, binary.astype(np.float32))
    spans = stats.right - stats.left
    widest = int(np.argmax(spans))
    centres = (stats.left + stats.right) / 2
    spanned = (centres >= stats.left[widest]) & (centres <= stats.right[widest])
    spanned[widest] = False
    if stats.area[spanned].sum() < ENCLOSED * (stats.area.sum() - stats.area[widest]):
        return none
    h, w = binary.shape
    top, bottom, left, right = (0, h, 0, w) if frame is None else frame
    inside = (stats.top > top) & (stats.left > left) & (stats.bottom < bottom) & (stats.right < right)
    boxes = (stats.bottom - stats.top) * spans * inside
    k = int(np.argmax(boxes))
    if not boxes[k]:
        return none
    ring = _ring(binary, found.labels == k + 1)
    if ring is None:  # the same, its gaps of up to its strokes' width closed (an open loop)
        ring = _ring(binary, found.labels == k + 1, gap=True)
    if ring is None:  # the two widest pieces, one above the other, as one line
        arcs = np.flatnonzero(spans >= RING_ARCS * spans[widest])
        if len(arcs) != 2 or not inside[arcs].all():
            return none
        # (not a paper's lines, seen through a crop: from side to side of the frame)
        if ((stats.left[arcs] <= RING_EDGE) & (stats.right[arcs] >= w - RING_EDGE)).all():
            return none
        upper, lower = arcs[np.argsort(stats.top[arcs])]
        if stats.bottom[upper] > stats.bottom[lower] or stats.top[upper] > stats.top[lower]:
            return none
        a, b = found.labels == upper + 1, found.labels == lower + 1
        # between them, column by column: from the upper one's lowest ink to the lower one's highest
        rows = np.arange(h)[:, None]
        low = np.where(a.any(axis=0), np.where(a, rows, -1).max(axis=0), h)
        high = np.where(b.any(axis=0), np.where(b, rows, h).min(axis=0), -1)
        ring = _ring(binary, a | b, (rows > low) & (rows < high))
    if ring is None:
        return none
    # and the rest of a line drawn in several strokes: pieces that come within a stroke
    # of it, outside the box of what it holds
    line, held, pen = ring
    rows, columns = np.flatnonzero(held.any(axis=1)), np.flatnonzero(held.any(axis=0))
    content = np.zeros_like(binary)
    content[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1] = True
    near = np.unique(found.labels[_grown(line, max(2, round(pen)))])
    for j in near[near > 0]:
        mask = found.labels == j
        if not (mask & line).any() and (mask & content).sum() <= (1 - RING_OUTSIDE) * stats.area[j - 1]:
            line |= mask
    return line


def _ring(binary: np.ndarray, piece: np.ndarray, between: np.ndarray | None = None,
          gap: bool = False):
    """``enclosure``'s line: (the pixels of ``piece`` within RING_LINE strokes of what lies
    outside it, what it holds, its strokes' width) if what it closes in (its holes, or
    ``between`` its parts; with ``gap``, its holes once gaps in it of up to its strokes'
    width are closed) passes ``enclosure``'s tests; else None."""
    rows, columns = np.flatnonzero(piece.any(axis=1)), np.flatnonzero(piece.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    part = piece[top:bottom, left:right]
    pen = _stroke_width(part)
    # what lies outside it: the background reached from round its box (gaps closed only
    # where it closes nothing as it is: always, it read fewer framed numbers on validation)
    close = max(1, round(pen / 2)) if gap else 0
    outside = ~filled(np.pad(_grown(part, close) if close else part, 1))  # (and the pixel round)
    closed = ~outside[1:-1, 1:-1]
    if between is not None:
        closed |= between[top:bottom, left:right]
        outside[1:-1, 1:-1] &= ~between[top:bottom, left:right]
    width = max(1, round(RING_LINE * pen))
    line = part & _grown(outside, width + close)[1:-1, 1:-1]
    inner = part & ~line
    # (a comb's boxes, sides from its top to its bottom within it: the form's, ``box_sides``)
    if (run_lengths(part.T).T[:, width + 1:-width - 1] >= RING_DIVIDER * (bottom - top)).any():
        return None
    held = (binary[top:bottom, left:right] & closed & ~part) | inner
    others = int(binary.sum()) - int(line.sum())
    kept = np.flatnonzero(held.any(axis=1))
    if (not kept.size or held.sum() < ENCLOSED * others
            or kept[-1] - kept[0] + 1 < RING_CONTENT * (bottom - top)
            or line.sum() > RING_FILL * closed.sum()):
        return None
    out, kept_ink = np.zeros_like(binary), np.zeros_like(binary)
    out[top:bottom, left:right] = line
    kept_ink[top:bottom, left:right] = held
    return out, kept_ink, pen


def _own_stroke(rest: np.ndarray, printed: np.ndarray) -> bool:
    """Whether a number's one level line ``printed``, without a box's sides, is a stroke
    of the writing (``rest``, the other ink) rather than print: no longer than FORM_OWN
    times the rest's height, and on one side or the other reaching past the rest by no
    more than FORM_BEYOND of it where the strokes it runs into rise high near its end
    (FORM_END, FORM_HIGH), nor to the frame's edge. Two digits' feet joined in one
    stroke ("22") are as long as a line under a number of two; a form's line is longer
    than the writing on both sides (or leaves the frame, cropped close)."""
    bands = _bands(printed)
    if len(bands) != 1 or not rest.any():
        return False
    _, start, end = bands[0]
    if start == 0 or end == printed.shape[1]:
        return False
    rows, columns = np.flatnonzero(rest.any(axis=1)), np.flatnonzero(rest.any(axis=0))
    height = rows[-1] - rows[0] + 1
    if end - start > FORM_OWN * height:
        return False
    near = int(FORM_END * height) + 1
    pieces = label(rest | printed).labels
    # (the strokes the line runs into: a digit's, or a comb's ticks; not a digit beside a tick)
    joined = rest & np.isin(pieces, np.unique(pieces[printed]))
    for reach, ends_in in ((columns[0] - start, slice(start, start + near)),
                           (end - 1 - columns[-1], slice(max(0, end - near), end))):
        # (ending within the writing, where a digit's strokes rise from it: not a tick)
        risen = np.flatnonzero(joined[:, ends_in].any(axis=1))
        if reach <= FORM_BEYOND * height and risen.size and risen[0] <= rows[0] + FORM_HIGH * height:
            return True
    return False


def filled(mask: np.ndarray) -> np.ndarray:
    """``mask`` with its holes filled: all that the outside (what of the rest touches the
    border) does not reach."""
    labels = label(~mask).labels
    outside = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return ~np.isin(labels, outside[outside > 0])


def _uprights(sides: np.ndarray, lines: np.ndarray) -> int:
    """How many upright marks ``sides`` holds beyond the rows of ``lines`` (GAP rows or
    more from them; a stroke crossing a line leaves a bit within them): groups of columns
    apart from each other."""
    off = np.ones(len(sides), bool)
    for band, _, _ in _bands(lines):
        off[max(0, band[0] - GAP):band[-1] + GAP + 1] = False
    columns = np.flatnonzero(sides[off].any(axis=0))
    return int(columns.size and 1 + np.count_nonzero(np.diff(columns) > 1))


def _past_print(smooth, strength, sigma, t, binary, printed, darker: float = 1.0):
    """A form's ``printed`` lines darker than the ink (black print, a pen's grey or blue
    ink): the threshold found again without them (where it is below ``darker`` times
    ``t``), the ink binarised again with it, and the print within 2 pixels of the lines
    found; else (``t``, ``binary``, ``printed``)."""
    near = _grown(printed, 2)
    again = threshold(np.where(near, 0.0, smooth), sigma)
    if again is None or again >= darker * t:
        return t, binary, printed
    low = max(HYSTERESIS * again, NOISE_SIGMAS * sigma, FAINTEST)
    binary = (smooth > low) | (strength > again)
    return again, binary, near & binary


def alone_print(binary: np.ndarray) -> np.ndarray:
    """The print of a form round one digit (a box, the line it stands on, a comb's cell
    cut out): straight level lines BOX_LENGTH of the ink's width long or more and the
    upright sides between them (``box_sides``), where the level ones reach past the rest
    of the ink (the digit) by BOX_BEYOND of its height on both sides, are BOX_LONG of its
    height long or more, no thicker than its strokes (a pixel more) and, above it, not met
    by it only towards one end (``_bar``); or they make a box (``_boxed``: a line across
    the digit above it and one below, with sides between them left and right of it). A
    digit's own bar (a 7's, a 5's) starts or ends where its other strokes do, and a 1's
    foot or a 7's crossbar is short: they stay. ``_may_hold_print`` and ``_one_bar`` look
    first, quickly, whether there can be any."""
    if not binary.any():
        return np.zeros_like(binary)
    low, high = _counted(_sums(binary, 0), BAND)
    least = max(BOX_LENGTH * (high - low), BOX_PIXELS)
    if not _may_hold_print(binary, least):
        return np.zeros_like(binary)
    lines = _level_lines(binary, form=True, least=least)
    if not lines.any():
        return lines
    if _one_bar(binary & ~lines, lines):
        return np.zeros_like(binary)
    rest = binary & ~(lines | box_sides(binary, lines, lean=True))
    if not rest.any():
        return np.zeros_like(binary)
    (top, bottom), (left, right), _ = extent(rest)
    height = bottom - top + 1
    kept, frame = np.zeros_like(binary), np.zeros_like(binary)
    stroke = _stroke_width(rest)
    thick = run_lengths(lines.T).T
    above = below = False
    for band, start, end in _bands(lines):
        line = slice(band[0], band[-1] + 1)
        beyond = start <= left - BOX_BEYOND * height and end >= right + BOX_BEYOND * height
        thin = np.median(thick[line][lines[line]]) <= stroke + 1
        # (a bar on top met towards one end: a 7's, a 5's; a digit stands on a line anywhere)
        bar = (band[0] + band[-1]) / 2 < (top + bottom) / 2 and _bar(rest, band, start, end)
        if beyond and end - start >= BOX_LONG * height and thin and not bar:
            kept[line] = lines[line]
        # a box: a line across the digit above it and one below, and sides between them
        # on its left and its right (its lines need not reach far past it, nor be long)
        if start <= left and end >= right and (band[-1] <= top or band[0] >= bottom):
            frame[line] = lines[line]
            above |= bool(band[-1] <= top)
            below |= bool(band[0] >= bottom)
    if above and below and _boxed(binary, frame):
        kept |= frame
    if not kept.any():
        return kept
    return kept | box_sides(binary, kept, lean=True)


def cells(binary: np.ndarray, found: Pieces | None = None) -> list[tuple[int, int, int, int]]:
    """The boxes (top, bottom, left, right) of a row of printed boxes apart from each other,
    one digit in each (a postcode's, a tax form's; a comb's boxes share their sides and its
    lines run along the number: ``_lines`` finds those), or [] where there is none: pieces
    that are a box's outline (with what touches it inside), as high as each other and
    level, away from the frame's edge, two or more holding a digit (the constants CELL_*).
    A box a digit is written across (its piece reaching above or below the row, or beside
    the box) is looked at again within the row's top and bottom and its lines' ends.
    ``found``: ``binary``'s pieces, if labelled already."""
    found = label(binary) if found is None else found
    if found.n < CELLS:
        return []
    stats = measure(found, binary.astype(np.float32))
    high, wide = stats.bottom - stats.top, stats.right - stats.left
    h, w = binary.shape
    # (away from the frame's edge: not a grid of squared paper, nor a page's edge)
    inside = (stats.top > 0) & (stats.left > 0) & (stats.bottom < h) & (stats.right < w)
    candidates = np.flatnonzero((high >= CELL_PIXELS) & (wide >= CELL_ASPECT * high) & inside).tolist()
    # each box: (top, bottom, left, right), how many boxes it is, how many hold a digit
    boxes: dict[int, tuple[tuple[int, int, int, int], int, int]] = {}
    for k in candidates:
        t, b, lf, r = int(stats.top[k]), int(stats.bottom[k]), int(stats.left[k]), int(stats.right[k])
        box = _cell(binary, found.labels[t:b, lf:r] == k + 1, (t, b, lf, r))
        if box is not None:
            boxes[k] = box
    if sum(count for _, count, _ in boxes.values()) < CELLS:
        return []
    # the largest group as high as each other and level with each other, round each box
    best: list[int] = []
    for (t, b, _, _), _, _ in boxes.values():
        spread = CELL_SPREAD * (b - t)
        group = [k for k, ((t2, b2, _, _), _, _) in boxes.items()
                 if abs((b2 - t2) - (b - t)) <= spread and abs(t2 - t) <= spread]
        if sum(boxes[k][1] for k in group) > sum(boxes[k][1] for k in best):
            best = group
    if sum(boxes[k][1] for k in best) < CELLS:
        return []
    top = int(np.median([boxes[k][0][0] for k in best]))
    bottom = int(np.median([boxes[k][0][1] for k in best]))
    for k in candidates:  # a digit written across a box's edge, its piece the box's too
        if k in boxes or stats.top[k] > top + CELL_SPREAD * (bottom - top) \
                or stats.bottom[k] < bottom - CELL_SPREAD * (bottom - top):
            continue
        lf, r = int(stats.left[k]), int(stats.right[k])
        part = found.labels[top:bottom, lf:r] == k + 1
        edge = max(1, round(CELL_EDGE * (bottom - top)))
        ends = [np.flatnonzero(part[rows].any(axis=0)) for rows in (slice(0, edge), slice(-edge, None))]
        if not (ends[0].size and ends[1].size):
            continue
        left, right = max(ends[0][0], ends[1][0]), min(ends[0][-1], ends[1][-1]) + 1
        if right - left < CELL_ASPECT * (bottom - top):
            continue
        box = _cell(binary, part[:, left:right], (top, bottom, lf + int(left), lf + int(right)))
        if box is not None:
            boxes[k] = box
            best.append(k)
    if sum(boxes[k][2] for k in best) < 2:
        return []
    return sorted(boxes[k][0] for k in best)


def _cell(binary: np.ndarray, part: np.ndarray, box: tuple[int, int, int, int]):
    """``cells``' look at one piece (``part``, within ``box``: top, bottom, left, right):
    (``box``, how many boxes it is, how many of them hold a digit), or None where it is
    no box's outline."""
    whole = int(filled(np.pad(part, 1))[1:-1, 1:-1].sum())
    if whole < CELL_FILL * part.size or whole - part.sum() < CELL_HOLES * part.size:
        return None
    t, b, lf, r = box
    edge = max(1, round(CELL_EDGE * (b - t)))
    rows = np.flatnonzero(binary[t + edge:b - edge, lf + edge:r - edge].any(axis=1))
    count = _boxes_in(box)
    return box, count, count * int(bool(rows.size) and rows[-1] - rows[0] + 1 >= CELL_CONTENT * (b - t))


def _boxes_in(box: tuple[int, int, int, int]) -> int:
    """How many boxes one piece (top, bottom, left, right) is: boxes so close that they
    are one piece count as many as it is wide for its height."""
    t, b, lf, r = box
    return max(1, round((r - lf) / (b - t)))


def cell_print(binary: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """The print of ``cells``' ``boxes``: in each, the level lines within CELL_EDGE of its
    height of its top and bottom, CELL_LENGTH of its width long (at slopes of up to TILT
    degrees: a camera tilted off the page), and the upright sides between them
    (``box_sides``); where a digit's stroke crosses a line it is kept."""
    h, w = binary.shape
    lines, sides = np.zeros_like(binary), np.zeros_like(binary)
    for t, b, lf, r in boxes:
        edge = max(2, round(CELL_EDGE * (b - t)))
        cell = (r - lf) / _boxes_in((t, b, lf, r))  # (several boxes in one piece)
        t0, b0, l0, r0 = max(0, t - 2), min(h, b + 2), max(0, lf - 2), min(w, r + 2)
        crop = binary[t0:b0, l0:r0]
        level = _sloped_form_lines(crop, CELL_LENGTH * cell)
        upright = _sloped_form_lines(crop.T, CELL_LENGTH * (b - t)).T
        rows, columns = np.arange(t0, b0), np.arange(l0, r0)
        near = (rows < t + edge) | (rows >= b - edge)
        # (its sides: at its left and right, not a 1 standing in it)
        beside = (columns < lf + edge) | (columns >= r - edge)
        lines[t0:b0, l0:r0] |= level & near[:, None]
        sides[t0:b0, l0:r0] |= upright & beside[None, :]
    return lines | sides | box_sides(binary, lines, lean=True)


def _may_hold_print(binary: np.ndarray, length: float) -> bool:
    """A quick look before ``alone_print``'s: whether ``binary`` holds level runs (grown a
    row up and down, as ``_level_lines`` measures them) of ``length`` or more that reach
    past the ink of the other rows on both sides by BOX_BEYOND of its height and are
    BOX_LONG of it long (a line under a digit; not a bar on top met towards one end by
    the strokes below, a 7's), or two bands of them, one above its middle and one below,
    across it (give or take as much: a box's or a cell's lines, their sides in the other
    rows). A digit alone, its bars met by its other strokes, has neither."""
    grown = binary.copy()
    grown[1:] |= binary[:-1]
    grown[:-1] |= binary[1:]
    rows, starts, ends = runs(grown)
    long = ends - starts >= length
    if not long.any():
        return False
    rows, starts, ends = rows[long], starts[long], ends[long]
    lined = np.zeros(len(binary))
    lined[rows] = 1.0
    # (the rows within 2 GAP of a long run's)
    near = np.convolve(lined, np.ones(4 * GAP + 1))[2 * GAP:2 * GAP + len(binary)] > 0
    other = binary & ~near[:, None]
    if not other.any():
        return True
    (top, bottom), (left, right), middle = extent(other)
    height = bottom - top + 1
    reach = BOX_BEYOND * height
    # the bands of rows holding long runs (the runs come row by row, top to bottom), each
    # with its first and last row and the columns its runs cover
    first = np.flatnonzero(np.diff(rows, prepend=-2) > 1)
    bands = zip(rows[first].tolist(), rows[np.append(first[1:], len(rows)) - 1].tolist(),
                np.minimum.reduceat(starts, first).tolist(), np.maximum.reduceat(ends, first).tolist())
    above = below = False
    for band_top, band_bottom, start, end in bands:
        if (start <= left - reach and end >= right + reach and end - start >= BOX_LONG * height):
            # (a bar on top, met towards one end by the strokes below it, is a 7's)
            met = np.flatnonzero(binary[band_bottom + 1:band_bottom + 2 * GAP + 2, start:end].any(axis=0))
            if band_top > middle or not _met_at_one_end(met, end - start):
                return True
        if start <= left + reach and end >= right - reach:
            above |= band_bottom < middle
            below |= band_top > middle
    return above and below


def _counted(counts: np.ndarray, qs: tuple) -> list[float]:
    """The quantiles ``qs`` of the indices of ``counts``, each index counted as often as it
    says (a mask's rows or columns, from its sums, without listing its pixels): linear
    between the order statistics, as ``np.quantile``'s default (to rounding)."""
    total = np.cumsum(counts)
    last = int(total[-1]) - 1
    at = [q * last for q in qs]
    below = [int(a) for a in at]
    ordered = np.searchsorted(total, below + [min(i + 1, last) for i in below], side="right").tolist()
    return [float(low + (high - low) * (a - i))
            for a, i, low, high in zip(at, below, ordered[:len(qs)], ordered[len(qs):])]


def _sums(mask: np.ndarray, axis: int) -> np.ndarray:
    """The number of True pixels of ``mask`` in each row (``axis`` 1) or column (0):
    ``mask.sum(axis)``, counted in bytes (half the time)."""
    return mask.view(np.uint8).sum(axis=axis, dtype=np.int32)


def extent(mask: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The BAND of the rows and of the columns of a non-empty ``mask``'s pixels
    (``_counted``), and their middle row (the median, ``np.median``'s)."""
    top, bottom, middle = _counted(_sums(mask, 1), BAND + (0.5,))
    left, right = _counted(_sums(mask, 0), BAND)
    return (top, bottom), (left, right), middle


def _one_bar(rest: np.ndarray, lines: np.ndarray) -> bool:
    """Whether ``lines`` are a digit's bars, not a form's print, as far as the ``rest`` of
    the ink with any sides still in it tells: none reaches past the rest by BOX_BEYOND of
    its height on both sides and is BOX_LONG of it long, and no two are across it (give
    or take as much: a box's sides are in the rest), one above its middle row and one
    below (a box). Then the sides need not be looked for."""
    if not rest.any():
        return False
    (top, bottom), (left, right), middle = extent(rest)
    height = bottom - top + 1
    above = below = False
    for band, start, end in _bands(lines):
        if (start <= left - BOX_BEYOND * height and end >= right + BOX_BEYOND * height
                and end - start >= BOX_LONG * height):
            return False
        if start <= left + BOX_BEYOND * height and end >= right - BOX_BEYOND * height:
            above |= bool(band[-1] < middle)
            below |= bool(band[0] > middle)
    return not (above and below)


def _stroke_width(ink: np.ndarray) -> float:
    """The typical width of the strokes of ``ink``: the median over its pixels of the
    shorter of the level and the upright run each is in."""
    across = np.minimum(run_lengths(ink), run_lengths(ink.T).T)[ink]
    return float(np.median(across)) if across.size else 0.0


def _bar(rest: np.ndarray, band: np.ndarray, start: int, end: int) -> bool:
    """Whether the line in the rows ``band``, columns ``start`` to ``end``, is a digit's
    bar: the ``rest`` of the ink meets it (within GAP rows) only towards one of its ends,
    as a 7's stem or a 2's curve meets its bar; a line a digit stands on is met in its
    middle, or not at all."""
    near = rest[max(0, band[0] - GAP):band[-1] + 1 + GAP, start:end].any(axis=0)
    return _met_at_one_end(np.flatnonzero(near), end - start)


def _met_at_one_end(met: np.ndarray, length: int) -> bool:
    """Whether the columns ``met`` (from a line's start) are all within BAR_END of the
    ``length`` of the line from one of its ends (False if there are none)."""
    if not met.size:
        return False
    reach = BAR_END * length
    return bool(met.max() < reach or met.min() >= length - reach)


def _boxed(binary: np.ndarray, frame: np.ndarray) -> bool:
    """Whether the level lines ``frame`` and the sides between them (``box_sides``) box
    the rest of the ink in: two sides or more, one left of the rest and one right of it,
    and the rest BOX_REST or more of the ink off the lines (not a digit's stem taken for
    a side between its bars)."""
    sides = box_sides(binary, frame, lean=True)
    columns = np.flatnonzero(sides.any(axis=0))
    if not columns.size or np.ptp(columns) == 0:
        return False
    rest = binary & ~frame & ~sides
    if rest.sum() < max(BOX_REST * (binary & ~frame).sum(), 1):
        return False
    left, right = _counted(_sums(rest, 0), BAND)
    groups = np.split(columns, np.flatnonzero(np.diff(columns) > GAP) + 1)
    return len(groups) >= 2 and groups[0][-1] < left and groups[-1][0] > right


def _grown(mask: np.ndarray, size: int) -> np.ndarray:
    """``mask`` grown by ``size`` pixels each way, along rows and columns (a square)."""
    out = mask.copy()
    for shift in range(1, size + 1):
        out[shift:] |= mask[:-shift]
        out[:-shift] |= mask[shift:]
    rows = out.copy()
    for shift in range(1, size + 1):
        out[:, shift:] |= rows[:, :-shift]
        out[:, :-shift] |= rows[:, shift:]
    return out


def _strokes(found: Pieces, binary: np.ndarray, stats: Stats) -> np.ndarray:
    """Which pieces are strokes: covering at most STROKE_FILL of their box, their ink's
    mean width (the shorter of the level and the upright run through each pixel) at most
    STROKE_WIDTH of their box's longer side."""
    height, width = stats.bottom - stats.top, stats.right - stats.left
    fill = stats.area / np.maximum(height * width, 1)
    total = _widths(found, binary)
    return (fill <= STROKE_FILL) & (total <= STROKE_WIDTH * np.maximum(height, width) * stats.area)


def _widths(found: Pieces, binary: np.ndarray) -> np.ndarray:
    """Per piece of ``binary``, the sum over its pixels of the shorter of the level and the
    upright run each is in (divided by its area: its strokes' mean width)."""
    across = np.minimum(run_lengths(binary), run_lengths(binary.T).T).reshape(-1)
    return np.bincount(found.labels.reshape(-1), weights=across, minlength=found.n + 1)[1:]


def _near(stats: Stats, box, which: np.ndarray, join: tuple, longest: bool = False) -> np.ndarray:
    """Which of the pieces ``which`` lie within JOIN of the writing's ``box`` (top,
    bottom, left, right), in units of its height (``longest``: of its longer side)."""
    height = box[1] - box[0]
    if longest:
        height = max(height, box[3] - box[2])
    dx = np.maximum(np.maximum(stats.left - box[3], box[2] - stats.right), 0)
    dy = np.maximum(np.maximum(stats.top - box[1], box[0] - stats.bottom), 0)
    return which & (dx <= join[0] * height) & (dy <= join[1] * height)


def _bars(found: Pieces, stats: Stats, score: np.ndarray) -> np.ndarray:
    """Which pieces are straight strokes far longer than the rest of the ink is high (a pen
    lying on the paper: BAR_THIN, BAR_LONG, BAR_PIECE, BAR_SOLID, BAR_SEEN, BAR_APART),
    looked for among the BAR_LOOKS heaviest by ``score``."""
    bars = np.zeros(found.n, bool)
    high, wide = stats.bottom - stats.top, stats.right - stats.left
    for k in np.argsort(-score)[:BAR_LOOKS]:
        if score[k] <= 0:
            break
        length = np.hypot(high[k], wide[k])  # (its box's diagonal)
        rest = (score > 0) & ~bars & (stats.area >= SPECK * stats.area[k]) & (high * BAR_PIECE >= length)
        rest[k] = False
        if not rest.any() or length < BAR_LONG * high[rest].max():
            continue
        writing = rest & (stats.area <= BAR_SOLID * high * wide) & (2 * high >= wide)  # (no blots, no bars)
        if writing.sum() == 1:  # one digit beside it, or a 1 beside a speck: as tall as a digit seen
            writing &= high >= BAR_SEEN
        if not writing.any() or length < BAR_LONG * high[writing].max():
            continue
        piece = found.labels == k + 1
        rows, cols = np.nonzero(piece)
        spread = np.linalg.eigvalsh(np.cov(np.stack([rows, cols]).astype(np.float64)))
        across, along = np.sqrt(12 * np.maximum(spread, 0))  # (a bar's width and length)
        if across > BAR_THIN * along or along < BAR_LONG * high[writing].max():
            continue
        # apart from the writing: a digit's own stroke, broken off, lies against the rest
        near = np.unique(found.labels[_grown(piece, max(2, int(BAR_APART * high[writing].max())))])
        if not writing[near[near > 0] - 1].any():
            bars[k] = True
    return bars


def _along(found: Pieces, binary: np.ndarray, stats: Stats, chosen: list, box: tuple,
           keep: np.ndarray, join: tuple) -> tuple[list, tuple]:
    """``chosen`` and the writing's ``box`` grown along its line. The other pieces that
    ``keep`` allows are gathered as the writing was (``join``: a digit in several strokes,
    digits written close); a group as high as the writing (ALONG_HIGH), its rows within
    the writing's (ALONG_ROWS), of strokes (``_stroked``) joins it when it lies within
    ALONG_GAP of its height, one after another. ``found``: the pieces of ``binary``."""
    top, bottom = box[0], box[1]
    height = bottom - top
    free = keep.copy()
    free[chosen] = False
    free &= (stats.bottom > top) & (stats.top < bottom)  # (quickly: on the line at all)
    groups = []
    while free.any():
        members, (t, b, left, right) = _gather(stats, int(np.flatnonzero(free)[0]), free, join)
        free[members] = False
        high, rows = b - t, min(b, bottom) - max(t, top)
        if high >= ALONG_HIGH * height and ALONG_HIGH * high <= height and rows >= ALONG_ROWS * high:
            groups.append((members, t, b, left, right))
    if groups and any(g[2] - g[1] >= ALONG_SEEN for g in groups):  # strokes, where one can tell
        widths = _widths(found, binary)
        groups = [g for g in groups if _stroked(stats, widths, *g)]
    if not groups:
        return chosen, box
    wanted = np.zeros(len(keep), bool)
    wanted[chosen] = True
    while True:  # (and the pieces near what joined, as ``_gather`` takes them: a 5's bar)
        reach = ALONG_GAP * (box[1] - box[0])
        near = [g for g in groups if g[3] - box[3] <= reach and box[2] - g[4] <= reach]
        new = _near(stats, box, keep & ~wanted, join)
        for g in near:
            groups.remove(g)
            new[g[0]] = True
        new &= ~wanted
        if not new.any():
            break
        wanted |= new
        box = (min(box[0], stats.top[new].min()), max(box[1], stats.bottom[new].max()),
               min(box[2], stats.left[new].min()), max(box[3], stats.right[new].max()))
    return [int(i) for i in np.flatnonzero(wanted)], tuple(int(v) for v in box)


def _stroked(stats: Stats, widths: np.ndarray, members: list, top: int, bottom: int,
             left: int, right: int) -> bool:
    """Whether the pieces ``members`` (their box ``top``...) are strokes, as far as one can
    tell (ALONG_SEEN): not filling their box unless narrow, their ink's mean width (the
    shorter of the level and the upright run through each pixel, summed a piece in
    ``widths``) at most ALONG_WIDTH of their height."""
    high, wide = bottom - top, right - left
    if high < ALONG_SEEN:
        return True
    area = stats.area[members].sum()
    return ((area <= STROKE_FILL * high * wide or wide <= ALONG_NARROW * high)
            and widths[members].sum() <= ALONG_WIDTH * high * area)


def _gather(stats: Stats, best: int, keep: np.ndarray, join: tuple,
            longest: bool = False) -> tuple[list, tuple]:
    """The pieces that ``keep`` allows and that lie within JOIN of the writing,
    starting from ``best`` and growing: (their indices, the writing's box)."""
    wanted = np.zeros(len(keep), bool)
    wanted[best] = True
    box = (stats.top[best], stats.bottom[best], stats.left[best], stats.right[best])
    while True:  # (the box only grows: what is near it once stays near)
        new = _near(stats, box, keep & ~wanted, join, longest)
        if not new.any():
            return [int(i) for i in np.flatnonzero(wanted)], tuple(int(v) for v in box)
        wanted |= new
        box = (min(box[0], stats.top[new].min()), max(box[1], stats.bottom[new].max()),
               min(box[2], stats.left[new].min()), max(box[3], stats.right[new].max()))
