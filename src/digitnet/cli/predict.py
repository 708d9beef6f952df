"""digitnet predict: the digit in each image, from any picture of one digit."""

import json
import sys

#: A 28x28 input whose pixels differ by less than this holds no digit (as to_mnist's threshold).
BLANK_CONTRAST = 0.15
BLANK = "no digit found: the image is blank (no ink darker or brighter than the paper)"


def add_parser(sub):
    from ..pretrained import SHORTCUT
    from . import batchmode, path

    p = sub.add_parser(
        "predict", help="recognise the digit in each image (any size, format, polarity)",
        description="Recognise one digit per image. Any image Pillow reads (PNG, JPEG, BMP, GIF, "
        "WebP...; HEIC with the heif extra), any size, dark ink on light paper or the reverse, "
        "is brought to MNIST's form first (lighting, specks, ruled lines, a form's box or "
        "line, a circle round the digit and a pen lying beside it taken out; cropped, scaled "
        "to 20 px, centred by centre of mass in 28x28); --raw skips that for images already "
        "in MNIST form (28x28 PNG, or .npy).")
    p.add_argument("images", nargs="*", metavar="IMAGE", type=path,
                   help="image files, folders of images, CSV files of 784-pixel rows or .npy "
                   "stacks of digits; multi-page TIFF and PDF documents page by page (PDF: pip "
                   "install 'digitnet[pdf]'); in batch mode also zip and tar archives, glob "
                   "patterns and URLs (s3://, https://...)")
    p.add_argument("--model", type=path,
                   help="model file (.npz), or `cnn` / `ensemble` for a shipped one; default: "
                        "the best model shipped with digitnet (the ensemble; for a picture of paper or a "
                        "board, its networks trained further on photos)")
    p.add_argument("--raw", action="store_true", help="images are already 28x28 MNIST-style")
    p.add_argument("--save-input", metavar="DIR", type=path,
                   help="save the 28x28 image the network saw, as DIR/<name>.28x28.png (a CSV "
                   "row as <name>-<row>.28x28.png, a second x.png as x-2.28x28.png)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line: path, digit (the output's index), several_digits "
                   "(the picture looks like a number: `read` reads it), confidence, probabilities; "
                   "for a model of other classes than the ten digits, label, the class's name, "
                   "instead of several_digits")
    p.add_argument("--min-confidence", type=float, default=0.0, metavar="P",
                   help="report an answer whose confidence (the calibrated chance that it is right, "
                   "docs/confidence.md) is below P as rejected (JSON: \"rejected\": true); default 0")
    batchmode.add_options(p).add_argument(
        "--shortcut", type=_shortcut, metavar="P",
        help="an ensemble's first network answers alone for a digit it is at least P sure of "
        f"(default {SHORTCUT}, as `digitnet serve`; `off`: every network on every digit)")
    return p


def _expand(items):
    """Folders stand for the images in them, sorted."""
    from pathlib import Path

    from ..data.formats import DOCUMENT_SUFFIXES, IMAGE_SUFFIXES

    for item in items:
        if Path(item).is_dir():
            yield from sorted(str(p) for p in Path(item).iterdir()
                              if p.suffix.lower() in IMAGE_SUFFIXES | DOCUMENT_SUFFIXES)
        else:
            yield item


def _saved_names(folder, names, suffix=".28x28.png"):
    """A file in ``folder`` for each name, ``<name><suffix>``, with a counter when two
    inputs share a name (a/x.png and b/x.png), or None for None (an input not saved).
    A file of an earlier run of the same name is replaced, as a run over again would."""
    import os

    taken, files = set(), []
    for name in names:
        if name is None:
            files.append(None)
            continue
        stem, n = name, 1
        while stem in taken:
            n += 1
            stem = f"{name}-{n}"
        taken.add(stem)
        files.append(os.path.join(folder, stem + suffix))
    return files


def _check_writable(folder, flag="--save-input"):
    """Refuse a folder (given as ``flag``) that cannot be written, before predicting
    anything; make it if its parent folder is there (``--save-input seen/``)."""
    import os
    import tempfile

    from . import fail, shown

    if not os.path.isdir(folder):
        try:
            os.mkdir(folder)
        except FileNotFoundError:
            fail(f"{flag} {shown(folder)}: no such folder")
        except OSError as e:
            fail(f"{flag} {shown(folder)}: cannot make it: {e.strerror or e}")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        fail(f"{flag} {shown(folder)}: cannot write there: {e.strerror or e}")


def _save_image(x, file):
    import numpy as np
    from PIL import Image

    from ..io import atomic_write

    with atomic_write(file, suffix=".png") as tmp:
        Image.fromarray((x.reshape(28, 28) * 255).round().astype(np.uint8)).save(tmp, format="PNG")


def pages_of(path: str) -> list:
    """(name, what to read) for each picture in the file ``path``, as batch mode lists
    them (``batch.sources.pictures``): each page of a multi-page TIFF or a PDF, named
    ``path:1``, ``path:2``..., else the file itself; a document that cannot be read is
    one input, its ``ImageError``."""
    from ..batch.sources import SourceError, pictures
    from ..errors import ImageError

    return [(name, ImageError(data.message) if isinstance(data, SourceError) else data)
            for name, data in pictures(path, path)]


def _load_raw(path):
    """A 28x28 MNIST-style input, refused as blank when it holds no ink, as to_mnist does."""
    import numpy as np

    from ..data.images import load_mnist_style
    from ..errors import NoDigitError

    x = load_mnist_style(path)
    if float(np.ptp(x)) < BLANK_CONTRAST:
        raise NoDigitError(BLANK)
    return x


def _checked(args):
    """``args``, once the options that need no model are known to be usable."""
    from . import batchmode, fail

    if not 0 <= args.min_confidence <= 1:
        fail(f"--min-confidence must be between 0 and 1, not {args.min_confidence}")
    batch = args.shortcut is not None or batchmode.wanted(args)
    if not args.images and not batch:
        fail("no images given (see digitnet predict --help)")
    if args.save_input and not batch:
        _check_writable(args.save_input)
    return args


def run(args):
    from pathlib import Path

    import numpy as np

    from ..data.formats import pixel_rows
    from ..data.frontend import several_digits
    from ..data.images import in_mnist_form
    from ..data.preprocess import to_mnist_seen
    from ..errors import ImageError, NoDigitError
    from ..io import DIGITS, class_names
    from ..pretrained import confidences, photo_model, resolve_model
    from . import EXIT_USAGE, batchmode, fail, shown

    if args.shortcut is not None or batchmode.wanted(_checked(args)):
        return _batch(args)
    net = resolve_model(args.model)
    classes = class_names(net)
    # "label" only where it says more than "digit": for classes other than the ten digits
    labelled = {"label": None} if classes != DIGITS else {}
    # an image that cannot be read is reported, and the others are still recognised
    inputs, blank, failed, paths, names, pictures = [], {}, {}, [], [], set()
    beside = set()  # pictures with other digits beside the one answered (a number)
    photos = []  # whether each input is of paper or a board (the photo network answers)
    for path in _expand(args.images):
        rows = pixel_rows(path)
        if rows is not None:
            inputs.extend(rows)
            photos.extend([False] * len(rows))
            paths.extend(f"{path}:{i + 1}" for i in range(len(rows)))
            names.extend(f"{Path(path).stem}-{i + 1}" for i in range(len(rows)))
            continue
        raw = args.raw or (path.lower().endswith(".npy") and in_mnist_form(path))
        for k, (name, source) in enumerate([(path, path)] if raw else pages_of(path)):
            paths.append(name)
            names.append(Path(path).stem if name == path else f"{Path(path).stem}-{k + 1}")
            photos.append(False)
            try:
                if isinstance(source, ImageError):  # a multi-page file that cannot be read
                    raise source
                if raw:
                    inputs.append(_load_raw(path))
                elif not Path(path).is_file():
                    raise ImageError(f"{path}: no such file")
                else:
                    x, seen = to_mnist_seen(source)
                    inputs.append(x)
                    photos[-1] = seen.surface
                    pictures.add(name)
                    if seen.beside:
                        beside.add(name)
            except ImageError as e:
                if isinstance(e, NoDigitError):
                    blank[name] = str(e)
                else:
                    failed[name] = with_path(name, e)
                inputs.append(np.zeros(784, np.float32))
    if not inputs:
        fail("no images found in " + " ".join(map(shown, args.images)))
    if args.save_input:  # blank and unreadable images are not saved
        files = _saved_names(args.save_input, [None if p in blank or p in failed else name
                                               for p, name in zip(paths, names)])
    else:
        files = [None] * len(paths)
    from ..calibration import for_model

    photo = photo_model(args.model) if any(photos) else None
    probabilities = for_model(args.model).digits(confidences(net, photo, np.stack(inputs), photos))
    for path, x, p, file in zip(paths, inputs, probabilities, files):
        if path in failed:
            report_failure(path, failed[path], args.json, {"digit": None, **labelled, "confidence": 0.0,
                                                           "probabilities": None})
            continue
        if path in blank:  # no answer: reported as an unreadable image is
            report_failure(path, with_path(path, blank[path]), args.json,
                           {"digit": None, **labelled, "confidence": 0.0, "probabilities": None})
            continue
        if file:
            _save_image(x, file)
        digit = int(p.argmax())
        rejected = {"rejected": bool(p[digit] < args.min_confidence)} if args.min_confidence else {}
        # a picture of a number (as the API's "several_digits"): `read` reads it
        several = path in pictures and not labelled and (path in beside or several_digits(x))
        if args.json:
            label = {"label": classes[digit]} if labelled else {"several_digits": several}
            print(json.dumps({"path": path, "digit": digit, **label, "confidence": float(p[digit]),
                              "probabilities": [round(float(v), 6) for v in p], **rejected}))
        else:
            print(f"{shown(path)}: {answer(shown(classes[digit]), p[digit], rejected, args.min_confidence)}")
        if several:
            print(f"digitnet: {shown(path)} looks like several digits side by side; "
                  f"`digitnet read` reads numbers", file=sys.stderr)
    return EXIT_USAGE if failed or blank else 0


def answer(text, confidence, rejected, min_confidence):
    """An answer and its confidence on one line, or its rejection: "7 (98.1%)", or
    "rejected: 7 (41.2%, below 50%)"."""
    if rejected.get("rejected"):
        return f"rejected: {text} ({100 * confidence:.1f}%, below {100 * min_confidence:g}%)"
    return f"{text} ({100 * confidence:.1f}%)"


def _shortcut(text):
    """serve's --shortcut: a probability, or `off` (kept as "off": not the same as not given)."""
    from .serve import shortcut

    value = shortcut(text)
    return "off" if value is None else value


def _batch(args):
    from ..batch import PREDICT_BATCH
    from ..batch.work import Task
    from ..pretrained import SHORTCUT
    from . import batchmode

    batchmode.refuse(args, ["--json", "--raw", "--save-input"])
    shortcut = {None: SHORTCUT, "off": None}.get(args.shortcut, args.shortcut)
    return batchmode.run(args, Task("predict", args.model, shortcut, batch_size=PREDICT_BATCH))


def with_path(path, error):
    """The error's message, starting with the image's path."""
    message = str(error)
    return message if message.startswith(f"{path}:") else f"{path}: {message}"


def report_failure(path, message, as_json, empty):
    """An image that could not be read: a line on stderr, and with --json also its object."""
    import sys

    from . import shown

    print(f"digitnet: error: {shown(message)}", file=sys.stderr)
    if as_json:
        print(json.dumps({"path": path, **empty, "error": message}))
