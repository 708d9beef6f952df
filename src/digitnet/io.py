"""Model files: one ``.npz`` holding the arrays and a JSON config, never a pickle.

The config records the architecture, activations, cost, dtype, the preprocessing
the model expects, how it was trained, its measured metrics, the digitnet version
and the file-format version. Files are written atomically: to a temporary file in
the same folder, then renamed over the target.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tokenize
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .nn.ensemble import Ensemble
from .nn.network import Network

FORMAT = "digitnet-model"
FORMAT_VERSION = 1
CONFIG_KEY = "__config__"
#: Where a training checkpoint keeps its JSON document (see checkpoint.py).
CHECKPOINT_KEY = "__checkpoint__"
#: Refuse model files with more parameters than this (a 100M-parameter MLP is 400 MB).
MAX_PARAMETERS = 100_000_000

MNIST_PREPROCESSING = {
    "input": "28x28 greyscale, white digit on black, MNIST-centred",
    "scale": "pixel / 255 -> [0, 1]",
    "layout": "row-major, flattened to 784",
}


def check_output(path):
    """``(Path(path), its folder)`` if ``atomic_write`` may write there; ModelFileError
    if the path is empty, its folder does not exist, or it names something other than
    a regular file (a folder, a device such as /dev/full, a FIFO), which renaming a new
    file over it would replace."""
    if not os.fspath(path):
        raise ModelFileError("'': an empty path; name a file")
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"{path}: folder {directory} does not exist")
    if os.path.lexists(path) and not path.is_file():
        raise ModelFileError(f"{path}: exists and is not a regular file; choose another name")
    return path, directory


@contextmanager
def atomic_write(path, suffix=".tmp"):
    """Yield a temporary path next to ``path``; on success rename it over ``path``.
    On any error the temporary file is removed and ``path`` is untouched."""
    path, directory = check_output(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=suffix)
    except OSError as e:
        raise ModelFileError(f"{path}: cannot write there: {e.strerror or e}") from None
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(directory)
    except OSError as e:  # a full disk, a folder turned read-only, ...
        raise ModelFileError(f"{path}: cannot write: {e.strerror or e} "
                             f"(any earlier version is intact)") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_directory(directory):
    """Make the rename itself durable (it lives in the folder), where the OS allows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def same_file(a, b):
    """Whether paths ``a`` and ``b`` name one file (through links too), existing or not."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _umask():
    # Reading it without setting it matters in threaded programs (a server): for a
    # moment os.umask(0) would make every file created by another thread world-writable.
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def trained_on_validation(metadata: dict) -> bool:
    """Whether a model file's network, or a member of its ensemble, was trained on the
    validation split too (``digitnet train --full``): its validation accuracy means nothing."""
    training = metadata.get("training") if isinstance(metadata, dict) else None
    if not isinstance(training, dict):  # metadata is the file's to say; nothing says so
        return False
    members = training.get("member_training")
    return bool(training.get("full") is True
                or isinstance(members, list)
                and any(isinstance(t, dict) and t.get("full") is True for t in members))


def save_model(path: str | os.PathLike, network: Network | Ensemble,
               metadata: dict | None = None, half: bool = False) -> str | os.PathLike:
    """Write ``network`` (a ``Network`` or an ``Ensemble``) and ``metadata`` (a
    JSON-serialisable dict) to ``path``. An ensemble's config lists its members'
    configs under ``"ensemble"``, and member i's arrays are named ``m<i>.<name>``.
    ``half=True`` stores the weights as float16, half the size; they are loaded back
    into the network's own dtype."""
    from . import __version__

    metadata = dict(metadata or {})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitnet_version": __version__,
        **({"ensemble": network.config()["ensemble"]} if hasattr(network, "members")
           else {"network": network.config()}),
        "preprocessing": metadata.pop("preprocessing", MNIST_PREPROCESSING),
        **metadata,
    }
    if half:
        config["stored_as"] = "float16"
    arrays = {k: v.astype(np.float16) if half else v for k, v in network.state_dict().items()}
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    with atomic_write(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return path


def _read_header(archive, member):
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f)
        return np.lib.format.read_array_header_2_0(f)


def read_config(path: str | os.PathLike) -> dict:
    """The JSON config of a model file, without loading its weights."""
    return _open(path)[1]


#: What reading a damaged or foreign archive can raise, besides ModelFileError.
#: (NumPy parses an .npy header as a Python literal: SyntaxError and TokenError too.)
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, OverflowError,
               RecursionError, NotImplementedError, MemoryError, SyntaxError,
               tokenize.TokenError)


def _open(path):
    return open_archive(path, CONFIG_KEY, FORMAT, FORMAT_VERSION, "model")


def open_archive(path, key, fmt, version, kind):
    """The array headers and the JSON document (stored under ``key``) of an ``.npz``
    written by digitnet, checked to be of format ``fmt`` no newer than ``version``.
    Reads no array but the document."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such {kind} file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a {kind} file")
    if not path.is_file():  # a device or a pipe: /dev/zero would be read for ever
        raise ModelFileError(f"{path}: not a regular file, so not a {kind} file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n.removesuffix(".npy") for n in archive.namelist()}
            if key not in names:
                raise ModelFileError(f"{path}: {_what_else(names, kind)}")
            headers = {n: _read_header(archive, n + ".npy") for n in names}
            _check_sizes(archive, headers, path)
            shape, _, dtype = headers[key]
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > 10_000_000:
                raise ModelFileError(f"{path}: malformed {kind} config")
            with np.load(path, allow_pickle=False) as npz:
                raw = npz[key]
            document = json.loads(raw.tobytes().decode())
    except ModelFileError:
        raise
    except READ_ERRORS as e:
        raise ModelFileError(f"{path}: not a readable digitnet {kind} file "
                             f"(truncated or foreign?): {_one_line(e)}") from None
    if not isinstance(document, dict) or document.get("format") != fmt:
        raise ModelFileError(f"{path}: not a digitnet {kind} file")
    found = document.get("format_version")
    if not isinstance(found, int) or found > version:
        raise ModelFileError(f"{path}: {kind} file format version {found} is newer than "
                             f"this digitnet understands ({version}); upgrade digitnet")
    return headers, document


def _what_else(names, kind):
    """Why an archive without ``kind``'s document is not one: it may be the other kind."""
    if kind == "model" and CHECKPOINT_KEY in names:
        return ("a training checkpoint, not a model: continue its run with "
                "digitnet train --resume --checkpoint FILE")
    if kind == "checkpoint" and CONFIG_KEY in names:
        return "a model file, not a training checkpoint"
    return f"not a digitnet {kind} (no config inside)"


def _check_sizes(archive, headers, path):
    """Refuse, before NumPy allocates it, an array whose header claims more data than
    its archive member holds (a stored member cannot be larger than the file)."""
    file_size = path.stat().st_size
    for name, (shape, _, dtype) in headers.items():
        if dtype.hasobject:
            raise ModelFileError(f"{path}: array {name} has dtype object (a pickle): "
                                 f"refused, digitnet files hold numbers only")
        info = archive.getinfo(name + ".npy")
        claimed = math.prod(shape) * dtype.itemsize
        stored = info.compress_type == zipfile.ZIP_STORED
        if claimed > info.file_size or (stored and info.file_size > file_size):
            raise ModelFileError(f"{path}: array {name} claims {claimed:,} bytes, more than "
                                 f"the file holds (truncated or forged)")


def _one_line(error):
    return " ".join(str(error).split())[:200] or type(error).__name__


def load_model(path: str | os.PathLike) -> Network | Ensemble:
    """Read a model file written by ``save_model``.

    Returns a ``Network`` (or an ``Ensemble``) whose ``metadata`` attribute holds
    the JSON config.
    Every array's shape is checked against the architecture before it is read,
    and the file is read with ``allow_pickle=False``: it can never run code.

    Raises
    ------
    ModelFileError
        With a one-line explanation of what is wrong.
    """
    headers, config = _open(path)
    # Python integers: a shape such as (2**31, 2**31, 4) wraps to 0 in NumPy's int64.
    total = sum(math.prod(shape) for n, (shape, _, _) in headers.items() if n != CONFIG_KEY)
    if total > MAX_PARAMETERS:
        raise ModelFileError(f"{path}: {total:,} parameters is more than a digitnet "
                             f"model may hold ({MAX_PARAMETERS:,})")
    # nothing is built that the arrays could not fill: a config edited to ask for a
    # much bigger network is refused before it allocates
    limit = 4 * total + 1_000_000
    try:
        if "ensemble" in config:
            members = config["ensemble"]
            if not isinstance(members, list) or not 1 <= len(members) <= 100:
                raise ModelFileError("invalid ensemble in model config")
            _check_config_size(*members, limit=limit)  # all together, before building one
            network = Ensemble([_build(member, limit) for member in members])
        else:
            network = _build(config["network"], limit)
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError,
            MemoryError, RecursionError) as e:
        raise ModelFileError(f"{path}: invalid architecture in model config: "
                             f"{_one_line(e)}") from None
    expected = network.state_dict()
    names = set(headers) - {CONFIG_KEY}
    if names != set(expected):
        raise ModelFileError(f"{path}: arrays {sorted(names)} do not match the architecture, "
                             f"which needs {sorted(expected)}")
    for name, target in expected.items():
        shape, _, dtype = headers[name]
        if tuple(shape) != target.shape:
            raise ModelFileError(f"{path}: array {name} has shape {tuple(shape)}, "
                                 f"the architecture needs {target.shape}")
        if dtype.kind != "f":
            raise ModelFileError(f"{path}: array {name} has dtype {dtype}, expected floats")
    try:
        with np.load(path, allow_pickle=False) as npz:
            network.load_state_dict({name: npz[name] for name in expected})
    except READ_ERRORS as e:
        raise ModelFileError(f"{path}: cannot read weights (truncated?): {_one_line(e)}") from None
    for name, value in network.state_dict().items():
        if not np.isfinite(value).all():
            raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
        if name.endswith("running_var") and (value < 0).any():
            raise ModelFileError(f"{path}: array {name} holds negative variances")
    for member in getattr(network, "members", [network]):
        _check_layers_fit(member, path)
    network.metadata = config
    return network.train(False)  # a loaded model is for inference until told otherwise


def _build(cfg, limit=MAX_PARAMETERS):
    """The network a config describes, refusing before allocating anything a
    digitnet model could not be: a non-float dtype, a strange input shape, or more
    parameters than MAX_PARAMETERS."""
    if not isinstance(cfg, dict):
        raise ModelFileError("invalid architecture in model config: not an object")
    if np.dtype(cfg.get("dtype", "float32")).kind != "f":
        raise ModelFileError(f"model dtype {cfg.get('dtype')!r} is not a floating-point type")
    shape = cfg["input_shape"]
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(type(d) is int and 0 < d <= 1 << 16 for d in shape)
            or math.prod(shape) > 1 << 24):
        raise ModelFileError(f"invalid input shape {shape!r} in model config")
    _check_config_size(cfg, limit=limit)
    _check_layer_types(cfg)
    return Network.from_config(cfg)


#: Layer settings that are whole numbers (sizes, channels, kernel, stride, padding).
INTEGER_SETTINGS = {"in_features", "out_features", "features", "in_channels", "out_channels",
                    "kernel_size", "size", "stride", "padding"}


def _check_layer_types(cfg):
    """A layer setting of the wrong JSON type (``"in_features": "784"``) is named, not
    left to fail deep inside a layer as a comparison of a string with a number."""
    layers = cfg["layers"]
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise ModelFileError("invalid layer settings in model config: layers must be objects")
    for i, layer in enumerate(layers):
        for key, value in layer.items():
            if key in INTEGER_SETTINGS and type(value) is not int:
                raise ModelFileError(f"invalid layer settings in model config: layer {i} "
                                     f"({layer.get('type')}) has {key} {value!r}, not a whole number")


def _check_layers_fit(network, path):
    """One example through the network: its layers must fit one another."""
    probe = np.zeros((1, *network.input_shape), network.dtype)
    try:
        with np.errstate(all="ignore"):
            out = network.predict_proba(probe)
        n_outputs = network.n_outputs
    except (ValueError, TypeError, IndexError, AttributeError) as e:
        raise ModelFileError(f"{path}: the layers in the model config do not fit together: "
                             f"{_one_line(e)}") from None
    if out.shape != (1, n_outputs):
        raise ModelFileError(f"{path}: the network gives outputs of shape {out.shape[1:]}, "
                             f"not ({n_outputs},)")


def _check_config_size(*configs, limit=MAX_PARAMETERS):
    """Bound what building the layers will allocate, for any layer type: no layer holds
    more values than twice the product of the integers in its config, a kernel size
    counted twice (in * out + out for a linear layer, in * out * k * k + out for a
    convolution, ...)."""
    total = 0
    for cfg in configs:
        for layer in cfg["layers"]:
            total += 2 * math.prod(max(1, n) for n in _integers(layer))
    if total > MAX_PARAMETERS:
        raise ModelFileError(f"model config asks for up to {total:,} parameters, more than "
                             f"a digitnet model may hold ({MAX_PARAMETERS:,})")
    if total > limit:
        raise ModelFileError(f"model config asks for up to {total:,} parameters, far more "
                             "than the arrays in the file hold")


def _integers(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _integers(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _integers(v, key)
    elif type(value) is int and key != "seed":
        yield abs(value)
        if key and "kernel" in key:  # a k x k kernel given as one number
            yield abs(value)


#: The classes of a digit classifier, as ``class_names`` gives them.
DIGITS = [str(d) for d in range(10)]


def class_names(model):
    """The names of the model's classes, as training stored them (e.g. Fashion-MNIST's
    "Trouser", or a CSV file's labels); the outputs' indices when it stored none."""
    classes = (getattr(model, "metadata", None) or {}).get("classes")
    if (isinstance(classes, list) and len(classes) == model.n_outputs
            and all(isinstance(c, (str, int)) for c in classes)):
        return [str(c) for c in classes]
    return [str(i) for i in range(model.n_outputs)]


def check_classes(model, data):
    """Refuse data whose classes are not the model's: another number of them, or, when
    the model names its classes, other names (a Fashion-MNIST model on digits)."""
    from .errors import DigitnetError

    if len(data.classes) != model.n_outputs:
        raise DigitnetError(f"the model has {model.n_outputs} outputs, the data "
                            f"{len(data.classes)} classes")
    named = (getattr(model, "metadata", None) or {}).get("classes") is not None
    if named and class_names(model) != [str(c) for c in data.classes]:
        raise DigitnetError(f"the model's classes ({', '.join(class_names(model))}) are not the "
                            f"data's ({', '.join(map(str, data.classes))})")
