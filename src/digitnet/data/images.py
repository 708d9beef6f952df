"""Reading digit images from files."""

import io
import math
import tokenize
import warnings
from pathlib import Path

import numpy as np

from ..errors import ImageError

IMAGE_SIZE = 28
#: Larger files are not digit images (a 12-megapixel photo is about 5 MB as JPEG).
MAX_FILE_BYTES = 50 << 20


def load_mnist_style(path):
    """Read a 28x28 MNIST-style image (white digit on black) from a PNG (or any image
    Pillow reads) or a ``.npy`` array, as a float32 row of 784 values in [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        try:
            array = _load_npy(path)
        except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as e:
            raise ImageError(f"{path}: not a readable .npy array: {e}") from None
        if array.dtype.kind not in "uif" or array.size != IMAGE_SIZE * IMAGE_SIZE:
            raise ImageError(f"{path}: expected a 28x28 numeric array, got {array.dtype} {array.shape}")
        return levels(array.reshape(-1), path)
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImageError(f"{path}: {path.stat().st_size:,} bytes is too large for an image "
                         f"of a digit")
    try:
        # A damaged file can make Pillow warn (corrupt EXIF, decompression bomb, ...):
        # such a file is refused, in one line, rather than read with a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # From memory: Pillow reads a chunk by the length its header claims, and a
            # forged length would make it allocate gigabytes for a file of 100 bytes.
            with Image.open(io.BytesIO(path.read_bytes())) as image:
                if image.size != (IMAGE_SIZE, IMAGE_SIZE):  # before decoding any pixel
                    raise ImageError(f"{path}: is {image.width}x{image.height} pixels; "
                                     f"MNIST-style input must be 28x28 (white digit on black)")
                grey = np.asarray(image.convert("L"), dtype=np.float32)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            SyntaxError, EOFError, IndexError, TypeError, Warning) as e:
        raise ImageError(f"{path}: not a readable image: {e}") from None
    if grey.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ImageError(f"{path}: is {grey.shape[1]}x{grey.shape[0]} pixels; MNIST-style "
                         f"input must be 28x28 (white digit on black)")
    return grey.reshape(-1) / 255.0


#: The most digits one ``.npy`` stack may hold (as float32, 314 MB).
MAX_STACK = 100_000


def is_stack(shape) -> bool:
    """Whether an array of ``shape`` is a stack of digits: (N, 784) or (N, 28, 28)."""
    return tuple(shape[1:]) in ((IMAGE_SIZE * IMAGE_SIZE,), (IMAGE_SIZE, IMAGE_SIZE))


def npy_shape(path) -> tuple | None:
    """The shape a ``.npy`` file's header gives, or None when it has no readable header."""
    try:
        with open(path, "rb") as f:
            return _npy_header(f)[0]
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError):
        return None


def in_mnist_form(path) -> bool:
    """Whether a ``.npy`` file holds one digit in MNIST's form (784 numbers: 28x28, or a
    row), which is read as it is; any other array is a picture for the front end (or,
    unreadable, refused there)."""
    shape = npy_shape(path)
    return shape is None or math.prod(shape) == IMAGE_SIZE * IMAGE_SIZE


def load_mnist_stack(path) -> np.ndarray:
    """A ``.npy`` stack of MNIST-style digits ((N, 784) or (N, 28, 28), levels in [0, 1]
    or [0, 255]) as float32 rows (N, 784) in [0, 1]."""
    try:
        array = _load_npy(path, stack=True)
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as e:
        raise ImageError(f"{path}: not a readable .npy array: {e}") from None
    return levels(array.reshape(len(array), IMAGE_SIZE * IMAGE_SIZE), path)


def levels(array: np.ndarray, path=None) -> np.ndarray:
    """Numeric levels in [0, 1] or [0, 255] as float32 in [0, 1]; an error names ``path``."""
    array = array.astype(np.float32)
    if array.max(initial=0) > 1.0:
        array /= 255.0
    if not np.isfinite(array).all() or array.min(initial=0) < 0 or array.max(initial=0) > 1:
        where = "" if path is None else f"{path}: "
        raise ImageError(f"{where}values must lie in [0, 1] or [0, 255]")
    return array


def _npy_header(f):
    """(shape, dtype) from the header of the ``.npy`` file open as ``f``."""
    with warnings.catch_warnings():
        # a header written by Python 2 ("28L") gets NumPy's advice to save it again
        warnings.simplefilter("ignore", UserWarning)
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f".npy format version {version} is not supported")
        shape, _, dtype = read_header(f)
        return shape, dtype


def _load_npy(path, stack: bool = False):
    """np.load, after checking from the header alone that the array is small and
    numeric (one digit, or with ``stack`` up to MAX_STACK of them): a header may claim any
    shape, and NumPy would allocate it first."""
    with open(path, "rb") as f:
        shape, dtype = _npy_header(f)
        if stack:
            if dtype.kind not in "uif" or not is_stack(shape) or not 1 <= shape[0] <= MAX_STACK:
                raise ValueError(f"expected 1 to {MAX_STACK:,} digits as (N, 784) or (N, 28, 28) "
                                 f"numbers, got {dtype} {shape}")
        elif dtype.kind not in "uif" or math.prod(shape) != IMAGE_SIZE * IMAGE_SIZE:
            raise ValueError(f"expected a 28x28 numeric array, got {dtype} {shape}")
        f.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return np.load(f, allow_pickle=False)
