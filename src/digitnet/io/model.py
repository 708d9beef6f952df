"""Model files: one ``.npz`` holding the arrays and a JSON config, never a pickle.

The config records the architecture, activations, cost, dtype, the preprocessing
the model expects, how it was trained, its measured metrics, the digitnet version
and the file-format version. Files are written atomically (``files.atomic_write``)
and read with ``allow_pickle=False`` after the checks of ``checks``.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import ModelFileError
from ..nn.ensemble import Ensemble
from ..nn.network import Network
from .checks import (
    MAX_PARAMETERS,
    READ_ERRORS,
    build,
    check_config_size,
    check_layers_fit,
    check_sizes,
    one_line,
    read_header,
)
from .files import atomic_write

FORMAT = "digitnet-model"
FORMAT_VERSION = 1
CONFIG_KEY = "__config__"
#: Where a training checkpoint keeps its JSON document (see checkpoint.py).
CHECKPOINT_KEY = "__checkpoint__"

MNIST_PREPROCESSING = {
    "input": "28x28 greyscale, white digit on black, MNIST-centred",
    "scale": "pixel / 255 -> [0, 1]",
    "layout": "row-major, flattened to 784",
}


def save_model(path: str | os.PathLike, network: Network | Ensemble,
               metadata: dict | None = None, half: bool = False) -> str | os.PathLike:
    """Write ``network`` (a ``Network`` or an ``Ensemble``) and ``metadata`` (a
    JSON-serialisable dict) to ``path``. An ensemble's config lists its members'
    configs under ``"ensemble"``, and member i's arrays are named ``m<i>.<name>``.
    ``half=True`` stores the weights as float16, half the size; they are loaded back
    into the network's own dtype."""
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


def read_config(path: str | os.PathLike) -> dict:
    """The JSON config of a model file, without loading its weights."""
    return _open(path)[1]


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
            headers = {n: read_header(archive, n + ".npy") for n in names}
            check_sizes(archive, headers, path)
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
                             f"(truncated or foreign?): {one_line(e)}") from None
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
            check_config_size(*members, limit=limit)  # all together, before building one
            network = Ensemble([build(member, limit) for member in members])
        else:
            network = build(config["network"], limit)
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError,
            MemoryError, RecursionError) as e:
        raise ModelFileError(f"{path}: invalid architecture in model config: "
                             f"{one_line(e)}") from None
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
        raise ModelFileError(f"{path}: cannot read weights (truncated?): {one_line(e)}") from None
    for name, value in network.state_dict().items():
        if not np.isfinite(value).all():
            raise ModelFileError(f"{path}: array {name} holds NaN or infinite values")
        if name.endswith("running_var") and (value < 0).any():
            raise ModelFileError(f"{path}: array {name} holds negative variances")
    for member in getattr(network, "members", [network]):
        check_layers_fit(member, path)
    network.metadata = config
    return network.train(False)  # a loaded model is for inference until told otherwise
