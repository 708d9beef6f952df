"""From a user's picture to what the network was trained on.

MNIST digits are white on black, their ink fitted into a 20x20 box with the aspect
ratio kept, anti-aliased, then placed in a 28x28 image so that the centre of mass of
the ink is at the centre. A digit drawn in a browser, scanned or photographed is
none of that; ``to_mnist`` applies the same recipe to any image:

1. decode (PNG, JPEG, BMP, GIF, WebP...), apply the EXIF orientation, flatten
   transparency, convert to grey;
2. find the polarity (dark ink on light paper, or the reverse) from the border, and
   turn it into ink intensity in [0, 1], background 0;
3. remove faint noise and the background's unevenness;
4. crop to the ink's bounding box, scale its longest side to 20 pixels, and place it
   in 28x28 by its centre of mass.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import ImageError

#: Larger images are refused before they are decoded (a "decompression bomb").
MAX_PIXELS = 40_000_000
#: Ink fainter than this fraction of the strongest ink is noise.
NOISE = 0.1


#: Larger files are refused before they are read.
MAX_BYTES = 64 << 20


def quiet_pillow_size_warning():
    """Silence Pillow's warning about images over its 89-megapixel limit.

    ``open_image`` refuses anything over MAX_PIXELS with its own one-line message,
    so for the command line and the server Pillow's warning would only be a second,
    noisier line before it. Pillow's limit itself (``Image.MAX_IMAGE_PIXELS``, a
    global) is left as it is: the server opens images from two threads."""
    warnings.filterwarnings("ignore", message=r"Image size \(\d+ pixels\) exceeds limit",
                            module=r"PIL\.")


def open_image(source):
    """A Pillow image from a path, bytes or a Pillow image, checked and oriented."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, Image.Image):
        image = source
    else:
        if isinstance(source, (bytes, bytearray)):
            name, data = "image", bytes(source)
        else:
            path = Path(source)
            name = str(path)
            if not path.is_file():
                raise ImageError(f"{path}: no such file")
            if path.stat().st_size > MAX_BYTES:
                raise ImageError(f"{path}: larger than {MAX_BYTES >> 20} MB")
            data = path.read_bytes()
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(f"{name}: {image.width}x{image.height} pixels is more than "
                                 f"digitnet reads ({MAX_PIXELS:,})")
            image.load()
        except ImageError:
            raise
        except Image.DecompressionBombError as e:  # Pillow's own limit, far above ours
            pixels = re.search(r"\((\d+) pixels\)", str(e))
            size = f"{int(pixels[1]):,} pixels" if pixels else "too many pixels"
            raise ImageError(f"{name}: {size} is more than digitnet reads ({MAX_PIXELS:,})") from None
        except UnidentifiedImageError:  # Pillow's message names a BytesIO object
            raise ImageError(f"{name}: not a readable image (not PNG, JPEG, BMP, GIF, WebP "
                             "or another format Pillow knows)") from None
        except (OSError, ValueError, SyntaxError, EOFError, RuntimeError, NotImplementedError) as e:
            # (Pillow's decoders raise all of these for damaged files: DDS, AVIF...)
            raise ImageError(f"{name}: not a readable image ({' '.join(str(e).split())[:120]})") from None
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, TypeError):
        return image


def ink(source) -> np.ndarray:
    """Ink intensity of an image as floats (H, W) in [0, 1]: 1 is the strongest
    stroke, 0 the paper, whichever the polarity of the original."""
    image = open_image(source)
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] >= 253:
        image = image.convert("L")  # opaque all over (a canvas filled white): grey is all
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        if alpha.min() < 0.99:
            # a transparent canvas: the strokes are what is opaque; put them on a
            # background of the opposite brightness
            opaque = alpha > 0.5
            strokes_dark = grey[opaque].mean() < 0.5 if opaque.any() else True
            background = 1.0 if strokes_dark else 0.0
            grey = grey * alpha + background * (1 - alpha)
    elif image.mode == "F" or image.mode.startswith("I"):
        # levels as numbers, not bytes: floats in [0, 1] (an array saved as TIFF), or 16-bit
        # (or 12-bit) levels; convert("L") would clip them all to black or white
        grey = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        grey = np.clip(grey / max(float(grey.max()), 1.0 if image.mode == "F" else 255.0), 0.0, 1.0)
    else:
        grey = np.asarray(_grey(image), dtype=np.float32) / 255.0
    if grey.ndim != 2 or min(grey.shape) < 1:
        raise ImageError("empty image")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark_ink = float(_median(border)) > 0.5
    values = 1.0 - grey if dark_ink else grey.copy()
    values -= _paper(values)
    peak = float(values.max())
    if peak < 0.15:
        raise ImageError("no digit found: the image is blank (no ink darker or brighter "
                         "than the paper)")
    values /= peak
    # noise: faint pixels, and specks whose neighbourhood holds no stroke (the 3x3 means
    # matter only where the ink is not faint: computed around it, one pixel wider)
    faint = values < NOISE
    rows, cols = np.flatnonzero(~faint.all(axis=1)), np.flatnonzero(~faint.all(axis=0))
    near = values[max(rows[0] - 1, 0):rows[-1] + 2, max(cols[0] - 1, 0):cols[-1] + 2]
    speck = _box3(near) < NOISE / 2
    values[faint] = 0.0
    near[speck] = 0.0
    return values


def _grey(image):
    """``image`` in 8-bit grey; Pillow reaches grey from a few modes (LAB) only via RGB."""
    try:
        return image.convert("L")
    except ValueError:
        try:
            return image.convert("RGB").convert("L")
        except ValueError:
            raise ImageError(f"cannot read an image in Pillow's mode {image.mode}") from None


def _box3(values):
    """Mean over each pixel's 3x3 neighbourhood (rows summed, then columns)."""
    padded = np.pad(values, 1)
    rows = padded[:-2] + padded[1:-1]
    rows += padded[2:]
    total = rows[:, :-2] + rows[:, 1:-1]
    total += rows[:, 2:]
    total /= 9.0
    return total


def _paper(values):
    """The paper's level under the ink, which may vary across a photo: the image
    shrunk to about 24 pixels, the strokes removed by a minimum filter, grown back."""
    from PIL import Image

    h, w = values.shape
    factor = max(1, max(h, w) // 24)
    if factor < 3:  # small images: one level, from the border
        border = np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]])
        return float(_median(border))
    small = Image.fromarray(values.astype(np.float32, copy=False), "F").reduce(factor)
    paper = _min_filter(np.asarray(small), 7)
    low, high = paper.min(), paper.max()
    if low == high:  # evenly lit (a drawing on a canvas): one level, no need to grow it back
        return float(low)
    paper = Image.fromarray(paper, "F")
    return np.asarray(paper.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def _median(values):
    """np.median of a 1-D array, without its generality (the same value: the middle
    one, or the mean of the middle two in the array's precision)."""
    n = len(values)
    middle = np.partition(values, [(n - 1) // 2, n // 2])
    return (middle[(n - 1) // 2] + middle[n // 2]) / values.dtype.type(2)


def _min_filter(values, size):
    """Minimum over each pixel's size x size neighbourhood (size odd), the edges
    repeated beyond the border: Pillow's MinFilter, in two passes (rows, then columns)."""
    r = size // 2
    h, w = values.shape
    padded = np.empty((h + 2 * r, w + 2 * r), values.dtype)
    padded[r:r + h, r:r + w] = values
    padded[:r, r:r + w] = values[0]
    padded[r + h:, r:r + w] = values[-1]
    padded[:, :r] = padded[:, r:r + 1]
    padded[:, r + w:] = padded[:, r + w - 1:r + w]
    rows = padded[:h].copy()
    for i in range(1, size):
        np.minimum(rows, padded[i:i + h], out=rows)
    out = rows[:, :w].copy()
    for j in range(1, size):
        np.minimum(out, rows[:, j:j + w], out=out)
    return out


def _stroke_width(binary):
    """Typical stroke width in pixels: twice the area over the boundary length."""
    area = binary.sum()
    inner = binary[1:-1, 1:-1] & binary[:-2, 1:-1] & binary[2:, 1:-1] & binary[1:-1, :-2] & binary[1:-1, 2:]
    boundary = area - inner.sum()
    return 2.0 * area / max(boundary, 1)


def bounding_box(values, threshold=NOISE):
    ink = values > threshold
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def fit_mnist(values: np.ndarray) -> np.ndarray:
    """Ink (H, W) in [0, 1] -> a 28x28 MNIST-style image as a row of 784 floats:
    cropped to the ink, longest side scaled to 20 px, centred by centre of mass."""
    from PIL import Image

    box = bounding_box(values)
    if box is None:
        raise ImageError("no digit found: the image is blank")
    top, bottom, left, right = box
    crop = values[top:bottom, left:right]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(crop.astype(np.float32), mode="F")
    if max(h, w) > 100:  # averaging down to about 100 px keeps thin strokes visible
        small = small.reduce(max(1, max(h, w) // 100))
    small = _normalise_strokes(small)
    small = np.asarray(small.resize((new_w, new_h), Image.Resampling.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0.0, None)
    if small.max() > 0:
        small = np.clip(small / small.max(), 0.0, 1.0)
    total = small.sum()
    rows, cols = np.indices(small.shape)
    cy = (rows * small).sum() / total
    cx = (cols * small).sum() / total
    out = np.zeros((28, 28), np.float32)
    # whole-pixel shift putting the centre of mass at (14, 14), where MNIST has it
    oy = int(round(14 - cy))
    ox = int(round(14 - cx))
    oy = min(max(oy, 0), 28 - new_h)
    ox = min(max(ox, 0), 28 - new_w)
    out[oy:oy + new_h, ox:ox + new_w] = small
    return out.reshape(-1)


#: MNIST strokes are about 2.5 px wide in the 20 px box: 1/8 of the digit's size.
STROKE = 1 / 8


def _normalise_strokes(image):
    """Thicken hairlines and thin down marker strokes towards MNIST's stroke width,
    measured relative to the digit's size (a pen on a big canvas, or a thick brush)."""
    from PIL import Image, ImageFilter

    values = np.asarray(image, dtype=np.float32)
    if values.max() <= 0 or max(values.shape) < 24:
        return image
    binary = values > 0.5 * values.max()
    width = _stroke_width(binary)
    target = STROKE * max(values.shape)
    size = int(round(target - width)) // 2 * 2 + 1  # odd filter size
    if width < 0.6 * target and size >= 3:
        # a hairline averaged down is faint: bring it to full strength, then widen it
        image = Image.fromarray(np.clip(values / (0.5 * values.max()), 0, 1), "F")
        return image.filter(ImageFilter.MaxFilter(min(size, 11)))
    if width > 2.5 * target:
        return image.filter(ImageFilter.MinFilter(3))
    return image


def to_mnist(source) -> np.ndarray:
    """Any image (path, bytes or Pillow image) -> 784 floats in [0, 1], MNIST-style."""
    return fit_mnist(ink(source))
