"""digitnet predict: the digit in each image, from any picture of one digit."""

import json


def add_parser(sub):
    p = sub.add_parser(
        "predict", help="recognise the digit in each image (any size, format, polarity)",
        description="Recognise one digit per image. Any image Pillow reads (PNG, JPEG, BMP, GIF, "
        "WebP...), any size, dark ink on light paper or the reverse, is brought to MNIST's form "
        "first (cropped, scaled to 20 px, centred by centre of mass in 28x28); --raw skips "
        "that for images already in MNIST form (28x28 PNG, or .npy).")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="image files, folders of images, or CSV files of 784-pixel rows")
    p.add_argument("--model", help="model file (.npz); default: the best model shipped with digitnet")
    p.add_argument("--raw", action="store_true", help="images are already 28x28 MNIST-style")
    p.add_argument("--save-input", metavar="DIR",
                   help="save the 28x28 image the network saw, as DIR/<name>.28x28.png")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line: path, digit, confidence, probabilities")
    return p


def resolve_model(path):
    """The model to use: ``path``, or the best shipped one."""
    from ..errors import ModelFileError
    from ..io import load_model
    from ..pretrained import default_model_path

    if path is None:
        path = default_model_path()
        if path is None:
            raise ModelFileError("no --model given and no pretrained model is shipped with this "
                                 "digitnet; train one with `digitnet train` and pass --model model.npz")
    model = load_model(path)
    if tuple(model.input_shape) != (784,):
        # e.g. read's whole-digit judge, which takes a piece's pixels and more
        takes = ((getattr(model, "metadata", None) or {}).get("preprocessing") or {}).get("input")
        raise ModelFileError(f"{path} does not classify 28x28 images: it takes {model.input_shape[0]} "
                             "inputs" + (f" ({takes})" if takes else ""))
    return model


def _expand(items):
    """Folders stand for the images in them, sorted."""
    from pathlib import Path

    from ..data.formats import IMAGE_SUFFIXES

    for item in items:
        if Path(item).is_dir():
            yield from sorted(str(p) for p in Path(item).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield item


def run(args):
    import os
    from pathlib import Path

    import numpy as np

    from ..data.images import load_mnist_style
    from ..data.preprocess import to_mnist
    from ..errors import ImageError
    from . import EXIT_USAGE, fail

    if args.save_input and not os.path.isdir(args.save_input):
        fail(f"--save-input {args.save_input}: no such folder")
    net = resolve_model(args.model)
    # an image that cannot be read is reported, and the others are still recognised
    inputs, blank, failed, paths = [], {}, {}, []
    for path in _expand(args.images):
        if path.lower().endswith(".csv"):
            from ..data.formats import read_pixels_csv

            rows = read_pixels_csv(path)
            inputs.extend(rows)
            paths.extend(f"{path}:{i + 1}" for i in range(len(rows)))
            continue
        paths.append(path)
        try:
            if args.raw or path.lower().endswith(".npy"):
                inputs.append(load_mnist_style(path))
            elif not Path(path).is_file():
                raise ImageError(f"{path}: no such file")
            else:
                inputs.append(to_mnist(path))
        except ImageError as e:
            if "no digit found" in str(e):
                blank[path] = str(e)
            else:
                failed[path] = with_path(path, e)
            inputs.append(np.zeros(784, np.float32))
    if not inputs:
        fail("no images found in " + " ".join(args.images))
    probabilities = net.confidences(np.stack(inputs))
    for path, x, p in zip(paths, inputs, probabilities):
        if path in failed:
            report_failure(path, failed[path], args.json, {"digit": None, "confidence": 0.0,
                                                           "probabilities": None})
            continue
        if args.save_input and path not in blank:
            from PIL import Image

            name = Path(args.save_input) / (Path(path.replace(":", "-")).stem + ".28x28.png")
            Image.fromarray((x.reshape(28, 28) * 255).round().astype(np.uint8)).save(name)
        if path in blank:
            if args.json:
                print(json.dumps({"path": path, "digit": None, "confidence": 0.0,
                                  "probabilities": None, "error": blank[path]}))
            else:
                print(f"{path}: {blank[path]}")
            continue
        digit = int(p.argmax())
        if args.json:
            print(json.dumps({"path": path, "digit": digit, "confidence": float(p[digit]),
                              "probabilities": [round(float(v), 6) for v in p]}))
        else:
            print(f"{path}: {digit} ({100 * p[digit]:.1f}%)")
    return EXIT_USAGE if failed else 0


def with_path(path, error):
    """The error's message, starting with the image's path."""
    message = str(error)
    return message if message.startswith(f"{path}:") else f"{path}: {message}"


def report_failure(path, message, as_json, empty):
    """An image that could not be read: a line on stderr, and with --json also its object."""
    import sys

    print(f"digitnet: error: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"path": path, **empty, "error": message}))
