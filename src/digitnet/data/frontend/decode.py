"""Step 1 of the front end: decode a picture, apply its EXIF orientation, and turn it
into brightness levels in [0, 1] (transparency flattened, numeric levels scaled).

Pillow reads the common formats; a phone's HEIC/HEIF photo (an iPhone's default) is read
by pillow-heif, the ``heif`` extra, registered with Pillow the first time one comes."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import re
import threading
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...errors import ImageError

#: Larger images are refused before they are decoded (a "decompression bomb").
MAX_PIXELS = 40_000_000


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


#: The major brands (bytes 8-12, after "ftyp") of HEIF files: HEIC (HEVC) photos, HEIF
#: image sequences, and the generic "mif1"; AVIF's ("avif", "avis") Pillow reads itself.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
AVIF_BRANDS = {b"avif", b"avis"}
HEIF_MISSING = ("a HEIC/HEIF photo (an iPhone's format), which needs pillow-heif: "
                "pip install 'digitnet[heif]'")


def _not_a_picture(data: bytes) -> str | None:
    """What a file Pillow cannot read is, when it is a document users export digits in."""
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "an SVG drawing, not a picture of pixels: export it as PNG"
    return None


def _brand(data: bytes) -> bytes | None:
    """The major brand of an ISO media file (HEIF, AVIF), None for any other file."""
    return data[8:12] if data[4:8] == b"ftyp" else None


def _read_heif(name: str) -> None:
    """Teach Pillow HEIF, or say in one line what to install."""
    try:
        import pillow_heif
    except ImportError:
        raise ImageError(f"{name}: {HEIF_MISSING}") from None
    pillow_heif.register_heif_opener()


def open_image(source):
    """A Pillow image from a path, bytes, an open binary file (an upload, ``io.BytesIO``),
    a Pillow image, a NumPy array (``from_array``) or a document's ``Page``, checked and
    oriented. A PDF of one page is that page; a document of several pages is refused
    (``ImageError``): its pages are read one by one (``pages``)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, Page):
        image = source.image()
    elif isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        return from_array(source)
    else:
        if isinstance(source, (bytes, bytearray, memoryview)):
            name, data = "image", bytes(source)
        elif hasattr(source, "read"):
            name, data = _read_file(source)
        elif not isinstance(source, (str, os.PathLike)):
            raise TypeError("an image is a path, bytes, an open binary file, a Pillow image or "
                            f"a NumPy array, not {type(source).__name__}")
        else:
            path = Path(source)
            name = str(path)
            if not path.is_file():
                raise ImageError(f"{path}: no such file")
            if path.stat().st_size > MAX_BYTES:
                raise ImageError(f"{path}: larger than {MAX_BYTES >> 20} MB")
            data = path.read_bytes()
        if data.startswith(NPY_MAGIC):  # an array saved by NumPy: a picture of levels
            return from_array(_npy_picture(data, name))
        document = _pages(data, data[:1024], name)
        if document is not None:  # a PDF, or a TIFF of several pages
            if len(document) > 1:
                raise ImageError(f"{name}: a document of {len(document)} pages, not one picture: "
                                 "read them one by one (digitnet.pages)")
            return open_image(document[0])
        brand = _brand(data)
        if brand in HEIF_BRANDS:
            _read_heif(name)
        try:
            with warnings.catch_warnings():  # (a damaged file's tags: the error below says it)
                warnings.simplefilter("ignore")
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
            if brand in AVIF_BRANDS:
                raise ImageError(f"{name}: an AVIF picture, which this Pillow cannot read "
                                 "(Pillow 11.3 or later can)") from None
            if what := _not_a_picture(data):
                raise ImageError(f"{name}: {what}") from None
            raise ImageError(f"{name}: not a readable image (not PNG, JPEG, HEIC, BMP, GIF, "
                             "WebP or another format Pillow knows)") from None
        except (OSError, ValueError, SyntaxError, EOFError, RuntimeError, NotImplementedError) as e:
            # (Pillow's decoders raise all of these for damaged files: DDS, AVIF...)
            raise ImageError(f"{name}: not a readable image ({' '.join(str(e).split())[:120]})") from None
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, TypeError):
        return image


#: The first bytes of a TIFF file (little- and big-endian), and the most pages of one
#: document that are read (a document scanner's batch of forms, a fax).
TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
MAX_PAGES = 1000
#: A PDF's pages are drawn at this many dots per inch (a scanner's usual resolution).
PDF_DPI = 200
PDF_MISSING = ("a PDF document, which needs pypdfium2 to be read: "
               "pip install 'digitnet[pdf]' (or export its pages as PNG)")


class Page(NamedTuple):
    """Page ``number`` (from 1) of the ``total`` of a document, a multi-page TIFF or a PDF
    (``source``: its path or its bytes; ``name``, in errors), read only when its picture
    is wanted (``image``): a PDF's page drawn at ``PDF_DPI`` in grey, a TIFF's decoded.
    Every function that takes a picture takes a page: ``digitnet.read_number(page)``."""

    source: str | bytes
    number: int
    total: int
    name: str
    pdf: bool

    def __repr__(self) -> str:
        return f"<page {self.number} of {self.total} of {self.name}>"

    @property
    def label(self) -> str:
        """The page's name in errors and answers: ``name:number`` (a document of one page: ``name``)."""
        return f"{self.name}:{self.number}" if self.total > 1 else self.name

    def image(self):
        """The page as a Pillow image."""
        return _pdf_page(self) if self.pdf else _tiff_page(self)

    def encoded(self) -> bytes:
        """The page as the bytes of a picture of its own: a PDF's a PNG, a TIFF's a
        one-page TIFF (lossless, whatever its levels)."""
        buffer = io.BytesIO()
        if self.pdf:
            self.image().save(buffer, format="PNG")
        else:
            self.image().save(buffer, format="TIFF", compression="tiff_adobe_deflate")
        return buffer.getvalue()


def pages(source: str | os.PathLike | bytes, name: str | None = None) -> list[Page] | None:
    """The pages of a document (a path or its bytes, called ``name`` in errors): of a
    multi-page TIFF (a document scanner's or a fax's file) or of a PDF (the ``pdf``
    extra, pypdfium2), each a ``Page``, read when it is used. None for any other file,
    which is one picture: a TIFF of one page too (an animated GIF's frames are not
    pages: its first is the picture)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _pages(data, data[:1024], name or "image")
    path = os.fspath(source)
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return None  # reading it will say what is wrong
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return None
    return _pages(path, head, name or path)


def may_be_a_document(data: bytes) -> bool:
    """Whether ``data`` may hold several pages (a TIFF or a PDF): the cheap test, by its
    first bytes, before ``pages``."""
    return data[:4] in TIFF_MAGIC or data[:1024].lstrip().startswith(b"%PDF-")


def _pages(source: str | bytes, head: bytes, name: str) -> list[Page] | None:
    pdf = head.lstrip().startswith(b"%PDF-")
    if pdf:
        with _pdf(source, name) as document:
            count = len(document)
        if count == 0:
            raise ImageError(f"{name}: a PDF document without pages")
    elif head[:4] in TIFF_MAGIC:
        count = _tiff_count(source)
        if count < 2:
            return None
    else:
        return None
    if count > MAX_PAGES:
        raise ImageError(f"{name}: {count:,} pages, more than digitnet reads in one file ({MAX_PAGES:,})")
    return [Page(source, k + 1, count, name, pdf) for k in range(count)]


def _tiff_count(source: str | bytes) -> int:
    from PIL import Image

    try:
        with warnings.catch_warnings():  # (damaged tags: the picture's own reading says more)
            warnings.simplefilter("ignore")
            with Image.open(source if isinstance(source, str) else io.BytesIO(source)) as image:
                return int(getattr(image, "n_frames", 1))
    except Exception:  # noqa: BLE001  (not one Pillow reads: reading it says what is wrong)
        return 1


def _tiff_page(page: Page):
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(page.source, str):
                return _LAST_TIFF.page(page)
            with Image.open(io.BytesIO(page.source)) as image:
                return _tiff_frame(image, page)
    except ImageError:
        raise
    except Exception as e:  # noqa: BLE001  (Pillow's decoders raise many kinds)
        raise ImageError(f"{page.label}: not a readable page "
                         f"({' '.join(str(e).split())[:120]})") from None


def _tiff_frame(image, page: Page):
    image.seek(page.number - 1)
    if image.width * image.height > MAX_PIXELS:
        raise ImageError(f"{page.label}: {image.width}x{image.height} pixels is more "
                         f"than digitnet reads ({MAX_PIXELS:,})")
    return image.copy()


class _LastTiff:
    """The last multi-page TIFF file whose pages were read, kept open. Pillow finds page
    k by walking the file's chain of pages from the first, remembering where each page
    it passed begins: opened afresh for every page, the 1,000th page of a document cost
    20 ms to reach, 13 times its decoding; kept open, a document read page after page is
    walked once. One file a process, behind a lock (the server reads from two threads),
    opened again when it changes on disk or in a forked process, closed when its last
    page is read or the process ends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.key: tuple | None = None
        self.image = None

    def page(self, page: Page):
        """Page ``page`` of the TIFF file at ``page.source``, a Pillow image."""
        from PIL import Image

        info = os.stat(page.source)
        # (a forked process opens its own: a file shared with its parent shares its offset)
        key = (page.source, info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size, os.getpid())
        with self.lock:
            try:
                if key != self.key:
                    self._close()
                    self.image, self.key = Image.open(page.source), key
                image = _tiff_frame(self.image, page)
            except Exception:
                self._close()  # (where a damaged page left it is no place to go on from)
                raise
            if page.number == page.total:
                self._close()  # read to the end: the file may be moved or deleted (Windows)
            return image

    def close(self):
        with self.lock:
            self._close()

    def _close(self):
        if self.image is not None:
            self.image.close()
        self.image = self.key = None


_LAST_TIFF = _LastTiff()
atexit.register(_LAST_TIFF.close)


@contextlib.contextmanager
def _pdf(source: str | bytes, name: str):
    """The PDF document ``source`` (pypdfium2's), closed after use."""
    try:
        import pypdfium2
    except ImportError:
        raise ImageError(f"{name}: {PDF_MISSING}") from None
    try:
        document = pypdfium2.PdfDocument(source)
    except Exception as e:  # noqa: BLE001  (pdfium's errors for a damaged file)
        raise ImageError(f"{name}: not a readable PDF ({' '.join(str(e).split())[:120]})") from None
    try:
        yield document
    finally:
        document.close()


def _pdf_page(page: Page):
    """Page ``page`` of a PDF drawn at PDF_DPI in grey (a poster smaller: MAX_PIXELS)."""
    with _pdf(page.source, page.name) as document:
        try:
            drawn = document[page.number - 1]
            width, height = drawn.get_size()  # points, 72 an inch
            scale = PDF_DPI / 72
            if width * height * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / (width * height)) ** 0.5
            image = drawn.render(scale=scale, grayscale=True).to_pil().copy()
            drawn.close()
            return image
        except Exception as e:  # noqa: BLE001
            raise ImageError(f"{page.label}: not a readable page of a PDF "
                             f"({' '.join(str(e).split())[:120]})") from None


#: The first bytes of a ``.npy`` file.
NPY_MAGIC = b"\x93NUMPY"


def _npy_picture(data: bytes, name: str) -> np.ndarray:
    """The array a ``.npy`` file holds, checked from its header before it is read (a
    header may claim any shape): numbers, at most MAX_PIXELS of them a channel. A stack
    of digits in MNIST's form is not one picture: ``digitnet predict`` reads it."""
    from ..images import _npy_header

    try:
        shape, dtype = _npy_header(io.BytesIO(data))
        size = int(np.prod(shape, dtype=np.int64))
        if dtype.kind not in "uifb" or len(shape) not in (1, 2, 3) or size > 4 * MAX_PIXELS:
            raise ImageError(f"{name}: an array of {dtype} {shape} is no picture: (H, W) grey, "
                             "(H, W, 3) colour or (H, W, 4) with alpha, in numbers")
        if size * dtype.itemsize > len(data):
            raise ImageError(f"{name}: not a readable .npy array (its header claims "
                             f"{size * dtype.itemsize:,} bytes; the file holds {len(data):,})")
        if _digit_stack(shape):
            raise ImageError(f"{name}: {shape[0]} digits in MNIST's form, not one picture: "
                             f"digitnet predict reads them, a digit a row")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return np.load(io.BytesIO(data), allow_pickle=False)
    except ImageError:
        raise
    except Exception as e:  # noqa: BLE001  (NumPy's errors for a damaged header or body)
        raise ImageError(f"{name}: not a readable .npy array ({' '.join(str(e).split())[:120]})") from None


def _read_file(file) -> tuple[str, bytes]:
    """(name, bytes) of an open binary file, read from where it stands."""
    name = str(getattr(file, "name", None) or "image")
    try:
        data = file.read(MAX_BYTES + 1)
    except UnicodeDecodeError:
        data = ""
    if isinstance(data, str):
        raise ImageError(f"{name}: opened as text; open the picture in binary mode ('rb')")
    if len(data) > MAX_BYTES:
        raise ImageError(f"{name}: larger than {MAX_BYTES >> 20} MB")
    return name, bytes(data)


def _digit_stack(shape) -> bool:
    """Whether an array of ``shape`` holds several digits in MNIST's form, (N, 784) or
    (N, 28, 28) with N > 1 ((3, 28, 28) and (4, 28, 28) are likelier colour, channels first)."""
    return len(shape) in (2, 3) and shape[0] > 1 and (
        tuple(shape[1:]) == (784,) or (tuple(shape[1:]) == (28, 28) and shape[0] not in (3, 4)))


def from_array(array: np.ndarray):
    """A Pillow image from a NumPy array: grey (H, W), colour (H, W, 3) or with alpha
    (H, W, 4); 8- or 16-bit levels, a mask (booleans, or integers 0 and 1: 1 bright), or
    floats (0 to 1, or 0 to 255 when any is above 1). A row of 784 levels ((784,),
    (1, 784), (1, 28, 28)) is read as MNIST's 28x28; a stack of such digits, (N, 784) or
    (N, 28, 28), is refused (it is not one picture, and read as one it would give a
    wrong answer)."""
    from PIL import Image

    a = np.asarray(array)
    if a.shape in ((784,), (1, 784), (784, 1), (1, 28, 28)):  # one digit in MNIST's form
        a = a.reshape(28, 28)
    if _digit_stack(a.shape):  # several digits, as data sets hold them: not one picture to read
        raise ImageError(f"an array of shape {a.shape} holds {a.shape[0]} digits in MNIST's form, "
                         "not one picture: give one of them (x[i]), or classify them all at once "
                         "with a model's predict (levels 0 to 1): digitnet.shipped_model().predict(x)")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ImageError(f"an array of shape {a.shape} is no picture: (H, W) grey, "
                         "(H, W, 3) colour or (H, W, 4) with alpha")
    if min(a.shape[:2]) < 1:
        raise ImageError("empty image")
    if a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise ImageError(f"{a.shape[1]}x{a.shape[0]} pixels is more than digitnet reads ({MAX_PIXELS:,})")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        a = np.clip(a * (255.0 if a.max(initial=0.0) <= 1.0 else 1.0), 0, 255).round().astype(np.uint8)
    elif a.dtype.kind in "ui":
        most = a.max(initial=0)
        top = 1 if most <= 1 else 255 if most <= 255 else 65535  # a mask of 0 and 1 too
        a = (np.clip(a, 0, top).astype(np.float64) * (255 / top)).round().astype(np.uint8)
    else:
        raise TypeError(f"an array of {a.dtype} is no picture: integer, float or bool levels")
    return Image.fromarray(np.ascontiguousarray(a))


def levels(image) -> np.ndarray:
    """A Pillow image's brightness as floats (H, W) in [0, 1]; a transparent canvas's
    strokes (what is opaque) put on a background of the opposite brightness."""
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
        grey = np.asarray(image if image.mode == "L" else _grey(image), dtype=np.float32)
        grey /= 255.0
    if grey.ndim != 2 or min(grey.shape) < 1:
        raise ImageError("empty image")
    return grey


def _grey(image):
    """``image`` in 8-bit grey; Pillow reaches grey from a few modes (LAB) only via RGB."""
    try:
        return image.convert("L")
    except ValueError:
        try:
            return image.convert("RGB").convert("L")
        except ValueError:
            raise ImageError(f"cannot read an image in Pillow's mode {image.mode}") from None


