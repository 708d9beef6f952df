"""Checks against hostile files: what a model or checkpoint file may claim is bounded
before NumPy allocates or reads anything, and nothing in it is ever unpickled."""

import math
import tokenize
import zipfile
import zlib

import numpy as np

from ..errors import ModelFileError
from ..nn.network import Network

#: Refuse model files with more parameters than this (a 100M-parameter MLP is 400 MB).
MAX_PARAMETERS = 100_000_000

#: What reading a damaged or foreign archive can raise, besides ModelFileError.
#: (NumPy parses an .npy header as a Python literal: SyntaxError and TokenError too.)
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, OverflowError,
               RecursionError, NotImplementedError, MemoryError, SyntaxError,
               tokenize.TokenError)


def read_header(archive, member):
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f)
        return np.lib.format.read_array_header_2_0(f)


def check_sizes(archive, headers, path):
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


def one_line(error):
    return " ".join(str(error).split())[:200] or type(error).__name__


def build(cfg, limit=MAX_PARAMETERS):
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
    check_config_size(cfg, limit=limit)
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


def check_layers_fit(network, path):
    """One example through the network: its layers must fit one another."""
    probe = np.zeros((1, *network.input_shape), network.dtype)
    try:
        with np.errstate(all="ignore"):
            out = network.predict_proba(probe)
        n_outputs = network.n_outputs
    except (ValueError, TypeError, IndexError, AttributeError) as e:
        raise ModelFileError(f"{path}: the layers in the model config do not fit together: "
                             f"{one_line(e)}") from None
    if out.shape != (1, n_outputs):
        raise ModelFileError(f"{path}: the network gives outputs of shape {out.shape[1:]}, "
                             f"not ({n_outputs},)")


def check_config_size(*configs, limit=MAX_PARAMETERS):
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
