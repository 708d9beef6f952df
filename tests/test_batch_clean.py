"""The cheap path for small clean scans gives ``to_mnist``'s input to the last bit, or
steps aside."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from digitnet.batch.clean import decode, prepare
from digitnet.data.preprocess import to_mnist
from digitnet.errors import ImageError


def png(grey, mode="L", format="PNG", **save):
    buffer = io.BytesIO()
    Image.fromarray(np.clip(grey, 0, 255).round().astype(np.uint8), "L").convert(mode).save(
        buffer, format=format, **save)
    return buffer.getvalue()


def scan(rng, shape, paper):
    """Strokes of every grey level with soft edges, a stroke broken in two, and now and
    then a speck or a blot at the edge, on paper of one level."""
    h, w = shape
    ink = np.zeros(shape)
    top, left = rng.integers(2, h // 4 + 2), rng.integers(2, w // 3 + 1)
    tall, wide = h // 2, max(3, w // 3)
    ink[top:top + tall, left:left + 2] = 1.0
    ink[top + 1:top + tall - 1, left + 2] = rng.uniform(0.02, 0.6)  # a soft edge
    gap = rng.integers(0, 3)  # 0: joined; else a gap between the bar and the stem
    ink[top:top + 2, left + 2 + gap:left + 2 + gap + wide] = rng.uniform(0.3, 1.0)
    if rng.random() < 0.4:  # a speck: kept or dropped by the front end's rule
        y, x = rng.integers(0, h), rng.integers(0, w)
        ink[y, x] = rng.uniform(0.1, 1.0)
    if rng.random() < 0.3:  # a blot touching the frame's edge
        ink[h - 3:, :3] = rng.uniform(0.2, 1.0)
    sign = -1 if paper > 127 else 1
    return paper + sign * ink * rng.uniform(40, 255)


SHAPES = [(28, 28), (20, 20), (40, 40), (64, 64), (28, 40), (36, 22)]


@pytest.mark.parametrize("shape", SHAPES)
def test_clean_scans_are_prepared_as_to_mnist_does(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    papers = [255, 0, 200, 128, 40]
    pictures = [png(scan(rng, shape, papers[i % 5]), "RGB" if i % 7 == 3 else "L",
                    "BMP" if i % 6 == 1 else "PNG") for i in range(40)]
    cheap = prepare([decode(p) for p in pictures])
    taken = 0
    for c, p in zip(cheap, pictures):
        try:
            expected = to_mnist(p)
        except ImageError:  # nothing to read: the cheap path must have stepped aside
            assert c is None
            continue
        if c is not None:
            taken += 1
            assert c.tobytes() == expected.tobytes()
    assert taken >= 30  # the cheap path is taken


def test_anything_unusual_goes_the_usual_way(tmp_path):
    rng = np.random.default_rng(0)
    grey = scan(rng, (28, 28), 255)
    uneven = grey.copy()
    uneven[0] = np.linspace(200, 255, 28)  # paper not one level all round
    blank = np.full((28, 28), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: open_image applies it
    large = np.full((65, 65), 255.0)
    large[20:40, 30:33] = 0
    palette = io.BytesIO()
    Image.fromarray(grey.round().astype(np.uint8)).convert("P").save(palette, format="PNG")
    pictures = [png(uneven), png(blank), png(grey, exif=exif.tobytes()), png(large), palette.getvalue(),
                b"\x89PNG not one", np.zeros(784), png(grey)]
    cheap = prepare([decode(p) for p in pictures])
    assert [c is None for c in cheap] == [True] * 7 + [False]
    with pytest.raises(ImageError, match="no digit"):
        to_mnist(pictures[1])
    path = tmp_path / "scan.png"
    path.write_bytes(pictures[-1])
    assert decode(str(path)).tobytes() == decode(pictures[-1]).tobytes()  # a path as its bytes
    assert decode(str(tmp_path)) is None  # a folder: the usual way says what is wrong
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.png")
        assert decode(str(tmp_path / "fifo.png")) is None  # not opened: it would wait for a writer


def test_a_faint_smudge_larger_than_the_digit_is_not_the_writing():
    grey = np.full((40, 40), 255.0)
    grey[6:34, 4:22] = 255 - 0.35 * 255  # a wide faint smudge, away from the edges
    grey[8:30, 28:31] = 0  # the digit: a one
    p = png(grey)
    [cheap] = prepare([decode(p)])
    assert cheap is not None and cheap.tobytes() == to_mnist(p).tobytes()


def test_the_steps_are_the_front_ends_to_the_last_bit():
    from digitnet.batch.clean import _box3, _contrast, _threshold
    from digitnet.data.frontend import light, select

    rng = np.random.default_rng(1)
    papers = [255.0, 0.0, 201.0]
    grey = np.stack([scan(rng, (28, 28), papers[i % 3]) for i in range(30)]).round().astype(np.uint8)
    levels = grey.astype(np.float32) / 255
    background = np.median(levels[:, 0], axis=1)  # (a top row of paper: one level all round)
    strength = _contrast(levels, background)
    smooth = _box3(strength)
    t = _threshold(smooth)
    for k in range(len(grey)):
        level = np.float32(max(float(background[k]), 1e-3))
        alone = light.contrast(levels[k], level, float(background[k]) > 0.5)
        assert strength[k].tobytes() == alone.tobytes()
        assert smooth[k].tobytes() == light.box3(alone).tobytes()
        assert t[k] == select.threshold(light.box3(alone), 0.0)


def test_a_digit_in_a_printed_box_goes_the_usual_way():
    # (the usual way takes the box out: select.alone_print; the cheap path has no such step)
    grey = np.full((48, 48), 255.0)
    grey[6, 6:42] = grey[41, 6:42] = grey[6:42, 6] = grey[6:42, 41] = 0  # a box
    grey[14:34, 23:26] = 0  # a 1 in it
    [cheap] = prepare([decode(png(grey))])
    assert cheap is None
    columns = np.flatnonzero(to_mnist(png(grey)).reshape(28, 28).max(axis=0) > 0.5)
    assert np.ptp(columns) < 8  # the 1 alone, not the box
