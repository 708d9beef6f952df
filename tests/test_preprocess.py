"""Real-world images to MNIST form, on pictures the tests draw themselves."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data.preprocess import to_mnist
from digitnet.errors import ImageError


def seven(size=200, stroke=None, ink=0, paper=255, mode="L", offset=(0, 0), canvas=None):
    """A hand-drawn-looking 7: dark on light by default."""
    canvas = canvas or (size, size)
    image = Image.new(mode, canvas, paper)
    draw = ImageDraw.Draw(image)
    s, (dx, dy) = size, offset
    width = stroke or max(1, size // 12)
    draw.line([(0.25 * s + dx, 0.2 * s + dy), (0.75 * s + dx, 0.2 * s + dy),
               (0.45 * s + dx, 0.85 * s + dy)], fill=ink, width=width)
    return image


def mnist_like_properties(x):
    image = x.reshape(28, 28)
    assert x.dtype == np.float32 and x.shape == (784,)
    assert image.max() == pytest.approx(1.0, abs=0.05) and image.min() >= 0
    rows = np.flatnonzero(image.max(axis=1) > 0.05)
    cols = np.flatnonzero(image.max(axis=0) > 0.05)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21, 22)
    r, c = np.indices(image.shape)
    total = image.sum()
    assert abs((r * image).sum() / total - 14) <= 1.0
    assert abs((c * image).sum() / total - 14) <= 1.0


def blur(x):
    image = np.pad(x.reshape(28, 28), 1)
    return sum(image[i:i + 28, j:j + 28] for i in range(3) for j in range(3)).ravel()


def similar(a, b):
    """Same shape, give or take two pixels of position and a pixel of stroke width."""
    a, b = blur(a).reshape(28, 28), blur(b)
    best = max(np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), b)[0, 1]
               for dy in range(-2, 3) for dx in range(-2, 3))
    return best > 0.8


REFERENCE = to_mnist(seven())


def test_reference_is_mnist_like():
    mnist_like_properties(REFERENCE)


@pytest.mark.parametrize("variant", [
    seven(ink=255, paper=0),                                      # light ink on dark
    seven(mode="RGB", ink=(20, 30, 160), paper=(250, 245, 230)),  # blue pen on cream paper
    seven(size=16, stroke=2),
    seven(size=4000, stroke=300),
    seven(size=2000, stroke=8),                                   # thin strokes, big image
    seven(size=100, offset=(150, 20), canvas=(400, 300)),         # off-centre
    seven(size=200, stroke=40),                                   # thick strokes
])
def test_every_variant_becomes_the_same_digit(variant):
    x = to_mnist(variant)
    mnist_like_properties(x)
    assert similar(x, REFERENCE)


@pytest.mark.parametrize("mode, ink, paper, fmt", [
    ("F", 0.0, 1.0, "TIFF"),      # a float array in [0, 1] saved as TIFF: read as all black
    ("F", 1.0, 0.0, None),        # (light on dark: blank before)
    ("F", 0.0, 255.0, None),
    ("I;16", 0, 4095, "PNG"),     # 12-bit levels in a 16-bit PNG
    ("I;16", 0, 65535, "PNG"),
    ("I", 4095, 0, "TIFF"),
])
def test_images_of_numeric_levels_are_read_by_their_range(tmp_path, mode, ink, paper, fmt):
    image = seven(mode=mode, ink=ink, paper=paper)
    if fmt:
        image.save(tmp_path / f"seven.{fmt.lower()}", fmt)
        image = tmp_path / f"seven.{fmt.lower()}"
    x = to_mnist(image)
    mnist_like_properties(x)
    assert similar(x, REFERENCE)


def test_a_float_image_of_nan_is_blank():
    with pytest.raises(ImageError, match="no digit found"):
        to_mnist(Image.fromarray(np.full((40, 40), np.nan, np.float32), "F"))


def test_opaque_alpha_reads_like_grey():
    """The browser's canvas is RGBA but opaque all over: read as grey, exactly (the
    fast path must not change a pixel), and an almost-opaque one the same way."""
    for alpha in (255, 253):
        rgba = seven(mode="RGBA", ink=(0, 0, 0, alpha), paper=(255, 255, 255, alpha))
        la = seven(mode="LA", ink=(0, alpha), paper=(255, alpha))
        np.testing.assert_allclose(to_mnist(rgba), REFERENCE, atol=0.02)
        np.testing.assert_allclose(to_mnist(la), REFERENCE, atol=0.02)
    # a coloured opaque drawing still becomes grey by luminance
    blue = seven(mode="RGBA", ink=(20, 30, 160, 255), paper=(250, 245, 230, 255))
    np.testing.assert_allclose(to_mnist(blue), to_mnist(blue.convert("RGB")), atol=0.02)


def test_transparent_canvas_with_dark_or_light_strokes():
    for ink in ((0, 0, 0, 255), (255, 255, 255, 255)):
        image = seven(mode="RGBA", ink=ink, paper=(0, 0, 0, 0))
        x = to_mnist(image)
        mnist_like_properties(x)
        assert similar(x, REFERENCE)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_file_formats(tmp_path, fmt):
    path = tmp_path / f"seven.{fmt.lower()}"
    seven().convert("RGB" if fmt == "JPEG" else "L").save(path, fmt)
    assert similar(to_mnist(path), REFERENCE)
    assert similar(to_mnist(path.read_bytes()), REFERENCE)


def test_exif_orientation_is_applied(tmp_path):
    upright = seven()
    stored = upright.rotate(90, expand=True)  # as a camera stores it, with orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "photo.jpg"
    stored.convert("RGB").save(path, exif=exif)
    assert similar(to_mnist(path), REFERENCE)


def test_noise_and_uneven_background_are_removed():
    rng = np.random.default_rng(0)
    image = np.asarray(seven(size=300), dtype=np.float32)
    paper = 200 + 40 * np.linspace(0, 1, 300)[None, :] + rng.normal(0, 6, (300, 300))
    noisy = np.where(image < 128, image, paper).clip(0, 255).astype(np.uint8)
    assert similar(to_mnist(Image.fromarray(noisy)), REFERENCE)


def test_specks_and_faint_streaks_go_and_the_writing_stays():
    from digitnet.data.preprocess import ink

    rng = np.random.default_rng(1)
    for _ in range(20):
        values = np.zeros((40, 60), np.float32)
        top, left = int(rng.integers(10, 23)), int(rng.integers(10, 43))
        values[top:top + 8, left:left + 8] = 1.0  # the writing
        rows, cols = rng.integers(0, 40, 12), rng.integers(0, 60, 12)
        far = (np.abs(rows - top - 4) > 9) | (np.abs(cols - left - 4) > 9)
        values[rows[far], cols[far]] = rng.uniform(0.2, 1, far.sum())  # specks
        values[rng.integers(0, 40), :] += rng.uniform(0, 0.05, 60)  # a faint streak
        found = ink(_dark_on_white(values))
        assert found[top:top + 8, left:left + 8].min() > 0.9
        found[top:top + 8, left:left + 8] = 0
        assert found.max() == 0


def _dark_on_white(values):
    return Image.fromarray((255 * (1 - np.clip(values, 0, 1))).round().astype(np.uint8))


@pytest.mark.parametrize("image", [Image.new("L", (50, 50), 255), Image.new("L", (50, 50), 0),
                                   Image.new("RGBA", (50, 50), (0, 0, 0, 0))])
def test_blank_images_are_no_digit(image):
    with pytest.raises(ImageError, match="no digit found"):
        to_mnist(image)


def test_not_an_image_and_missing(tmp_path):
    with pytest.raises(ImageError, match="not a readable image") as error:
        to_mnist(b"this is text")
    assert "BytesIO" not in str(error.value)  # Pillow's message named an internal object
    with pytest.raises(ImageError, match="no such file"):
        to_mnist(tmp_path / "absent.png")


def test_an_iphones_heic_photo_is_read_with_the_heif_extra(tmp_path, capsys):
    pillow_heif = pytest.importorskip("pillow_heif")
    from digitnet.cli import main

    buffer = io.BytesIO()
    pillow_heif.from_pillow(seven().convert("RGB")).save(buffer, quality=90)
    assert buffer.getvalue()[4:12] == b"ftypheic"
    mnist_like_properties(to_mnist(buffer.getvalue()))
    (tmp_path / "IMG_0001.HEIC").write_bytes(buffer.getvalue())  # as an iPhone names it
    assert main(["predict", str(tmp_path)]) == 0  # a folder: .heic is a picture's suffix
    assert "IMG_0001.HEIC: 7 (" in capsys.readouterr().out


def test_a_heic_photo_without_pillow_heif_says_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "pillow_heif", None)  # not installed
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    with pytest.raises(ImageError, match=r"HEIC.*pip install 'digitnet\[heif\]'"):
        to_mnist(heic)


@pytest.mark.parametrize("data, what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
     r"(not a readable PDF|a PDF document, which needs pypdfium2)"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L9 9"/></svg>', "an SVG drawing"),
    (b'<?xml version="1.0"?>\n<svg width="280"></svg>', "an SVG drawing"),
])
def test_a_document_given_as_a_picture_is_named_in_its_error(data, what):
    with pytest.raises(ImageError, match=f"^image: {what}"):
        to_mnist(data)


def paper_photo(seed, ink=0.0, size=(90, 300)):
    """A phone photo of blotchy paper (uneven light, noise, JPEG), with a 7 of contrast
    ``ink`` (0: blank paper)."""
    from PIL import ImageFilter

    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    light = 1 - 0.25 * ((x - rng.uniform(0, 1)) ** 2 + (y - rng.uniform(0, 1)) ** 2)
    coarse = rng.normal(0, 1, (4, 4)).astype(np.float32)
    blots = np.asarray(Image.fromarray(coarse, "F").resize((w, h), Image.Resampling.BICUBIC))
    stroke = seven(stroke=5, ink=255, paper=0, canvas=(w, h), size=h, offset=(w // 2 - h // 2, 0))
    reflect = 1 - ink * np.asarray(stroke.filter(ImageFilter.GaussianBlur(1)), np.float32) / 255
    paper = 200 * light * (1 + 0.05 * blots) * reflect + rng.normal(0, 3, (h, w))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def test_a_photo_of_blank_paper_has_no_digit_and_faint_ink_still_reads():
    # blotchy paper's texture and light passed for writing: 39 of 60 such photos of
    # blank paper gave a digit (read gave "8888")
    from digitnet.pretrained import resolve_model

    for seed in range(12):
        with pytest.raises(ImageError, match="no digit found"):
            to_mnist(paper_photo(seed))
    model = resolve_model(None)
    for seed in range(6):  # ink as faint as a light pencil's
        assert model.predict(to_mnist(paper_photo(seed, ink=0.25))[None])[0] == 7


def test_decompression_bomb_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000), 1).save(buffer, "PNG")  # small file, 81 megapixels
    with pytest.raises(ImageError, match="more than digitnet reads"):
        to_mnist(buffer.getvalue())


def png_header(width, height):
    """The first bytes of a PNG claiming ``width`` x ``height`` pixels: enough for
    Pillow to read its size, nothing to decode."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width, height, shown", [
    (12_000, 10_000, "12000x10000 pixels"),          # over Pillow's warning limit (89 MP)
    (100_000, 100_000, "10,000,000,000 pixels")])   # over its error limit: Pillow refuses first
def test_huge_headers_get_our_message_and_leave_pillow_alone(width, height, shown, monkeypatch):
    limits = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: limits.append(Image.MAX_IMAGE_PIXELS)
                        or real_open(*a, **k))
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageError, match=f"image: {shown} is more than digitnet reads"):
        to_mnist(png_header(width, height))
    # Pillow's limit is a global; the server opens images from two threads at once
    assert limits == [before] and Image.MAX_IMAGE_PIXELS == before


def test_images_pillow_cannot_decode_or_convert_are_image_errors(monkeypatch):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "DDS")
    dds = bytearray(buffer.getvalue())
    dds[80:84] = bytes(4)  # no pixel format: Pillow raises NotImplementedError
    with pytest.raises(ImageError, match="not a readable image"):
        to_mnist(bytes(dds))
    seven = Image.new("RGB", (40, 40), "white")
    ImageDraw.Draw(seven).line([(20, 5), (20, 35)], fill="black", width=4)
    buffer = io.BytesIO()
    seven.convert("LAB").save(buffer, "TIFF")  # Pillow converts LAB to grey only via RGB
    assert to_mnist(buffer.getvalue()).max() == 1.0

    def broken(self):  # what Pillow's AVIF decoder raises for a damaged file
        raise RuntimeError("Failed to decode image: Missing or empty image item")

    monkeypatch.setattr(Image.Image, "load", broken)
    with pytest.raises(ImageError, match="not a readable image"):
        to_mnist(png_header(30, 30))


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["binary file", "BytesIO", "memoryview"])
def test_open_files_and_buffers_are_pictures(tmp_path, kind):
    path = tmp_path / "seven.png"
    path.write_bytes(_png(seven()))
    if kind == "binary file":
        with open(path, "rb") as file:
            x = to_mnist(file)
    else:
        x = to_mnist(io.BytesIO(path.read_bytes()) if kind == "BytesIO"
                     else memoryview(path.read_bytes()))
    np.testing.assert_array_equal(x, REFERENCE)


def test_a_file_opened_as_text_says_so(tmp_path):
    path = tmp_path / "seven.png"
    path.write_bytes(_png(seven()))
    with open(path, encoding="utf-8") as file, pytest.raises(ImageError, match=r"binary mode \('rb'\)"):
        to_mnist(file)
    with pytest.raises(TypeError, match="not int"):
        to_mnist(7)


def _as(array, kind):
    """The 8-bit grey ``array`` (0 dark) as a user might hold it."""
    if kind == "uint8":
        return array
    if kind == "float 0-1":
        return array.astype(np.float64) / 255
    if kind == "float 0-255":
        return array.astype(np.float32)
    if kind == "uint16":
        return array.astype(np.uint16) * 257
    if kind == "rgb":
        return np.repeat(array[..., None], 3, axis=2)
    if kind == "rgba":
        return np.dstack([array, array, array, np.full_like(array, 255)])
    return array[..., None]  # (H, W, 1)


@pytest.mark.parametrize("kind", ["uint8", "float 0-1", "float 0-255", "uint16", "rgb", "rgba",
                                  "one channel"])
def test_numpy_arrays_are_pictures(kind):
    x = to_mnist(_as(np.asarray(seven(), dtype=np.uint8), kind))
    assert similar(x, REFERENCE)


def test_an_mnist_row_and_a_mask_are_pictures():
    row = REFERENCE.copy()  # 784 floats, light ink on black: MNIST's own form
    assert similar(to_mnist(row), REFERENCE)
    for shape in ((1, 784), (1, 28, 28)):  # one digit of a data set, its first axis kept
        assert similar(to_mnist(row.reshape(shape)), REFERENCE)
    assert similar(to_mnist(row.reshape(28, 28) > 0.5), REFERENCE)
    assert similar(to_mnist((row.reshape(28, 28) > 0.5).astype(np.uint8)), REFERENCE)  # 0 and 1


@pytest.mark.parametrize("array, message", [
    (np.zeros((5, 5, 5)), r"shape \(5, 5, 5\) is no picture"),
    (np.zeros((0, 4)), "empty image"),
    (np.zeros(10), r"shape \(10,\) is no picture"),
    (np.full((30, 30), np.nan), "no digit found"),
    # a data set's digits given at once: read as one picture they gave one wrong answer
    (np.zeros((5, 784), np.uint8), r"shape \(5, 784\) holds 5 digits in MNIST's form"),
    (np.zeros((5, 28, 28)), r"shape \(5, 28, 28\) holds 5 digits"),
    (np.zeros((3, 28, 28)), r"shape \(3, 28, 28\) is no picture: \(H, W\) grey, \(H, W, 3\)"),
])
def test_arrays_that_are_no_picture_are_image_errors(array, message):
    with pytest.raises(ImageError, match=message):
        to_mnist(array)
    with pytest.raises(TypeError, match="no picture"):
        to_mnist(np.array([["a", "b"], ["c", "d"]]))


def test_a_npy_file_is_a_picture_of_levels(tmp_path, capsys):
    # a .npy file given as a picture was "not a readable image"
    import digitnet
    from digitnet.cli import main

    grey = np.asarray(seven(), dtype=np.float32) / 255  # floats 0-1, dark ink on white
    np.save(tmp_path / "seven.npy", grey)
    assert digitnet.predict(str(tmp_path / "seven.npy")).digit == 7
    assert digitnet.predict((tmp_path / "seven.npy").read_bytes()).digit == 7
    assert main(["read", "--model", "cnn", str(tmp_path / "seven.npy")]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'seven.npy'}: 7 (")


@pytest.mark.parametrize("array, message", [
    (np.zeros((5, 784), np.uint8), r"five\.npy: 5 digits in MNIST's form, not one picture: digitnet predict"),
    (np.array(["a", "b"]), r"five\.npy: an array of <U1 \(2,\) is no picture"),
    (np.zeros((2, 3, 4, 5)), r"five\.npy: an array of float64 \(2, 3, 4, 5\) is no picture"),
])
def test_a_npy_file_that_is_no_picture_is_one_line(tmp_path, array, message):
    np.save(tmp_path / "five.npy", array)
    with pytest.raises(ImageError, match=message):
        to_mnist(str(tmp_path / "five.npy"))


def test_a_npy_header_claiming_a_huge_array_is_refused_before_reading(tmp_path):
    header = np.lib.format.header_data_from_array_1_0(np.zeros((2, 2), np.uint8))
    header["shape"] = (100_000, 100_000)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with pytest.raises(ImageError, match=r"^image: an array of uint8 \(100000, 100000\) is no picture"):
        to_mnist(buffer.getvalue() + b"\x00" * 4)
    with pytest.raises(ImageError, match=r"^image: not a readable \.npy array"):
        to_mnist(b"\x93NUMPY\x01\x00garbage")
    header["shape"] = (3000, 3000)  # within bounds, but the file holds 4 bytes of it
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with pytest.raises(ImageError, match=r"^image: not a readable \.npy array \(its header claims 9,000,000"):
        to_mnist(buffer.getvalue() + b"\x00" * 4)


def test_predict_reads_a_npy_picture_through_the_front_end(tmp_path, capsys):
    # predict took every .npy for 28x28 MNIST form: "expected a 28x28 numeric array"
    from digitnet.cli import main

    np.save(tmp_path / "seven.npy", np.asarray(seven()))  # 200x200, dark ink on white
    assert main(["predict", "--model", "cnn", str(tmp_path / "seven.npy")]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'seven.npy'}: 7 (")
    out = tmp_path / "rows.csv"
    assert main(["predict", "--model", "cnn", str(tmp_path / "seven.npy"), "--out", str(out), "--quiet"]) == 0
    assert out.read_text().splitlines()[1].startswith(f"{tmp_path / 'seven.npy'},7,")
