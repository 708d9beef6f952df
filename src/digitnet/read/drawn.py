"""What a reading read, drawn: for a person to check it (``digitnet read --save-input``,
``--review``).

``drawn(reading)`` is a picture of the line of ink as the readers saw it (turned level, a
form's print taken out), each digit's box and digit over it, under it each digit's piece
in 28x28 as the classifier sees it (``Reading.inputs``) with the digit, its confidence
and, where another network read it, which ("pair", "line"), and last the number read.
"""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np

#: The line at SCALE times, each digit's input at INPUT_SCALE times; boxes of digits as
#: sure as the confidence asked for in SURE, others in UNSURE.
SCALE, INPUT_SCALE, MARGIN = 2, 3, 8
SURE, UNSURE = (0, 110, 220), (220, 60, 0)


def drawn(reading):
    """``reading`` drawn (a Pillow RGB image). Needs a reading that keeps its line
    (``read_number``'s and ``read_lines``' do)."""
    from PIL import Image, ImageDraw, ImageFont

    line = reading.line
    inputs = reading.inputs()  # (refuses a reading without its line)
    try:
        font = ImageFont.load_default(size=16)
    except TypeError:  # (Pillow before 10.1: one size)
        font = ImageFont.load_default()
    side = 28 * INPUT_SCALE  # a digit's input, drawn
    cell = side + MARGIN
    width = max(line.shape[1] * SCALE, len(reading.digits) * cell) + 2 * MARGIN
    top = MARGIN + 20  # the digits' readings above their boxes
    below = top + line.shape[0] * SCALE + MARGIN
    picture = Image.new("RGB", (width, below + cell + 44), "white")
    ink = Image.fromarray(np.round(255 * (1 - np.clip(line, 0, 1))).astype(np.uint8), "L")
    picture.paste(ink.resize((line.shape[1] * SCALE, line.shape[0] * SCALE), Image.Resampling.NEAREST),
                  (MARGIN, top))
    draw = ImageDraw.Draw(picture)
    for k, (d, x) in enumerate(zip(reading.digits, inputs)):
        colour = UNSURE if d.unsure else SURE
        left, right, mask = d.piece
        rows = np.flatnonzero(mask.any(axis=1))
        y0, y1 = (rows[0], rows[-1] + 1) if len(rows) else (0, mask.shape[0])
        draw.rectangle((MARGIN + left * SCALE, top + y0 * SCALE, MARGIN + right * SCALE - 1,
                        top + y1 * SCALE - 1), outline=colour, width=2)
        draw.text((MARGIN + left * SCALE + 2, top + y0 * SCALE - 19), str(d.digit), fill=colour, font=font)
        seen = Image.fromarray(np.round(255 * (1 - x)).astype(np.uint8), "L")
        at = MARGIN + k * cell
        picture.paste(seen.resize((side, side), Image.Resampling.NEAREST), (at, below))
        draw.rectangle((at - 1, below - 1, at + side, below + side), outline=colour)
        by = "" if d.read_by == "classifier" else f" {d.read_by}"  # not the classifier's reading
        draw.text((at, below + side + 3), f"{d.digit} {100 * d.confidence:.0f}%{by}",
                  fill=colour, font=font)
    said = f"{reading.spelled(flag_unsure=True)} ({100 * reading.confidence:.1f}%)"
    draw.text((MARGIN, below + cell + 20), said, fill="black", font=font)
    return picture


def save(readings, file: str) -> list[str]:
    """Save each of ``readings`` (a picture's, or its lines') drawn, as PNG files:
    ``file`` for the first (a name ending in ``.read.png``), ``...line2.read.png`` and so
    on for the next; each written whole or not at all. The files written."""
    from ..io import atomic_write

    stem = file[:-len(".read.png")] if file.endswith(".read.png") else os.path.splitext(file)[0]
    files = []
    for n, reading in enumerate(readings):
        path = file if n == 0 else f"{stem}.line{n + 1}.read.png"
        with atomic_write(path, suffix=".png") as tmp:
            drawn(reading).save(tmp, format="PNG")
        files.append(path)
    return files


def save_for_review(readings, min_confidence: float, folder: str, name: str) -> list[str]:
    """Save input ``name``'s ``readings`` (its number, or its lines) drawn into ``folder``
    as ``review_name(name)`` when they are rejected: the chance that all are right, the
    product of their confidences, below ``min_confidence`` (a batch row's confidence).
    The files written (none for an accepted input)."""
    if np.prod([r.confidence for r in readings]) >= min_confidence:
        return []
    return save(readings, os.path.join(folder, review_name(name)))


def review_name(name: str) -> str:
    """A file name for input ``name``'s picture in a folder shared by every input: its
    last part made safe ("forms.tif:2" -> "forms.tif_2"), a short hash of the whole name
    (two inputs called ``x.png`` in other folders differ: 12 hexadecimal digits, so that a
    million rejected inputs of one name, in a million folders, are unlikely to share one),
    ``.read.png``."""
    last = re.split(r"[/\\]", name.rstrip("/\\"))[-1] or "input"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", last)[-80:].lstrip(".") or "input"
    return f"{safe}-{hashlib.sha1(name.encode()).hexdigest()[:12]}.read.png"
