"""Untrusted files: random, truncated and mutated bytes fed to the IDX reader, the
model loader (and the checkpoint loader) and the image loader.

Each either reads the file or raises its one documented exception (DataError,
ModelFileError, ImageError, all DigitnetError); the CLI turns those into one line
on stderr and exit status 2. Memory stays proportional to the file, whatever its
header claims, and a model file never runs code.

The number of inputs each property tries is explicit below (``EXAMPLES``); the slow
variants (``-m slow``) try many more. Each test prints what it tried (``pytest -s``).
"""

import gzip
import io
import json
import os
import struct
import tempfile
import tracemalloc
import zipfile
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitnet.checkpoint import load_checkpoint, save_checkpoint
from digitnet.cli import main
from digitnet.data.idx import read_idx, write_idx
from digitnet.data.images import load_mnist_style
from digitnet.errors import DataError, DigitnetError, ImageError, ModelFileError
from digitnet.io import CONFIG_KEY, load_model, read_config, save_model
from digitnet.nn import mlp
from digitnet.train import Position

# Failing examples here are files of several kB; hypothesis warns that printing them
# is long, which must not turn a report into an error.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

EXAMPLES = int(os.environ.get("DIGITNET_FUZZ_EXAMPLES", 300))  # per property, default suite
SLOW_EXAMPLES = 5_000  # per property, with -m slow
#: However large a header says the content is, reading a file of a few kB may not
#: take more memory than this.
MEMORY_LIMIT = 20 << 20

TRIED = Counter()
FOLDER = Path(tempfile.mkdtemp(prefix="digitnet-fuzz-"))


def fuzz_settings(n):
    # derandomized: CI tries the same inputs every run, so a failure is reproducible
    return settings(max_examples=n, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- inputs: valid files, then random, truncated and mutated versions of them ----


def _idx_bytes(array, compress):
    path = FOLDER / ("seed.idx.gz" if compress else "seed.idx")
    write_idx(path, array)
    return path.read_bytes()


VALID_IDX = [
    _idx_bytes(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28), False),
    _idx_bytes(np.arange(10, dtype=np.uint8), True),
    _idx_bytes(np.linspace(-1, 1, 12).reshape(3, 4), False),     # float64, 2-D
    _idx_bytes(np.arange(-3, 3, dtype=np.int16), True),
]


def _model_bytes(network):
    path = FOLDER / "seed-model.npz"
    save_model(path, network, {"metrics": {"a": 1}})
    return path.read_bytes()


def _valid_models():
    """A small MLP, a small CNN (convolution, pooling, dropout) and an ensemble."""
    from digitnet.nn.ensemble import Ensemble
    from digitnet.recipes import RECIPES, build_network

    cnn = build_network({**RECIPES["cnn"], "channels": [2, 2], "hidden": 4},
                        np.random.default_rng(0))
    members = [mlp([784, 3, 10], "relu", "ce", init="he", rng=i) for i in range(2)]
    return [_model_bytes(members[0]), _model_bytes(cnn), _model_bytes(Ensemble(members))]


def _checkpoint_bytes():
    path = FOLDER / "seed.ckpt.npz"
    net = mlp([784, 3, 10], rng=0)
    rng = np.random.default_rng(0)
    save_checkpoint(path, net, None, rng, Position(1, 2, 0.5, rng.bit_generator.state), [])
    return path.read_bytes()


def _image_bytes(fmt, mode="L"):
    from PIL import Image

    pixels = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()


def _npy_bytes():
    buffer = io.BytesIO()
    np.save(buffer, np.linspace(0, 1, 784, dtype=np.float32).reshape(28, 28))
    return buffer.getvalue()


VALID_MODELS, VALID_CHECKPOINT = _valid_models(), _checkpoint_bytes()
VALID_MODEL = VALID_MODELS[0]
VALID_IMAGES = {"png": _image_bytes("PNG"), "png-rgb": _image_bytes("PNG", "RGB"),
                "bmp": _image_bytes("BMP"), "gif": _image_bytes("GIF"),
                "jpeg": _image_bytes("JPEG"), "tiff": _image_bytes("TIFF")}
VALID_NPY = _npy_bytes()


@st.composite
def mutated(draw, valid):
    """A valid file, then truncated, or with bytes flipped, inserted, or deleted."""
    data = bytearray(draw(st.sampled_from(valid)))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "splice"]))
    if kind == "truncate":
        return bytes(data[:draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif kind == "splice":  # a big number where a size might be
            data[at:at + 4] = struct.pack(">I", draw(st.sampled_from(
                [0, 1, 255, 2**16, 2**31 - 1, 2**31, 2**32 - 1])))
    return bytes(data)


def untrusted(valid):
    return st.one_of(st.binary(max_size=4096), mutated(valid))


@st.composite
def idx_headers(draw):
    """A well-formed IDX header (any type code, 1-4 dimensions up to 2**32 - 1)
    followed by a little data: the header may claim far more than is there."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]))
    dims = draw(st.lists(st.one_of(st.integers(0, 30), st.integers(0, 2**32 - 1)),
                         min_size=1, max_size=4))
    body = draw(st.binary(max_size=256))
    data = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body
    return gzip.compress(data) if draw(st.booleans()) else data


def _places(node):
    """(container, key) for every value in a JSON document."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield node, key
        if isinstance(value, (dict, list)):
            yield from _places(value)


@st.composite
def rezipped_models(draw):
    """A model file whose zip structure is intact (so checksums pass) but whose
    config or arrays were altered: the loader must check the content itself."""
    with zipfile.ZipFile(io.BytesIO(draw(st.sampled_from(VALID_MODELS)))) as z:
        members = {name: z.read(name) for name in z.namelist()}
    config = json.loads(np.load(io.BytesIO(members[CONFIG_KEY + ".npy"])).tobytes())
    target = draw(st.sampled_from(["config", "array", "drop", "add"]))
    if target == "config":  # replace any one value anywhere in the config
        parent, key = draw(st.sampled_from(list(_places(config))))
        parent[key] = draw(st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                st.sampled_from(["type", "in_features", "out_features", "in_channels",
                                 "kernel_size", "init", "p", "x"]),
                inner, max_size=3), max_leaves=6))
        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(json.dumps(config).encode(), np.uint8))
        members[CONFIG_KEY + ".npy"] = buffer.getvalue()
    elif target == "array":
        name = draw(st.sampled_from(sorted(n for n in members if n != CONFIG_KEY + ".npy")))
        members[name] = draw(mutated([members[name]]))
    elif target == "drop":
        members.pop(draw(st.sampled_from(sorted(members))))
    else:
        name = draw(st.text("abcxyz0123./_", min_size=1, max_size=10))
        members[name + ".npy"] = draw(st.binary(max_size=64))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


# -- the properties ---------------------------------------------------------------


def bounded_memory(read, data, suffix, allowed):
    """Write ``data`` to a file, ``read`` it, and return the result or the exception,
    which must be one of ``allowed``; check the peak memory used on the way."""
    path = FOLDER / f"input{suffix}"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        result = read(path)
    except allowed as e:
        assert str(e) and "\n" not in str(e), repr(e)  # one line, never empty
        result = e
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT + 50 * len(data), f"{peak:,} bytes used for {len(data):,}"
    return result


def check_idx(data):
    TRIED["IDX reader"] += 1
    result = bounded_memory(read_idx, data, ".idx", DataError)
    if isinstance(result, np.ndarray):
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        ndim = raw[3]
        assert list(result.shape) == list(struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim]))


def check_model(data):
    TRIED["model loader"] += 1
    result = bounded_memory(load_model, data, ".npz", ModelFileError)
    if not isinstance(result, Exception):
        assert all(np.isfinite(v).all() for v in result.state_dict().values())
        result.predict(np.zeros((1, *result.input_shape), result.dtype))
    bounded_memory(read_config, data, ".npz", ModelFileError)


def check_checkpoint(data):
    TRIED["checkpoint loader"] += 1
    bounded_memory(load_checkpoint, data, ".ckpt.npz", ModelFileError)


def check_image(data, suffix):
    TRIED["image loader"] += 1
    result = bounded_memory(load_mnist_style, data, suffix, ImageError)
    if not isinstance(result, Exception):
        assert result.shape == (784,) and result.dtype == np.float32
        assert np.isfinite(result).all() and 0 <= result.min() and result.max() <= 1


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried():
    """After this file's tests: how many inputs the properties tried (pytest -s)."""
    yield
    for name in sorted(TRIED):
        print(f"\n{name}: {TRIED[name]:,} inputs tried, every failure one documented error")


@fuzz_settings(EXAMPLES)
@given(st.one_of(untrusted(VALID_IDX), idx_headers()))
def test_idx_reader(data):
    check_idx(data)


@fuzz_settings(EXAMPLES)
@given(st.one_of(untrusted(VALID_MODELS), rezipped_models()))
def test_model_loader(data):
    check_model(data)


@fuzz_settings(EXAMPLES // 2)
@given(untrusted([VALID_CHECKPOINT]))
def test_checkpoint_loader(data):
    check_checkpoint(data)


@fuzz_settings(EXAMPLES)
@given(st.one_of(
    st.tuples(untrusted(list(VALID_IMAGES.values())), st.sampled_from([".png", ".jpg", ".bmp"])),
    st.tuples(untrusted([VALID_NPY]), st.just(".npy"))))
def test_image_loader(case):
    check_image(*case)


@pytest.mark.slow
@fuzz_settings(SLOW_EXAMPLES)
@given(st.one_of(untrusted(VALID_IDX), idx_headers()))
def test_idx_reader_many(data):
    check_idx(data)


@pytest.mark.slow
@fuzz_settings(SLOW_EXAMPLES)
@given(st.one_of(untrusted(VALID_MODELS), rezipped_models(), untrusted([VALID_CHECKPOINT])))
def test_model_loader_many(data):
    check_model(data)
    check_checkpoint(data)


@pytest.mark.slow
@fuzz_settings(SLOW_EXAMPLES)
@given(st.one_of(
    st.tuples(untrusted(list(VALID_IMAGES.values())), st.sampled_from([".png", ".jpg", ".bmp"])),
    st.tuples(untrusted([VALID_NPY]), st.just(".npy"))))
def test_image_loader_many(case):
    check_image(*case)


# -- targeted cases the properties must include ---------------------------------


@pytest.mark.parametrize("dims", [(2**31, 2**31, 4), (2**32 - 1,) * 4, (2**16, 2**16, 2**16)])
def test_idx_header_claiming_billions_is_refused_before_allocating(tmp_path, dims):
    """(2**31, 2**31, 4) multiplies to 2**64, which NumPy's int64 product wraps to 0."""
    path = tmp_path / "huge.idx"
    path.write_bytes(bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims))
    tracemalloc.start()
    with pytest.raises(DataError, match="more than the limit"):
        read_idx(path)
    assert tracemalloc.get_traced_memory()[1] < 1 << 20
    tracemalloc.stop()


def test_idx_header_lying_about_its_size_allocates_only_what_is_there(tmp_path):
    path = tmp_path / "liar.idx.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 2_000_000_000) + b"\0" * 1000)
    tracemalloc.start()
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)
    assert tracemalloc.get_traced_memory()[1] < MEMORY_LIMIT
    tracemalloc.stop()


def test_corrupt_gzip_stream_is_a_data_error(tmp_path):
    """Regression: zlib.error escaped read_idx (it is not an OSError)."""
    data = bytearray(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 200]) + bytes(range(200))))
    data[20] ^= 0xFF
    (tmp_path / "bad.gz").write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupt"):
        read_idx(tmp_path / "bad.gz")


def test_model_config_asking_for_a_huge_network_is_refused_before_allocating(tmp_path):
    path = tmp_path / "m.npz"
    save_model(path, mlp([784, 3, 10], rng=0))
    with np.load(path) as npz:
        arrays = dict(npz)
    config = json.loads(arrays[CONFIG_KEY].tobytes())
    config["network"]["layers"][0]["out_features"] = 10**7
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), np.uint8)
    np.savez(path, **arrays)
    tracemalloc.start()
    with pytest.raises(ModelFileError):
        load_model(path)
    assert tracemalloc.get_traced_memory()[1] < MEMORY_LIMIT
    tracemalloc.stop()


def rewrite_config(path, change):
    with np.load(path) as npz:
        arrays = dict(npz)
    config = json.loads(arrays[CONFIG_KEY].tobytes())
    change(config["network"])
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("change,message", [
    # Regressions found by the properties above: each loaded, then failed when used.
    (lambda net: net.update(input_shape=[1]), "do not fit together"),
    (lambda net: net.update(input_shape=None), "invalid input shape"),
    (lambda net: net.update(input_shape=[784, 10**9]), "invalid input shape"),
    (lambda net: net.update(dtype="datetime64[s]"), "not a floating-point type"),
    (lambda net: net.update(dtype="<U3"), "not a floating-point type"),
])
def test_model_configs_that_cannot_work_are_refused_at_load(tmp_path, change, message):
    path = tmp_path / "m.npz"
    path.write_bytes(VALID_MODEL)
    rewrite_config(path, change)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_ensemble_members_are_bounded_together(tmp_path):
    """Each member below the limit, all of them far above it: refused before any is
    built (2 x 784 x 30,000 values each, 40 members)."""
    path = tmp_path / "e.npz"
    path.write_bytes(VALID_MODELS[2])
    with np.load(path) as npz:
        arrays = dict(npz)
    config = json.loads(arrays[CONFIG_KEY].tobytes())
    member = config["ensemble"][0]
    member["layers"][0]["out_features"] = 30_000
    config["ensemble"] = [member] * 40
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), np.uint8)
    np.savez(path, **arrays)
    tracemalloc.start()
    with pytest.raises(ModelFileError, match="more than"):
        load_model(path)
    assert tracemalloc.get_traced_memory()[1] < MEMORY_LIMIT
    tracemalloc.stop()


def test_array_header_claiming_more_than_the_file_holds_is_refused_before_allocating(
        tmp_path):
    """A checkpoint's arrays are read whole: their headers are checked against the
    archive first (the claimed 2.4 GB would otherwise be allocated, then fail)."""
    path = tmp_path / "c.npz"
    path.write_bytes(VALID_CHECKPOINT)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (600_000_000,)})
    members["net/0.bias.npy"] = header.getvalue() + b"\0" * 12
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    tracemalloc.start()
    with pytest.raises(ModelFileError, match="more than the file holds"):
        load_checkpoint(path)
    assert tracemalloc.get_traced_memory()[1] < MEMORY_LIMIT
    tracemalloc.stop()


@pytest.mark.parametrize("header", [
    # Regressions: NumPy parses the header as a Python literal, and a damaged one
    # raised SyntaxError or tokenize.TokenError through load_mnist_style.
    b"{'descr': '<f4', 'fortran_order': False, 'shape': (28,\0 28), }",
    b"{'descr': '<f4', 'fortran_order': False, 'shape': (28, 28), ",
    # A header may claim any size: refused before NumPy allocates 40 GB.
    b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }",
])
def test_damaged_npy_image_headers_are_image_errors(tmp_path, header):
    header = header + b" " * (63 - len(header) % 64) + b"\n"
    path = tmp_path / "digit.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64)
    tracemalloc.start()
    with pytest.raises(ImageError):
        load_mnist_style(path)
    assert tracemalloc.get_traced_memory()[1] < MEMORY_LIMIT
    tracemalloc.stop()


def test_an_image_pillow_warns_about_is_an_image_error(tmp_path):
    """Regression: a truncated TIFF made Pillow warn (corrupt EXIF data) instead of
    failing: outside the tests that warning would have been printed, not one line."""
    path = tmp_path / "digit.png"
    path.write_bytes(b"II*\x00\x08\x00\x00\x00")
    with pytest.raises(ImageError, match="Corrupt EXIF"):
        load_mnist_style(path)


def test_forged_png_chunk_length_does_not_allocate_gigabytes(tmp_path):
    """Regression (found by the slow property): a 100-byte PNG whose IDAT chunk claims
    33 MB made Pillow allocate the 33 MB; up to 2 GB with a larger claim."""
    png = bytearray(VALID_IMAGES["png"])
    at = png.index(b"IDAT") - 4
    png[at:at + 4] = struct.pack(">I", 2**31 - 1)
    result = bounded_memory(load_mnist_style, bytes(png), ".png", ImageError)
    assert isinstance(result, (ImageError, np.ndarray))


def test_a_pickled_object_array_never_runs(tmp_path):
    """A crafted .npz whose weights are a pickled object array that would run a
    command when unpickled: refused (allow_pickle=False), and the command never ran."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = np.empty(3, dtype=object)
    payload[:] = [Exploit(), Exploit(), Exploit()]
    for target, loader in ((tmp_path / "m.npz", load_model),
                           (tmp_path / "c.npz", load_checkpoint)):
        (target).write_bytes(VALID_MODEL if loader is load_model else VALID_CHECKPOINT)
        with zipfile.ZipFile(target) as z:
            members = {name: z.read(name) for name in z.namelist()}
        name = next(n for n in members if n.endswith("weight.npy"))
        buffer = io.BytesIO()
        np.save(buffer, payload, allow_pickle=True)
        members[name] = buffer.getvalue()
        with zipfile.ZipFile(target, "w") as z:
            for member, data in members.items():
                z.writestr(member, data)
        with pytest.raises(ModelFileError):
            loader(target)
        assert not marker.exists()
    image = tmp_path / "image.npy"
    np.save(image, payload, allow_pickle=True)
    with pytest.raises(ImageError):
        load_mnist_style(image)
    assert not marker.exists()


# -- the CLI: one line on stderr, exit status 2 ----------------------------------


def _tiny_data_folder():
    folder = FOLDER / "data"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for kind, n in (("train", 12), ("t10k", 6)):
        write_idx(folder / f"{kind}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(folder / f"{kind}-labels-idx1-ubyte", rng.integers(0, 10, n, np.uint8))
    return folder


DATA = _tiny_data_folder()
VALID_LABELS = (DATA / "t10k-labels-idx1-ubyte").read_bytes()


@fuzz_settings(max(20, EXAMPLES // 10))
@given(model=untrusted([VALID_MODEL]), image=untrusted([VALID_IMAGES["png"]]),
       labels=untrusted([VALID_LABELS]))
def test_cli_reports_untrusted_files_in_one_line(model, image, labels):
    """info, predict and evaluate given a damaged model, image or data file: each
    either works or prints one line, "digitnet: error: ...", and exits with 2."""
    TRIED["CLI (info, predict, evaluate)"] += 1
    (FOLDER / "cli.npz").write_bytes(model)
    (FOLDER / "cli.png").write_bytes(image)
    (FOLDER / "good.npz").write_bytes(VALID_MODEL)
    data = FOLDER / "cli-data"
    data.mkdir(exist_ok=True)
    for path in DATA.iterdir():
        (data / path.name).write_bytes(labels if path.name.startswith("t10k-labels")
                                       else path.read_bytes())
    for argv in (["info", FOLDER / "cli.npz"],
                 ["predict", FOLDER / "cli.png", "--model", FOLDER / "good.npz"],
                 ["predict", FOLDER / "cli.png", "--model", FOLDER / "cli.npz"],
                 ["evaluate", FOLDER / "good.npz", "--data", data]):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in argv])
        if code:
            assert code == 2
            assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("digitnet: error:")
        else:
            assert err.getvalue() == ""


def test_errors_are_digitnet_errors():
    for error in (DataError, ModelFileError, ImageError):
        assert issubclass(error, DigitnetError)


def test_every_layer_type_loads_in_a_fresh_process(tmp_path):
    """Regression: a CNN model file failed to load ("unknown layer type 'Reshape'")
    in a process that had not imported digitnet.nn.conv, as `digitnet predict` has not."""
    import subprocess
    import sys

    from digitnet.recipes import RECIPES, build_network

    path = tmp_path / "cnn.npz"
    save_model(path, build_network({**RECIPES["cnn"], "channels": [2, 2], "hidden": 4},
                                   np.random.default_rng(0)))
    code = "import sys; from digitnet.io import load_model; load_model(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env)
