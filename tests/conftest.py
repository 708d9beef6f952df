import numpy as np
import pytest

from digitnet.data.idx import write_idx


@pytest.fixture
def tiny_mnist(tmp_path):
    """A folder of MNIST-format IDX files with a few hundred learnable fake digits:
    each class is a bright bar at its own position, plus noise."""
    rng = np.random.default_rng(0)

    def make(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, digit in enumerate(labels):
            images[i, 2 + 2 * digit: 4 + 2 * digit, 4:24] = 255
        return images, labels

    folder = tmp_path / "mnist"
    folder.mkdir()
    for kind, n in (("train", 600), ("t10k", 100)):
        images, labels = make(n)
        write_idx(folder / f"{kind}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{kind}-labels-idx1-ubyte.gz", labels)
    return folder
