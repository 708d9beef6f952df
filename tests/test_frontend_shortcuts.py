"""The front end's shortcuts give what the longer way gives, to the bit: its outputs are
what the shipped models' calibration was fitted on."""

import io

import numpy as np
import PIL
import pytest
from PIL import Image, ImageDraw

from digitnet.data import frontend
from digitnet.data.frontend import fit, light, select
from test_frontend import page, with_seven


def pillow_reduce(values, factor):
    image = Image.fromarray(values.astype(np.float32), "F").reduce(factor)
    return np.asarray(image, dtype=np.float32)


@pytest.mark.parametrize("factor", [2, 3, 4, 5, 7, 12])
@pytest.mark.parametrize("shape", [(280, 280), (140, 280), (97, 61), (480, 641), (12, 30)])
def test_reduce_is_pillows_to_the_bit(factor, shape):
    rng = np.random.default_rng(factor * 1000 + shape[0])
    for values in (rng.random(shape, np.float32) ** 3,  # any levels, and 8-bit ones
                   np.round(rng.random(shape) * 255).astype(np.float32) / 255):
        if min(shape) < factor:
            continue
        ours, theirs = light.reduce(values, factor), pillow_reduce(values, factor)
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("shape, size", [
    ((110, 95), (20, 17)),  # the level pass first
    ((120, 40), (20, 7)),  # the upright pass first (Pillow 13)
    ((61, 20), (20, 7)), ((20, 61), (7, 20)), ((20, 13), (20, 13)),  # a size kept: its pass skipped
    ((199, 3), (20, 1)), ((1, 5), (1, 2))])
def test_lanczos_is_pillows_resize(shape, size):
    rng = np.random.default_rng(shape[0] * 7 + size[1])
    values = (rng.random(shape) * (rng.random(shape) > 0.5)).astype(np.float32)  # strokes and paper
    theirs = np.asarray(Image.fromarray(values, "F").resize(size[::-1], Image.Resampling.LANCZOS))
    ours = fit.lanczos(values, *size)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    if int(PIL.__version__.split(".")[0]) >= 13:  # its order of the two passes
        assert np.array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_lanczos_matches_pillow_on_many_sizes():
    rng = np.random.default_rng(13)
    for _ in range(200):
        shape = tuple(int(n) for n in rng.integers(1, 200, 2))
        size = tuple(min(int(n), m) for n, m in zip(rng.integers(1, 25, 2), shape))
        values = rng.random(shape, np.float32)
        theirs = np.asarray(Image.fromarray(values, "F").resize(size[::-1], Image.Resampling.LANCZOS))
        np.testing.assert_allclose(fit.lanczos(values, *size), theirs, atol=1e-6)
        if int(PIL.__version__.split(".")[0]) >= 13:
            assert np.array_equal(fit.lanczos(values, *size), theirs), (shape, size)


def test_shrink_of_a_picture_thinner_than_the_factor_still_works():
    values = np.random.default_rng(0).random((2, 900), np.float32)
    small, factor = light.shrink(values, 100)
    assert factor == 9 and np.array_equal(small, pillow_reduce(values, 9))


def test_box3_is_the_mean_over_a_zero_padded_neighbourhood():
    values = np.random.default_rng(1).random((37, 52), np.float32)
    padded = np.pad(values, 1)
    rows = padded[:-2] + padded[1:-1]  # the same additions, in the same order
    rows += padded[2:]
    expected = rows[:, :-2] + rows[:, 1:-1]
    expected += rows[:, 2:]
    expected /= 9.0
    assert np.array_equal(light.box3(values), expected)
    brute = sum(padded[i:i + 37, j:j + 52].astype(np.float64) for i in range(3) for j in range(3)) / 9
    assert np.allclose(light.box3(values), brute, atol=1e-6)


@pytest.mark.parametrize("value", [1.0, 0.85, 0.0313725, 1e-3])
def test_a_flat_level_stretched_over_any_crop_is_the_same_level(value):
    # (a drawing on a flat background skips the lighting model: its level is one number)
    level = np.full((70, 35), value, np.float32)
    for shape, box in [((123, 57), (3.2, 10.5, 30.1, 69.0)), ((40, 300), (0, 0, 35, 70)),
                       ((9, 9), (20.7, 33.3, 21.2, 33.9))]:
        assert (light.stretch(level, shape, box) == np.float32(value)).all()


def drawing(size=(280, 140), line=18):
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).line([(60, 30), (150, 30), (90, 120)], fill=0, width=line)
    return np.asarray(image, np.float32) / 255


@pytest.mark.parametrize("flat", [True, False])
def test_soft_ink_in_a_window_round_the_writing_is_the_full_soft_ink_cropped(flat):
    if flat:
        strength = light.contrast(drawing(), np.float32(1.0), True)
        sigma = 0.0
    else:
        values, _ = with_seven(page(noise=0.02, gradient=0.3, seed=3))
        strength = light.contrast(values, np.float32(0.85), True)
        sigma = light.noise(strength)
    found = select.writing(strength, sigma, paper=not flat)
    top, bottom, left, right = found.box
    for pad in (2, 5):
        window = (slice(max(0, top - pad), bottom + pad), slice(max(0, left - pad), right + pad))
        cropped = frontend._soft(strength, found, flat, window)
        assert np.array_equal(cropped, frontend._soft(strength, found, flat)[window])


def test_to_mnist_of_a_drawing_is_the_same_from_a_png_and_from_an_array_of_levels():
    # (decoding an 8-bit grey picture straight into levels, without a converted copy)
    grey = drawing()
    buffer = io.BytesIO()
    Image.fromarray((grey * 255).round().astype(np.uint8), "L").save(buffer, "PNG")
    values, _ = frontend.writing_ink(grey, detail=True)
    assert np.array_equal(frontend.to_mnist(buffer.getvalue()), frontend.fit_mnist(values))


@pytest.mark.parametrize("size", [3, 5, 9, 11])
@pytest.mark.parametrize("shape", [(40, 30), (100, 4), (3, 60)])
def test_rank_filters_are_pillows_max_and_min_filters(size, shape):
    from PIL import ImageFilter

    values = np.random.default_rng(size).random(shape, np.float32)
    image = Image.fromarray(values, "F")
    for op, pillow in ((np.maximum, ImageFilter.MaxFilter), (np.minimum, ImageFilter.MinFilter)):
        theirs = np.asarray(image.filter(pillow(size)), dtype=np.float32)
        assert np.array_equal(light.rank_filter(values, size, op), theirs)
