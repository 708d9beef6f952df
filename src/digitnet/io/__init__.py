"""Files: models (``.npz`` arrays + a JSON config, never a pickle), written atomically,
read only after checks that no file can get past (``checks``), and their metadata.

- ``files``: atomic writing (temporary file, fsync, rename) and output checks;
- ``model``: the model format, ``save_model``, ``load_model``, ``read_config``;
- ``checks``: the bounds and refusals that hostile files meet before anything is read;
- ``metadata``: what a model file says of its classes and training.
"""

from .checks import MAX_PARAMETERS, READ_ERRORS
from .files import atomic_write, check_output, same_file
from .metadata import DIGITS, check_classes, class_names, trained_on_validation
from .model import (
    CHECKPOINT_KEY,
    CONFIG_KEY,
    FORMAT,
    FORMAT_VERSION,
    MNIST_PREPROCESSING,
    load_model,
    open_archive,
    read_config,
    save_model,
)

__all__ = ["MAX_PARAMETERS", "READ_ERRORS", "atomic_write", "check_output", "same_file", "DIGITS",
           "check_classes", "class_names", "trained_on_validation", "CHECKPOINT_KEY", "CONFIG_KEY",
           "FORMAT", "FORMAT_VERSION", "MNIST_PREPROCESSING", "load_model", "open_archive",
           "read_config", "save_model"]
