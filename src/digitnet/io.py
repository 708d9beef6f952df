"""Model files: one ``.npz`` holding the arrays and a JSON config, never a pickle.

The config records the architecture, activations, cost, dtype, the preprocessing
the model expects, how it was trained, its measured metrics, the digitnet version
and the file-format version. Files are written atomically: to a temporary file in
the same folder, then renamed over the target.
"""

import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .nn.network import Network

FORMAT = "digitnet-model"
FORMAT_VERSION = 1
CONFIG_KEY = "__config__"
#: Refuse model files with more parameters than this (a 100M-parameter MLP is 400 MB).
MAX_PARAMETERS = 100_000_000

MNIST_PREPROCESSING = {
    "input": "28x28 greyscale, white digit on black, MNIST-centred",
    "scale": "pixel / 255 -> [0, 1]",
    "layout": "row-major, flattened to 784",
}


@contextmanager
def atomic_write(path, suffix=".tmp"):
    """Yield a temporary path next to ``path``; on success rename it over ``path``.
    On any error the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"{path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_model(path, network, metadata=None):
    """Write ``network`` and ``metadata`` (a JSON-serialisable dict) to ``path``."""
    from . import __version__

    metadata = dict(metadata or {})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitnet_version": __version__,
        "network": network.config(),
        "preprocessing": metadata.pop("preprocessing", MNIST_PREPROCESSING),
        **metadata,
    }
    arrays = dict(network.state_dict())
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


def read_config(path):
    """The JSON config of a model file, without loading its weights."""
    return _open(path)[1]


def _open(path):
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a model file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n.removesuffix(".npy") for n in archive.namelist()}
            if CONFIG_KEY not in names:
                raise ModelFileError(f"{path}: not a digitnet model (no config inside)")
            headers = {n: _read_header(archive, n + ".npy") for n in names}
            shape, _, dtype = headers[CONFIG_KEY]
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > 10_000_000:
                raise ModelFileError(f"{path}: malformed model config")
            with np.load(path, allow_pickle=False) as npz:
                raw = npz[CONFIG_KEY]
            config = json.loads(raw.tobytes().decode())
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: not a readable digitnet model file "
                             f"(truncated or foreign?): {e}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a digitnet model file")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{path}: model file format version {version} is newer than "
                             f"this digitnet understands ({FORMAT_VERSION}); upgrade digitnet")
    return headers, config


def load_model(path):
    """Read a model file written by ``save_model``.

    Returns a ``Network`` whose ``metadata`` attribute holds the JSON config.
    Every array's shape is checked against the architecture before it is read,
    and the file is read with ``allow_pickle=False``: it can never run code.

    Raises
    ------
    ModelFileError
        With a one-line explanation of what is wrong.
    """
    headers, config = _open(path)
    sizes = [int(np.prod(shape, dtype=np.int64)) for n, (shape, _, _) in headers.items()
             if n != CONFIG_KEY]
    if sum(sizes) > MAX_PARAMETERS:
        raise ModelFileError(f"{path}: {sum(sizes):,} parameters is more than a digitnet "
                             f"model may hold ({MAX_PARAMETERS:,})")
    try:
        _check_config_size(config["network"])
        network = Network.from_config(config["network"])
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, MemoryError) as e:
        raise ModelFileError(f"{path}: invalid architecture in model config: {e}") from None
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
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ModelFileError(f"{path}: cannot read weights (truncated?): {e}") from None
    for name, value in network.state_dict().items():
        if not np.isfinite(value).all():
            raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
    network.metadata = config
    return network


def _check_config_size(cfg):
    total = 0
    for layer in cfg["layers"]:
        if layer.get("type") == "Linear":
            total += int(layer["in_features"]) * int(layer["out_features"])
        elif layer.get("type") == "Conv2D":
            total += (int(layer["in_channels"]) * int(layer["out_channels"])
                      * int(layer["kernel_size"]) ** 2)
    if total > MAX_PARAMETERS:
        raise ModelFileError(f"model config asks for {total:,} parameters, more than "
                             f"a digitnet model may hold ({MAX_PARAMETERS:,})")
