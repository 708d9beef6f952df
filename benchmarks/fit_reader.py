"""Train the reader's whole-digit judge: which candidate pieces are one whole digit.

    python -m benchmarks.fit_reader [--numbers 8000] [--members 5] [--epochs 20] [--seed 0]
                                    [--touching 0.5] [--model MODEL] [--start JUDGE.npz]
                                    [--lr 0.05] [--pieces FILE.npz]

Composes numbers from MNIST *training* digits (the first 50,000; validation and test
are never seen): a share ``--touching`` of them with pairs touching as a pen makes them
touch (``digitnet.data.touching``: strokes merged, overlapping or joined), the rest as
``synthetic.number`` makes them, half of those with touching pairs; lists every candidate piece that
``digitnet.read.lattice`` finds, and labels it by each digit's ink, which the composer
reports: a piece is a whole digit when it holds at least 80% of one digit's ink and
no more than 20% of any other's. Small digitnet networks ([784 pixels + features, 128, 2],
ReLU, softmax) learn the label from the piece's 28x28 image and
``digitnet.read.features``, each from its own seed, and their probabilities are averaged
(one network's readings swing with its seed by half a percent and more); 10% of the
pieces are held out to report the accuracy. Writes src/digitnet/models/reader.npz.
``--start`` trains the networks of an existing judge further instead of new ones;
``--pieces`` keeps the labelled pieces (outside the repository) to train again from.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from benchmarks import recorded_command

WHOLE = 0.8
#: What the judge takes, for `digitnet info` (not MNIST's 784 pixels alone).
PIECE_INPUT = {
    "input": "a candidate piece of `read`: its 28x28 MNIST-form image, then digitnet.read.features",
    "scale": "pixel / 255 -> [0, 1]; the features as read.features computes them",
    "layout": "784 pixels row-major, then the features",
}
HIDDEN = 128
OUT = Path(__file__).resolve().parents[1] / "src" / "digitnet" / "models" / "reader.npz"


def compose(i, rng, digits, pen):
    """The i-th composed number: (image, each digit's ink alone). A share ``pen`` of them
    touch as a pen makes them touch (``data.touching``: half of those two or three digits
    all touching, half two to six digits, each pair touching with probability 0.5); the
    rest are two to eight digits as ``synthetic.number`` makes them, every other number
    with touching pairs (p = 0.3)."""
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number

    if rng.random() < pen:
        short = rng.random() < 0.5
        idx = rng.integers(0, len(digits.x), int(rng.integers(2, 4) if short else rng.integers(2, 7)))
        image, _, layers = touching_number(digits.x[idx], rng, touching=1.0 if short else 0.5)
    else:
        idx = rng.integers(0, len(digits.x), int(rng.integers(2, 9)))
        image, _, layers = number(digits.x[idx], rng, touching=0.3 if i % 2 else 0.0, layers=True)
    return image, layers


def labelled_pieces(numbers, model, rng, digits, pen=0.0):
    """(inputs, labels) for every candidate piece of ``numbers`` composed numbers
    (``compose``)."""
    from digitnet.read import features, lattice, piece_image

    xs, ys = [], []
    for i in range(numbers):
        image, layers = compose(i, rng, digits, pen)
        lat = lattice(image)
        keys = list(lat.pieces)
        images = np.stack([piece_image(lat.small, lat.pieces[key]) for key in keys])
        xs.append(np.hstack([images, features(lat, keys, model.confidences(images))]))
        owners = _in_frame(layers, lat)  # (digits, rows, cols): each digit's ink alone
        totals = owners.sum(axis=(1, 2))
        for pl, pr, mask in (lat.pieces[key] for key in keys):
            share = (owners[:, :, pl:pr] * mask).sum(axis=(1, 2)) / totals
            k = int(share.argmax())
            ys.append(share[k] >= WHOLE and np.delete(share, k).max(initial=0) <= 1 - WHOLE)
    return np.concatenate(xs).astype(np.float32), np.asarray(ys, dtype=np.int64)


def _in_frame(layers, lat):
    """Each digit's ink cropped and scaled as ``lattice`` did the whole image."""
    from PIL import Image

    if lat.turn is not None:  # the writing was turned level: each digit's ink too
        layers = [lat.turn.apply(layer) for layer in layers]
    left, top = lat.origin
    h, w = lat.small.shape
    bottom, right = top + round(h / lat.scale), left + round(w / lat.scale)
    return np.stack([np.asarray(Image.fromarray(layer[top:bottom, left:right], "F")
                                .resize((w, h), Image.Resampling.BOX)) for layer in layers])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=8000)
    parser.add_argument("--members", type=int, default=5, help="networks averaged (at least 1)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--model")
    parser.add_argument("--touching", type=float, default=0.5,
                        help="share of the numbers touching as a pen makes them touch (data.touching)")
    parser.add_argument("--start", help="a judge whose networks are trained further (one per member) "
                                          "instead of new ones")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate (momentum 0.9)")
    parser.add_argument("--pieces", type=Path, help="labelled pieces: read if it exists, else kept")
    parser.add_argument("--seed", type=int, default=0, help="seed of the numbers and of the networks")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.members < 1 or args.numbers < 1:
        parser.error("--members and --numbers must be at least 1")

    from digitnet import read
    from digitnet.data import mnist
    from digitnet.io import load_model, save_model
    from digitnet.nn.ensemble import Ensemble
    from digitnet.nn.network import mlp
    from digitnet.nn.optim import SGD
    from digitnet.pretrained import resolve_model
    from digitnet.train import evaluate, fit

    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    if args.pieces and args.pieces.is_file():
        with np.load(args.pieces, allow_pickle=False) as saved:
            x, y = saved["x"], saved["y"]
            rng.bit_generator.state = json.loads(str(saved["state"]))  # as after composing them
    else:
        train = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).train
        x, y = labelled_pieces(args.numbers, resolve_model(args.model), rng, train, args.touching)
        if args.pieces:
            np.savez(args.pieces, x=x, y=y, state=json.dumps(rng.bit_generator.state))
    order = rng.permutation(len(y))
    held = order[:len(y) // 10]
    used = order[len(y) // 10:]
    first = load_model(args.start) if args.start else None
    starts = (first.members if isinstance(first, Ensemble) else [first]) if first else []
    members = []
    for member in range(args.members):
        member_rng = np.random.default_rng([args.seed, member])
        net = (starts[member % len(starts)] if starts else
               mlp([x.shape[1], HIDDEN, 2], "relu", "ce", init="he", rng=member_rng))
        optimizer = SGD(net.parameters(), args.lr, momentum=0.9)
        fit(net, x[used], y[used], epochs=args.epochs, batch_size=64, optimizer=optimizer,
            rng=member_rng)
        members.append(net)
    net = Ensemble(members) if len(members) > 1 else members[0]
    held_accuracy = evaluate(net, x[held], y[held]) / len(held)
    command = recorded_command("fit_reader", argv)
    save_model(args.out, net, {
        "preprocessing": PIECE_INPUT,
        "classes": ["part of a digit, or several", "one whole digit"],
        "training": {"about": __doc__.split("\n\n")[2].replace("\n", " "), "numbers": args.numbers,
                     "pieces": int(len(y)), "whole": int(y.sum()), "members": args.members,
                     "touching": args.touching, "start": args.start, "lr": args.lr,
                     "epochs": args.epochs, "seed": args.seed, "cut_margin": read.CUT_MARGIN,
                     "digit_model": args.model or "the shipped model",
                     "seconds": round(time.perf_counter() - start, 1), "command": command},
        "metrics": {"held_out_accuracy": round(held_accuracy, 4)},
    }, half=True)
    print(f"{len(y)} pieces ({y.sum()} whole digits) from {args.numbers} numbers; "
          f"held-out accuracy {100 * held_accuracy:.2f}%; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
