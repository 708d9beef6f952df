"""Data: IDX files, MNIST and Fashion-MNIST, and (later) images from users."""

from .idx import read_idx, write_idx
from .mnist import DATASETS, Dataset, Split, load, locate, to_float

__all__ = ["read_idx", "write_idx", "load", "locate", "to_float", "Dataset", "Split", "DATASETS"]
