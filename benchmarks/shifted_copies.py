"""Test-time augmentation on the validation split: each model's accuracy on the images as
they are, and averaged over the image and its copies shifted by one pixel (the 4
neighbours, then all 8); then the same for the average of all the models given.

    python -m benchmarks.shifted_copies MODEL [MODEL ...]

Models trained on the validation images too (``--full``) are refused: they have seen them.
"""

import argparse
import os

import numpy as np

SHIFTS = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]


def shifted(images, dy, dx):
    """(n, 28, 28) images moved dy rows down and dx columns right, zeros coming in."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    args = parser.parse_args(argv)

    from digitnet.data import mnist
    from digitnet.io import load_model, trained_on_validation

    validation = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).validation
    images = validation.x.reshape(-1, 28, 28)
    models = {path: load_model(path) for path in args.models}
    for path, model in models.items():
        if trained_on_validation(getattr(model, "metadata", {})):
            raise SystemExit(f"{path} was trained on the validation images; give models that were not")
    totals = np.zeros((len(SHIFTS), len(images), 10))
    print("model                          as is   4 shifts   8 shifts")
    for path, model in models.items():
        probabilities = np.stack([model.confidences(shifted(images, dy, dx).reshape(len(images), -1))
                                  for dy, dx in SHIFTS])
        totals += probabilities
        print(f"{os.path.basename(path):30s}" + "".join(
            f"{accuracy(probabilities[:k], validation.y):8.2f}%" for k in (1, 5, 9)))
    if len(args.models) > 1:
        print(f"{'average of all':30s}" + "".join(
            f"{accuracy(totals[:k], validation.y):8.2f}%" for k in (1, 5, 9)))


def accuracy(probabilities, labels):
    return 100 * float((probabilities.sum(axis=0).argmax(axis=1) == labels).mean())


if __name__ == "__main__":
    main()
