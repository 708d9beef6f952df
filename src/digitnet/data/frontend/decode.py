"""Step 1 of the front end: decode a picture, apply its EXIF orientation, and turn it
into brightness levels in [0, 1] (transparency flattened, numeric levels scaled).

Pillow reads the common formats; a phone's HEIC/HEIF photo (an iPhone's default) is read
by pillow-heif, the ``heif`` extra, registered with Pillow the first time one comes."""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import BinaryIO

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
    if head.startswith(b"%pdf-"):
        return "a PDF document, not a picture: export its page as PNG or JPEG"
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
    a Pillow image or a NumPy array (``from_array``), checked and oriented."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, Image.Image):
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
#: that are read (a document scanner's batch of forms, a fax).
TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
MAX_PAGES = 1000


#: A PDF's pages are drawn at this many dots per inch (a scanner's usual resolution).
PDF_DPI = 200


def pages(source: str | os.PathLike | bytes, name: str | None = None) -> list[bytes] | None:
    """The pages of a document (a path or its bytes, called ``name`` in errors): of a
    multi-page TIFF (a document scanner's or a fax's file), each as the bytes of a
    one-page TIFF; of a PDF, each drawn at ``PDF_DPI`` as a PNG (the ``pdf`` extra,
    pypdfium2). None for any other file, which is one picture (an animated GIF's frames
    are not pages: its first is the picture)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _pages(io.BytesIO(bytes(source)), name or "image")
    try:
        if os.path.getsize(source) > MAX_BYTES:
            return None  # reading it will say what is wrong
        file = open(source, "rb")  # noqa: SIM115  (closed below; Pillow reads what it needs)
    except OSError:
        return None
    with file:
        return _pages(file, name or str(source))


def _pages(file: BinaryIO, name: str) -> list[bytes] | None:
    from PIL import Image

    head = file.read(1024)
    if head.lstrip().startswith(b"%PDF-"):
        file.seek(0)
        return _pdf_pages(file.read(), name)
    if head[:4] not in TIFF_MAGIC:
        return None
    file.seek(0)
    try:
        with warnings.catch_warnings():  # (damaged tags: the picture's own reading says more)
            warnings.simplefilter("ignore")
            image = Image.open(file)
            count = getattr(image, "n_frames", 1)
    except Exception:  # noqa: BLE001  (not one Pillow reads: reading it says what is wrong)
        return None
    with image:
        if count < 2:
            return None
        if count > MAX_PAGES:
            raise ImageError(f"{name}: {count:,} pages, more than digitnet reads in one file ({MAX_PAGES:,})")
        out = []
        for k in range(count):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    image.seek(k)
                    if image.width * image.height > MAX_PIXELS:
                        raise ImageError(f"{name}: page {k + 1} is {image.width}x{image.height} "
                                         f"pixels, more than digitnet reads ({MAX_PIXELS:,})")
                    buffer = io.BytesIO()
                    image.copy().save(buffer, format="TIFF", compression="tiff_adobe_deflate")
            except ImageError:
                raise
            except Exception as e:  # noqa: BLE001  (Pillow's decoders raise many kinds)
                raise ImageError(f"{name}: page {k + 1} is not readable "
                                 f"({' '.join(str(e).split())[:120]})") from None
            out.append(buffer.getvalue())
        return out


def _pdf_pages(data: bytes, name: str) -> list[bytes]:
    """Each page of the PDF ``data`` drawn at PDF_DPI in grey, as PNG bytes."""
    try:
        import pypdfium2
    except ImportError:
        raise ImageError(f"{name}: a PDF document, which needs pypdfium2 to be read: "
                         "pip install 'digitnet[pdf]' (or export its pages as PNG)") from None
    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as e:  # noqa: BLE001  (pdfium's errors for a damaged file)
        raise ImageError(f"{name}: not a readable PDF ({' '.join(str(e).split())[:120]})") from None
    try:
        if len(document) > MAX_PAGES:
            raise ImageError(f"{name}: {len(document):,} pages, more than digitnet reads in one file "
                             f"({MAX_PAGES:,})")
        out = []
        for k in range(len(document)):
            width, height = document[k].get_size()  # points, 72 an inch
            scale = PDF_DPI / 72
            if width * height * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / (width * height)) ** 0.5  # a poster: drawn smaller
            buffer = io.BytesIO()
            document[k].render(scale=scale, grayscale=True).to_pil().save(buffer, format="PNG")
            out.append(buffer.getvalue())
        return out
    except ImageError:
        raise
    except Exception as e:  # noqa: BLE001
        raise ImageError(f"{name}: page {k + 1} of the PDF is not readable "
                         f"({' '.join(str(e).split())[:120]})") from None
    finally:
        document.close()


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
    if (a.ndim == 2 and a.shape[1] == 784) or (a.ndim == 3 and a.shape[1:] == (28, 28)
                                                and a.shape[0] not in (3, 4)):
        # several digits in MNIST's form, as data sets hold them, not one picture to read
        # ((3, 28, 28) and (4, 28, 28) are more likely colour with its channels first)
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


