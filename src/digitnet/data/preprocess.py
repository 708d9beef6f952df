"""From a user's picture to what the network was trained on: the names other modules
use, kept here; the front end itself is the package ``digitnet.data.frontend``."""

from .frontend import (
                       MAX_BYTES,
                       MAX_PIXELS,
                       NOISE,
                       Seen,
                       bounding_box,
                       fit_mnist,
                       ink,
                       ink_seen,
                       open_image,
                       quiet_pillow_size_warning,
                       to_mnist,
                       to_mnist_seen,
)

__all__ = ["MAX_BYTES", "MAX_PIXELS", "NOISE", "Seen", "bounding_box", "fit_mnist", "ink",
           "ink_seen", "open_image", "quiet_pillow_size_warning", "to_mnist", "to_mnist_seen"]
