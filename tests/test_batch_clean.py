"""The cheap path for small clean scans gives ``to_mnist``'s input to the last bit, or
steps aside."""

import io

import numpy as np
import pytest
from PIL import Image

from digitnet.batch.clean import decode, prepare_clean
from digitnet.data.preprocess import to_mnist
from digitnet.errors import ImageError


def png(grey, mode="L"):
    buffer = io.BytesIO()
    Image.fromarray(grey.astype(np.uint8), "L").convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def scans(rng, n, size=28):
    """Anti-aliased strokes of every grey level, on white, black or grey paper."""
    out = []
    for i in range(n):
        ink = np.zeros((size, size))
        top, left = rng.integers(3, size // 3, 2)
        ink[top:top + size // 2, left:left + 3] = 1.0
        ink[top:top + 3, left:left + size // 3] = rng.uniform(0.3, 1.0)
        ink[top + 1:top + size // 2 - 1, left + 3] = rng.uniform(0.02, 0.6)  # a soft edge
        paper = [255, 0, 200][i % 3]
        sign = -1 if paper > 127 else 1
        out.append(np.clip(paper + sign * ink * rng.uniform(60, 255), 0, 255).round())
    return out


@pytest.mark.parametrize("size", [28, 20, 40])
def test_clean_scans_are_prepared_as_to_mnist_does(size):
    rng = np.random.default_rng(size)
    pictures = [png(g) for g in scans(rng, 30, size)]
    cheap = prepare_clean([decode(p) for p in pictures])
    assert sum(c is not None for c in cheap) >= 25  # the cheap path is taken
    for c, p in zip(cheap, pictures):
        if c is not None:
            assert c.tobytes() == to_mnist(p).tobytes()


def test_anything_unusual_goes_the_usual_way():
    rng = np.random.default_rng(0)
    grey = scans(rng, 1)[0]
    speck = grey.copy()
    speck[1, 1] = 230  # a faint lone speck, which ``ink`` removes
    uneven = grey.copy()
    uneven[0, 5] = 250  # paper not one level
    blank = np.full((28, 28), 255)
    pictures = [png(speck), png(uneven), png(grey, "RGB"), png(blank), b"\x89PNG not one", png(grey)]
    cheap = prepare_clean([decode(p) for p in pictures])
    assert [c is None for c in cheap] == [True, True, True, True, True, False]
    with pytest.raises(ImageError, match="no digit"):
        to_mnist(pictures[3])
