"""digitnet predict: the digit in each 28x28 MNIST-style image."""

import json


def add_parser(sub):
    p = sub.add_parser("predict", help="classify 28x28 MNIST-style images (PNG or .npy)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", required=True, help="model file (.npz)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def run(args):
    import numpy as np

    from ..data.images import load_mnist_style
    from ..io import load_model

    net = load_model(args.model)
    images = np.stack([load_mnist_style(path) for path in args.images])
    for path, p in zip(args.images, net.confidences(images)):
        digit = int(p.argmax())
        if args.json:
            print(json.dumps({"path": path, "digit": digit, "confidence": float(p[digit]),
                              "probabilities": [round(float(v), 6) for v in p]}))
        else:
            print(f"{path}: {digit} ({100 * p[digit]:.1f}%)")
