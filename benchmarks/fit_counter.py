"""Train `read`'s counter: how many digits a piece holds (a part of one, one, two, more).

    python -m benchmarks.fit_counter [--numbers 1500] [--epochs 20] [--seed 0]
                                     [--pieces FILE.npz]

Composes numbers from MNIST *training* digits (the first 50,000; validation and test
are never seen): half of them pairs touching as a pen makes them touch
(``digitnet.data.touching``), the rest numbers of 1 to 6 digits, touching that way or as
``synthetic.number`` lets them touch, or apart. Every candidate piece that
``digitnet.read.lattice`` finds is labelled by each digit's ink (a digit is held when the
piece has at least 80% of its ink; a piece with 20-80% of some digit's ink is a part) and
shown in a 28x56 frame (``digitnet.read.counter.frame``), moved by up to 2 pixels each way
in training. The counter ([1568 + 2, 128, 4], ReLU, softmax) learns from all pieces
whether a piece is a part, one digit, two or more; 10% are held out to report the
accuracy. Writes src/digitnet/models/count.npz; ``--pieces`` keeps the labelled pieces
(outside the repository) to train again from.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.fit_reader import WHOLE, _in_frame

HIDDEN = 128
OUT = Path(__file__).resolve().parents[1] / "src" / "digitnet" / "models" / "count.npz"
FRAME_INPUT = {
    "input": "a candidate piece of `read` in a 28x56 frame (digitnet.read.counter.frame)",
    "scale": "ink in [0, 1]",
    "layout": "1568 pixels row-major, then its width and height / the writing's height",
}


def counts(lat, keys, layers, labels):
    """(count class, pair label 10 a + b for a piece of two digits a b, else -1) of each
    piece, from each digit's ink and ``labels``."""
    from digitnet.read.counter import MORE, PART, TWO

    owners = _in_frame(layers, lat)
    totals = np.maximum(owners.sum(axis=(1, 2)), 1e-6)
    out = []
    for key in keys:
        pl, pr, mask = lat.pieces[key]
        share = (owners[:, :, pl:pr] * mask).sum(axis=(1, 2)) / totals
        held = np.flatnonzero(share >= WHOLE)
        if ((share > 1 - WHOLE) & (share < WHOLE)).any() or not len(held):
            out.append((PART, -1))
        elif len(held) == 2:
            out.append((TWO, 10 * int(labels[held[0]]) + int(labels[held[1]])))
        else:
            out.append((min(len(held), MORE), -1))
    return out


def compose(i, rng, digits):
    """The i-th number of the mix described above: (image, layers, labels)."""
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number

    if i % 2 == 0:
        idx = rng.integers(0, len(digits.x), 2)
        image, _, layers = touching_number(digits.x[idx], rng)
    else:
        idx = rng.integers(0, len(digits.x), int(rng.integers(1, 7)))
        if i % 4 == 1:
            image, _, layers = touching_number(digits.x[idx], rng, touching=0.5)
        else:
            image, _, layers = number(digits.x[idx], rng, touching=float(rng.choice([0, 0.3, 1])),
                                      layers=True)
    return image, layers, digits.y[idx]


def labelled_pieces(numbers, rng, digits):
    """Frames, shapes and count classes of every piece of ``numbers`` numbers."""
    from digitnet.read import lattice
    from digitnet.read.counter import frame, shape

    frames, shapes, ys = [], [], []
    for i in range(numbers):
        image, layers, labels = compose(i, rng, digits)
        lat = lattice(image)
        keys = list(lat.pieces)
        frames.append(np.stack([frame(lat.small, lat.pieces[k]) for k in keys]))
        shapes.append(shape(lat, keys))
        ys += [c for c, _ in counts(lat, keys, layers, labels)]
    return (np.concatenate(frames).astype(np.float16), np.concatenate(shapes),
            np.asarray(ys, np.int64))


def shifted(x, rng):
    """Each frame of the mini-batch ``x`` moved by up to 2 pixels each way (the pieces'
    extra inputs after the frame stay as they are)."""
    from digitnet.read.counter import FRAME

    size = FRAME[0] * FRAME[1]
    frames = x[:, :size].reshape(-1, *FRAME)
    out = x.copy()
    moved = out[:, :size].reshape(-1, *FRAME)
    for i, (dy, dx) in enumerate(rng.integers(-2, 3, (len(x), 2))):
        moved[i] = np.roll(frames[i], (dy, dx), axis=(0, 1))
    out[:, :size] = moved.reshape(len(x), size)
    return out


def train(x, y, hidden, epochs, seed):
    """A [inputs, hidden, classes] ReLU network, trained on shifted frames, and its
    accuracy on a held-out tenth."""
    from digitnet.nn.network import mlp
    from digitnet.nn.optim import SGD
    from digitnet.train import evaluate, fit

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    held, used = order[:len(y) // 10], order[len(y) // 10:]
    net = mlp([x.shape[1], hidden, int(y.max()) + 1], "relu", "ce", init="he", rng=rng)
    fit(net, x[used], y[used], epochs=epochs, batch_size=64,
        optimizer=SGD(net.parameters(), 0.05, momentum=0.9), rng=rng, augment=shifted)
    return net, evaluate(net, x[held], y[held]) / len(held)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pieces", type=Path, help="labelled pieces: read if it exists, else kept")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.numbers < 1 or args.epochs < 1:
        parser.error("--numbers and --epochs must be at least 1")

    from digitnet.data import mnist
    from digitnet.io import save_model
    from digitnet.read.counter import counter_input

    start = time.perf_counter()
    if args.pieces and args.pieces.is_file():
        with np.load(args.pieces, allow_pickle=False) as saved:
            frames, shapes, count = (saved[k] for k in ("frames", "shapes", "count"))
    else:
        train_digits = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).train
        frames, shapes, count = labelled_pieces(args.numbers, np.random.default_rng(args.seed),
                                                train_digits)
        if args.pieces:
            np.savez(args.pieces, frames=frames, shapes=shapes, count=count)
    print(f"{len(count)} pieces, {np.bincount(count, minlength=4).tolist()} by count "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    net, accuracy = train(counter_input(frames, shapes), count, HIDDEN, args.epochs, args.seed)
    command = "python -m benchmarks.fit_counter " + " ".join(sys.argv[1:] if argv is None else argv)
    save_model(args.out, net, {
        "preprocessing": FRAME_INPUT,
        "classes": ["part of a digit", "one digit", "two digits", "three or more"],
        "training": {"about": __doc__.split("\n\n")[2].replace("\n", " "),
                     "numbers": args.numbers, "pieces": len(count), "epochs": args.epochs,
                     "seed": args.seed, "seconds": round(time.perf_counter() - start, 1),
                     "command": command},
        "metrics": {"held_out_accuracy": round(accuracy, 4)},
    }, half=True)
    print(f"counter: {len(count)} pieces, held-out accuracy {100 * accuracy:.2f}%; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
