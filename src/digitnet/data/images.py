"""Reading digit images from files."""

from pathlib import Path

import numpy as np

from ..errors import ImageError

IMAGE_SIZE = 28


def load_mnist_style(path):
    """Read a 28x28 MNIST-style image (white digit on black) from a PNG (or any image
    Pillow reads) or a ``.npy`` array, as a float32 row of 784 values in [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise ImageError(f"{path}: not a readable .npy array: {e}") from None
        if array.dtype.kind not in "uif" or array.size != IMAGE_SIZE * IMAGE_SIZE:
            raise ImageError(f"{path}: expected a 28x28 numeric array, got {array.dtype} {array.shape}")
        array = array.astype(np.float32).reshape(-1)
        if array.max(initial=0) > 1.0:
            array /= 255.0
        if not np.isfinite(array).all() or array.min(initial=0) < 0 or array.max(initial=0) > 1:
            raise ImageError(f"{path}: values must lie in [0, 1] or [0, 255]")
        return array
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            grey = np.asarray(image.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise ImageError(f"{path}: not a readable image: {e}") from None
    if grey.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ImageError(f"{path}: is {grey.shape[1]}x{grey.shape[0]} pixels; MNIST-style "
                         f"input must be 28x28 (white digit on black)")
    return grey.reshape(-1) / 255.0
