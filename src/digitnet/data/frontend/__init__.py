"""One image front end for ``predict``, ``read``, the web page and the API: from a user's
picture (a canvas export, a scan, a phone photo of paper, chalk on a board) to ink.

1. ``decode``: read the picture, orient it, flatten transparency, take its brightness;
2. ``light``: estimate the paper's level and lighting on a coarse copy, decide which way
   the ink goes, and turn the picture into ink strength, lighting flattened away;
3. ``select``: binarise adaptively, take out paper lines and specks, and keep the writing:
   the dominant ink and what is close to it;
4. ``fit``: the writing's soft ink into a 28x28 MNIST-style image.

The writing is found on a working copy of at most ``WORK`` pixels on its long side; when
it is small there, it is found again in a crop of the full picture around it, so that a
small digit in a large photo keeps its detail and a large photo costs little more than a
small one. A drawing on a flat background (a canvas export) has its writing found on a
smaller copy, and its ink then taken from the picture at full size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...errors import NoDigitError
from . import light, page, select
from .decode import MAX_BYTES, MAX_PIXELS, levels, open_image, quiet_pillow_size_warning
from .fit import NOISE, bounding_box, fit_mnist, several_digits

__all__ = ["MAX_BYTES", "MAX_PIXELS", "NOISE", "Seen", "bounding_box", "fit_mnist", "ink",
           "ink_seen", "open_image", "quiet_pillow_size_warning", "several_digits", "to_mnist",
           "to_mnist_seen", "writing_ink"]

#: The long side of the working copy the writing is looked for on; for a drawing on a
#: flat background (a canvas export), which has no noise to average, half as much.
WORK = 320
WORK_FLAT = 140
#: The writing is looked for again, in a crop of the full picture, when it is smaller
#: than this on the working copy; the crop is reduced to about DETAIL pixels high.
DETAIL = 64
DETAIL_FLAT = 32
#: The crop's margin around the writing, as a fraction of its size.
MARGIN = 0.15
#: Ink strength below this fraction of the binarisation threshold is paper; the soft
#: ink saturates at SATURATE of the writing's typical strength (its 90th percentile).
SOFT_FLOOR = 0.5
SATURATE = 0.85

#: On a photo of paper, writing whose typical strength (its 90th percentile) is below this
#: is the paper's own texture, its lighting's remains and noise, not ink: writing was
#: "found" in 17 of 300 photos of blank paper made as the validation pictures are, its
#: typical strength 0.07-0.14, while every validation digit's and number's was 0.31 or
#: more. The bound is as low as that allows, for faint pencil: a 7 of contrast 0.15 on
#: blotchy paper is still read in 23 of 30 pictures (BENCHMARKS.md, "Blank paper").
FAINT_WRITING = 0.15
#: A number's writing has other lines when a piece left out above or below it (by
#: OTHER_LINE of its height or more), away from the frame's edges, is at least OTHER_LINE
#: as high as it and as strong as ink (read --lines reads them).
OTHER_LINE = 0.5

#: A picture whose border is, for FLAT_SHARE of its pixels, within FLAT of one level is a
#: drawing on a flat background. Strokes may reach the border, on up to STROKES_AT_BORDER
#: of it (a digit drawn to fill the canvas): pixels STROKE_GAP or more from that level are
#: left out of the count. (0.3 chosen on 10,000 validation drawings: 15 whose strokes
#: took more than a tenth of the border were read as photos of paper, and two of their
#: digits lost a stroke at the border, a 5's bar; 0.3 and 0.5 alike took them all for
#: drawings, and no realworld validation picture changed.)
FLAT = 1e-3
FLAT_SHARE = 0.9
STROKE_GAP = 0.25
STROKES_AT_BORDER = 0.3
#: A photo cropped round its writing (``_writing_ink``): the writing fills FILLS of the
#: frame's height and width, or goes on beyond it, or its ink was taken for light while
#: the border is BRIGHTER than the picture's median; it is looked at again brought to at
#: most CROP_SIDE pixels, with CROP_PAD of its longer side of paper added on every side,
#: the paper's level a plane fitted to the border (``page.paper_plane``: the strokes that
#: cross it left out). Chosen on validation
#: (benchmarks/bench_crops.py; BENCHMARKS.md, "Photos cropped to the writing"). BRIGHTER
#: was 0.1: a marker's digit cropped tight, its strokes a third of the frame, was taken
#: for light ink in the paper between them (400 validation crops: 362 read tight, 379 at
#: 0.02, 383 at 0.01 and at 0); a board's border is its own level (at most 0.001 brighter
#: in 300 validation chalk photos).
CROP_PAD = 0.5
CROP_SIDE = 1024
FILLS = 0.6
BRIGHTER = 0.01

BLANK = ("no digit found: the image is blank (no ink darker or brighter than the paper)")


class Seen(NamedTuple):
    """What kind of picture the writing was found in."""

    photo: bool  # paper with its lighting (not a drawing on a flat background), dark ink
    form: bool  # a form's print (a line, boxes, a frame, ticks) was taken out
    #: (a number's writing) more writing above or below it, left out: another line
    other_lines: bool = False
    #: a picture of a surface, paper or a board, dark ink or light (not a drawing on one
    #: flat level): what the network trained on photos answers (``pretrained.PHOTO``)
    surface: bool = False
    #: degrees the page is turned in the picture (clockwise as seen), told by its ruling
    #: (``select.turned_lines``); 0 when not turned, or no ruling tells
    turn: float = 0.0
    #: (one digit's picture) other digits beside it, left out (``select.Writing.beside``):
    #: a number given to ``predict``
    beside: bool = False


def to_mnist(source) -> np.ndarray:
    """Any image (a path, bytes, an open binary file, a Pillow image or a NumPy array)
    -> 784 floats in [0, 1], MNIST-style.

    Raises ``NoDigitError`` when no writing is found, ``ImageError`` when the picture
    cannot be read."""
    return to_mnist_seen(source)[0]


def to_mnist_seen(source) -> tuple[np.ndarray, Seen]:
    """``to_mnist``, and what kind of picture the digit was found in (``Seen``: a picture
    of paper or a board is given to the network trained for photos, ``pretrained.PHOTO``)."""
    values, _, seen = _writing_ink(levels(open_image(source)), detail=True)
    return fit_mnist(values, seen.photo), seen


def ink(source) -> np.ndarray:
    """The writing's ink in an image, as floats (H, W) of the image's size in [0, 1]: 1 the
    strongest stroke, 0 the paper and everything that is not the writing (lines, specks,
    shadows), whichever the polarity of the original."""
    return ink_seen(source)[0]


def ink_seen(source) -> tuple[np.ndarray, Seen]:
    """``ink``, and what kind of picture it was found in (``Seen``)."""
    grey = levels(open_image(source))
    values, (top, left), seen = _writing_ink(grey, detail=False)
    out = np.zeros(grey.shape, np.float32)
    out[top:top + values.shape[0], left:left + values.shape[1]] = values
    return out, seen


def writing_ink(grey: np.ndarray, detail: bool) -> tuple[np.ndarray, tuple]:
    """The writing's soft ink in brightness levels ``grey`` (H, W): (ink cropped to the
    writing with a margin, (top, left) of the crop in ``grey``). With ``detail`` the
    crop may be reduced to about DETAIL pixels high (for one digit); without, it keeps
    ``grey``'s scale, and digits further apart make one writing (a number)."""
    values, origin, _ = _writing_ink(grey, detail)
    return values, origin


def _writing_ink(grey: np.ndarray, detail: bool) -> tuple[np.ndarray, tuple, Seen]:
    """``writing_ink``, and what kind of picture ``grey`` is (``Seen``: a photo of paper,
    dark ink on a background that is not one flat level; a form's print found).

    A photo cropped round the writing (it goes on beyond the frame, ink left out at the
    frame's edge lying next to it, or it fills the frame) is looked at again with paper
    round it (``_with_paper_round``, CROP_PAD of its longer side on every side, the
    picture first brought to at most CROP_SIDE pixels): at the edge, a digit's strokes
    counted as a page's edge or a shadow would, and the paper's level was guessed by a
    closing no wider than strokes that fill the frame."""
    background = light.median(np.concatenate(_sides(grey)))
    flat = _flat(grey, background)
    paper = None if flat else page.sheet(grey)
    if paper is not None:  # paper on a desk: the desk painted over with paper (a photo)
        grey = page.on_paper(grey, paper)
        background = light.median(np.concatenate(_sides(grey)))
        flat = _flat(grey, background)
    values, origin, seen, cropped = _find(grey, detail, (background, flat))
    if not cropped or not CROP_PAD:
        return values, origin, seen
    small, factor = light.shrink(grey, CROP_SIDE)
    pad = max(2, int(round(CROP_PAD * max(small.shape))))
    # (the page's angle told by its ruling across the picture kept, and none looked for
    # again: the paper added round it has no lines; the picture's edge is where its lines
    # end, and a ruling joined with the writing, closed by the paper round it, is no ring)
    frame = (pad, pad + small.shape[0], pad, pad + small.shape[1])
    told = light.shrink_factor(grey.shape, WORK) / factor  # (the view it was told on)
    values, (top, left), seen, _ = _find(_with_paper_round(small, pad), detail, turn=seen.turn,
                                         frame=frame, scale=told)
    top, left = (top - pad) * factor, (left - pad) * factor
    if not detail:  # (the ink at the picture's scale: what lies on the paper added goes)
        if factor > 1:
            from PIL import Image

            size = (values.shape[1] * factor, values.shape[0] * factor)
            values = np.asarray(Image.fromarray(values, "F").resize(size, Image.Resampling.BILINEAR))
        values = values[max(0, -top):grey.shape[0] - top, max(0, -left):grey.shape[1] - left]
    return values, (max(0, top), max(0, left)), seen


def _with_paper_round(grey: np.ndarray, pad: int) -> np.ndarray:
    """``grey`` with ``pad`` pixels of paper added on every side. The paper's level is a
    plane fitted to the border's pixels (``page.paper_plane``: those of the strokes that
    cross it left out); at each added pixel the level at the nearest point of the
    picture, with noise as strong as the border's own (seeded: a picture always gives one
    answer)."""
    h, w = grey.shape
    rows = np.concatenate([np.zeros(w), np.full(w, h - 1), np.arange(h), np.arange(h)])
    cols = np.concatenate([np.arange(w), np.arange(w), np.zeros(h), np.full(h, w - 1)])
    sides = _sides(grey)
    steps = np.concatenate([np.diff(side) for side in sides])
    sigma = 1.4826 * float(np.median(np.abs(steps))) / np.sqrt(2) if steps.size else 0.0
    plane = page.paper_plane(np.concatenate(sides), rows / h, cols / w, sigma)
    near_row = np.clip(np.arange(-pad, h + pad), 0, h - 1) / h
    near_col = np.clip(np.arange(-pad, w + pad), 0, w - 1) / w
    level = plane[0] + plane[1] * near_row[:, None] + plane[2] * near_col[None, :]
    noise = np.random.default_rng(0).standard_normal(level.shape, dtype=np.float32) * sigma
    out = np.clip(level.astype(np.float32) + noise, 0, 1)
    out[pad:pad + h, pad:pad + w] = grey
    return out


def _find(grey: np.ndarray, detail: bool, border=None, turn: float | None = None,
          frame: tuple | None = None, scale: float = 1.0) -> tuple[np.ndarray, tuple, Seen, bool]:
    """``_writing_ink`` without a second look, and whether the picture looks cropped round
    the writing: it goes on beyond the frame (``select.Writing.cut``), fills FILLS of the
    frame's height and of its width, or was taken for light ink on a board whose border
    is BRIGHTER than the picture (dark strokes filling the frame)."""
    # (``border``: the border's median level and whether it is flat, if known; ``turn``:
    # the page's angle told by a look at the picture before paper was added round it
    # (``frame``: (top, bottom, left, right) of the picture in ``grey``), on a view
    # ``scale`` times coarser than ``grey``)
    background, flat = border or (light.median(np.concatenate(_sides(grey))), None)
    flat = _flat(grey, background) if flat is None else flat
    # one level all round: a drawing exported from a canvas, clean, no paper to model
    work, factor = light.shrink(grey, WORK_FLAT if flat else WORK)
    if flat:  # one level all over: no lighting to estimate
        dark = background > 0.5
        level = np.float32(max(background, 1e-3))
        strength = light.contrast(work, level, dark)
    else:
        coarse, coarse_factor = light.shrink(work, light.COARSE)
        dark = light.dark_ink(coarse)
        level = light.paper(coarse, dark)
        glare = light.glare(level) if dark else None
        strength = light.contrast(work, light.stretch(level, work.shape), dark,
                                  None if glare is None else light.stretch(glare, work.shape))
    sigma = 0.0 if flat else light.noise(strength)
    join = select.JOIN if detail else select.JOIN_NUMBER
    # (a digit's pieces joined in units of its longest side on photos of paper and on
    # drawings, thick strokes thinned sooner on photos only; chalk keeps its outputs; a
    # number's form print taken out, on a scan too: a drawing of one digit is left whole)
    photo = not flat and dark
    longest = detail and (photo or flat)
    # (how much finer this view is than the one the page's angle is told on: the angle
    # told, a view ``scale`` times coarser than ``grey``; else measured on this view)
    scale = 1.0 if turn is None else scale / factor
    found = select.writing(strength, sigma, join, paper=not flat, longest=longest,
                           form=not detail, alone=detail, turn=turn, scale=scale,
                           frame=_within(frame, (0, 0), factor, strength.shape))
    if found is None:
        raise NoDigitError(BLANK)
    others = not detail and _other_lines(strength, found)
    # a photo cropped round the writing: it goes on beyond the frame, or fills it, or its
    # ink was taken for light (a board's) while its border is brighter than it: dark
    # strokes that fill the frame, the paper between them taken for light ink
    # (on the whole picture, the working copy: the second look below is at a crop of it)
    high, wide = found.box[1] - found.box[0], found.box[3] - found.box[2]
    cropped = not flat and (found.cut or (high >= FILLS * strength.shape[0]
                                          and wide >= FILLS * strength.shape[1])
                            or (not dark and background > light.median(coarse.ravel()) + BRIGHTER))
    if flat and detail and factor > 1:
        values, origin = _full_size(grey, found, factor, level, dark)
        return values, origin, Seen(photo, found.form, beside=found.beside), False  # no surface
    top, bottom, left, right = found.box
    size = max(bottom - top, right - left)
    if factor == 1 or (detail and bottom - top >= (DETAIL_FLAT if flat else DETAIL)):
        if not flat and _typical(strength, found.mask) < FAINT_WRITING:
            raise NoDigitError(BLANK)
        pad = int(MARGIN * size) + 2
        top, left = max(0, top - pad), max(0, left - pad)
        bottom, right = bottom + pad, right + pad
        soft = _soft(strength, found, flat, (slice(top, bottom), slice(left, right)))
        if detail:
            soft = _upright(soft, found.turn)
        seen = Seen(photo, found.form, others, not flat, found.turn, found.beside)
        return soft, (top * factor, left * factor), seen, cropped
    # again, on a crop of the full picture around the writing (and round a circle or a
    # box drawn round it, so that it is seen whole and taken out again)
    pad = (MARGIN * size + 2) * factor
    top, left = max(0, int(top * factor - pad)), max(0, int(left * factor - pad))
    bottom = min(grey.shape[0], int(bottom * factor + pad))
    right = min(grey.shape[1], int(right * factor + pad))
    if found.ring is not None:
        ring = [v * factor for v in found.ring]
        top, left = max(0, min(top, ring[0] - 2 * factor)), max(0, min(left, ring[2] - 2 * factor))
        bottom = min(grey.shape[0], max(bottom, ring[1] + 2 * factor))
        right = min(grey.shape[1], max(right, ring[3] + 2 * factor))
    crop = grey[top:bottom, left:right]
    reduce = (found.box[1] - found.box[0]) * factor // DETAIL if detail else 1
    if reduce > 1:  # (enlarging a smaller digit to DETAIL did not help, on validation)
        crop = light.shrink(crop, max(crop.shape) // reduce)[0]
    added = None
    if not flat:
        scale = factor * coarse_factor
        box = (left / scale, top / scale, right / scale, bottom / scale)
        level = light.stretch(level, crop.shape, box)
        added = None if glare is None else light.stretch(glare, crop.shape, box)
    strength = light.contrast(crop, level, dark, added)
    if found.bars is not None:  # (a pen passed over stays out, though the crop shows less of it)
        strength[_on_crop(found.bars, factor, (top, left), strength.shape, crop.shape)] = 0.0
    again = select.writing(strength, light.noise(strength), join, paper=not flat, longest=longest,
                           form=not detail, alone=detail, turn=found.turn,
                           scale=scale * factor / max(1, reduce),
                           frame=_within(frame, (top, left), max(1, reduce), strength.shape))
    if again is None or (not flat and _typical(strength, again.mask) < FAINT_WRITING):
        raise NoDigitError(BLANK)
    soft = _soft(strength, again, flat)
    return (_upright(soft, found.turn) if detail else soft, (top, left),
            Seen(photo, found.form or again.form, others, not flat, found.turn,
                 found.beside or again.beside), cropped)


def _within(frame: tuple | None, origin: tuple, factor: int, shape: tuple) -> tuple | None:
    """``frame`` ((top, bottom, left, right) of a picture, paper added round it) in a view
    of ``shape`` whose pixel (0, 0) is at ``origin`` and each pixel ``factor`` wide: the
    whole pixels of the view within it (None: no paper added)."""
    if frame is None:
        return None
    top, bottom, left, right = frame
    y, x = origin
    return (min(max(0, -(-(top - y) // factor)), shape[0]), min(max(0, (bottom - y) // factor), shape[0]),
            min(max(0, -(-(left - x) // factor)), shape[1]), min(max(0, (right - x) // factor), shape[1]))


def _upright(soft: np.ndarray, degrees: float) -> np.ndarray:
    """One digit's soft ink ``soft`` turned as its page is turned upright (``degrees``,
    ``select.turned_lines``): written along the page's ruling, it stands as written."""
    if not degrees:
        return soft
    from PIL import Image

    turned = Image.fromarray(soft.astype(np.float32), "F").rotate(
        degrees, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=0.0)
    return np.clip(np.asarray(turned, np.float32), 0.0, 1.0)


def _flat(grey: np.ndarray, background: float) -> bool:
    """Whether ``grey`` is a drawing on one flat level: FLAT_SHARE of its border's pixels
    within FLAT of ``background`` (the border's median level), not counting strokes that
    reach the border (pixels STROKE_GAP from it or more, at most STROKES_AT_BORDER of the
    border, none along more than half a side: a scanner's dark margin is no stroke)."""
    sides = _sides(grey)
    close = np.abs(np.concatenate(sides) - background)
    paper = close < STROKE_GAP
    if np.mean(paper) < 1 - STROKES_AT_BORDER:
        return False
    if any(_longest_run(np.abs(side - background) >= STROKE_GAP) > len(side) / 2 for side in sides):
        return False
    return float(np.mean(close[paper] < FLAT)) >= FLAT_SHARE


def _sides(grey: np.ndarray) -> list:
    """The border of ``grey``: its top and bottom rows, its left and right columns."""
    return [grey[0], grey[-1], grey[:, 0], grey[:, -1]]


def _longest_run(on: np.ndarray) -> int:
    """The longest run of True in the 1-d ``on``."""
    padded = np.concatenate([[0], on.astype(np.int8), [0]])
    changes = np.flatnonzero(np.diff(padded))
    return int((changes[1::2] - changes[::2]).max()) if changes.size else 0


def _other_lines(strength: np.ndarray, found: select.Writing) -> bool:
    """Whether writing left out of ``found`` stands above or below it as another line
    would (OTHER_LINE)."""
    rest = found.ink & ~found.mask
    if found.printed is not None:
        rest &= ~found.printed
    if found.bars is not None:  # (a pen lying on the page is no line of writing)
        rest &= ~found.bars
    if not rest.any():
        return False
    top, bottom = found.box[0], found.box[1]
    height = bottom - top
    stats = select.measure(select.label(rest), strength)
    h, w = rest.shape
    inside = (stats.top > 0) & (stats.left > 0) & (stats.bottom < h) & (stats.right < w)
    reach = (1 - OTHER_LINE) * height  # how far into the writing's rows it may come
    apart = (stats.bottom <= top + reach) | (stats.top >= bottom - reach)
    tall = stats.bottom - stats.top >= OTHER_LINE * height
    return bool((inside & apart & tall & (stats.peak >= 2 * FAINT_WRITING)).any())


def _typical(strength: np.ndarray, mask: np.ndarray) -> float:
    """The typical strength of the ink in ``mask``: its 90th percentile."""
    values = strength[mask]
    return float(np.quantile(values, 0.9)) if values.size else 0.0


def _full_size(grey: np.ndarray, found: select.Writing, factor: int, level, dark: bool
               ) -> tuple[np.ndarray, tuple]:
    """A drawing's soft ink at the picture's full size, in the box of the writing ``found``
    on the working copy (``factor`` times smaller) with its margin, other pieces left out:
    (ink, (top, left) of the crop in ``grey``). Its faint ink is kept where it is not the
    other pieces' (what closes a thin 9's loop is often fainter than the threshold)."""
    top, bottom, left, right = found.box
    pad = int(MARGIN * max(bottom - top, right - left)) + 2
    y, x = max(0, top - pad), max(0, left - pad)
    writing = found.mask[y:bottom + pad, x:right + pad]
    # the other pieces (specks) outside the writing's box and the print taken out, grown by
    # a working pixel, where not next to the writing (a fragment within the box, too small
    # to count, is the digit's)
    others = found.ink[y:bottom + pad, x:right + pad] & ~writing
    others[top - y:bottom - y, left - x:right - x] = False
    if found.printed is not None:  # and the lines and print taken out, within the box too
        others |= found.printed[y:bottom + pad, x:right + pad]
    others = _grown(others) & ~_grown(writing)
    top, left = y * factor, x * factor
    crop = grey[top:top + writing.shape[0] * factor, left:left + writing.shape[1] * factor]
    strength = light.contrast(crop, level, dark)
    if others.any():
        others = np.repeat(np.repeat(others, factor, axis=0), factor, axis=1)
        strength[others[:crop.shape[0], :crop.shape[1]]] = 0.0
    soft = strength / max(float(strength.max()), 1e-6)
    np.multiply(soft, soft >= NOISE, out=soft)  # (faint ink to 0: quicker than soft[soft < NOISE] = 0)
    return np.clip(soft, 0.0, 1.0, out=soft), (top, left)


def _on_crop(mask: np.ndarray, factor: int, origin: tuple, shape: tuple, crop: tuple) -> np.ndarray:
    """``mask`` of the working copy (``factor`` times smaller than the picture), grown by a
    pixel, on a crop of the picture at ``origin`` (top, left) of ``crop`` pixels (its
    shape) brought to ``shape``."""
    from PIL import Image

    full = np.repeat(np.repeat(_grown(mask), factor, axis=0), factor, axis=1)
    top, left = origin
    out = np.zeros(crop, bool)
    part = full[top:top + crop[0], left:left + crop[1]]
    out[:part.shape[0], :part.shape[1]] = part
    if out.shape != tuple(shape):
        out = np.asarray(Image.fromarray(out).resize(shape[::-1], Image.Resampling.NEAREST))
    return out


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` grown by a pixel, up, down, left and right and diagonally."""
    return select._grown(mask, 1)


def _soft(strength: np.ndarray, found: select.Writing, flat: bool = False,
          window: tuple = (slice(None), slice(None))) -> np.ndarray:
    """Soft ink in [0, 1] over the writing's pieces (grown by a pixel, for their
    anti-aliased edges), 0 elsewhere, in ``window`` of ``strength`` (which must hold the
    pieces and the pixel round them). A drawing on a flat background keeps its levels
    as they are (relative to the strongest); a photo's are stretched between the paper's
    noise and the writing's typical strength."""
    strength, pieces = strength[window], found.mask[window]
    grown = _grown(pieces)
    if flat:
        soft = strength / max(float(strength[pieces].max()), 1e-6)
        np.multiply(soft, soft >= NOISE, out=soft)
    else:
        typical = float(np.quantile(strength[pieces], 0.9))
        floor = SOFT_FLOOR * found.threshold
        soft = (strength - floor) / max(SATURATE * typical - floor, 1e-6)
    soft = soft.astype(np.float32, copy=False)
    np.clip(soft, 0.0, 1.0, out=soft)
    np.multiply(soft, grown, out=soft)  # 0 off the pieces
    return soft
