"""Train `read`'s pair reader: how many digits a piece holds, and which two when two.

    python -m benchmarks.fit_pairs [--numbers 1500] [--pairs 16000] [--epochs 8] [--seed 0]
                                   [--pieces FILE.npz] [--start COUNT.npz] [--lr 0.05] [--crowd 0]

Composes numbers from MNIST *training* digits (the first 50,000; validation and test are
never seen): half of them pairs touching as a pen makes them touch
(``digitnet.data.touching``), the rest numbers of 1 to 6 digits, touching that way or as
``synthetic.number`` lets them touch, or apart. Every candidate piece that
``digitnet.read.lattice`` finds is labelled by each digit's ink (a digit is held when the
piece has at least 80% of its ink; a piece with 20-80% of some digit's ink is a part; for
a piece of two, which two), and ``--pairs`` pairs of digits shown whole are added. One small
CNN (``digitnet.read.counter.pair_reader``: two 3x3 convolutions of 16 and 32 channels,
each with a 2x2 pool, 128 hidden neurons) looks at the piece in its 28x56 frame,
moved by up to 2 pixels each way in training, and has three heads: the count (4
classes), the left digit and the right digit (10 each, learned from pieces of two
only). 10% is held out to report the accuracy of each head. Writes
src/digitnet/models/count.npz; ``--pieces`` keeps the labelled pieces (outside the
repository) to train again from; ``--start`` trains an existing pair reader further
instead of a new one (``--lr``: the starting rate, halved after 60% of the epochs and
cut to a fifth after 85%); ``--crowd S``: a share S of the touching numbers and pairs slid
over each other by up to half the narrower digit's width (``fit_sequence.overlap``; a quarter
otherwise), as a crowded hand writes them.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from benchmarks import recorded_command
from benchmarks.fit_reader import WHOLE, _in_frame

OUT = Path(__file__).resolve().parents[1] / "src" / "digitnet" / "models" / "count.npz"
FRAME_INPUT = {
    "input": "a candidate piece of `read` in a 28x56 frame (digitnet.read.counter.frame)",
    "scale": "ink in [0, 1]",
    "layout": "1568 pixels row-major",
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


def compose(i, rng, digits, crowd=0.0):
    """The i-th number of the mix described above: (image, layers, labels)."""
    from benchmarks.fit_sequence import overlap
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number

    if i % 2 == 0:
        idx = rng.integers(0, len(digits.x), 2)
        image, _, layers = touching_number(digits.x[idx], rng, overlap=overlap(rng, crowd))
    else:
        idx = rng.integers(0, len(digits.x), int(rng.integers(1, 7)))
        if i % 4 == 1:
            image, _, layers = touching_number(digits.x[idx], rng, touching=0.5, overlap=overlap(rng, crowd))
        else:
            image, _, layers = number(digits.x[idx], rng, touching=float(rng.choice([0, 0.3, 1])),
                                      layers=True)
    return image, layers, digits.y[idx]


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


def labelled_pieces(numbers, rng, digits, crowd=0.0):
    """Frames, count classes and pair labels (10 a + b, or -1) of every piece of
    ``numbers`` composed numbers."""
    from digitnet.read import lattice
    from digitnet.read.counter import frame

    frames, ys = [], []
    for i in range(numbers):
        image, layers, labels = compose(i, rng, digits, crowd)
        lat = lattice(image)
        keys = list(lat.pieces)
        frames.append(np.stack([frame(lat.small, lat.pieces[k], lat.height) for k in keys]))
        ys += counts(lat, keys, layers, labels)
    y = np.asarray(ys, np.int64)
    return np.concatenate(frames).astype(np.float16), y[:, 0], y[:, 1]


def whole_pairs(n, rng, digits, crowd=0.0):
    """Frames and pair labels of ``n`` pairs of digits, each pair's ink shown whole:
    touching as a pen makes them touch, or as ``synthetic.number`` lets them, or apart."""
    from benchmarks.fit_sequence import overlap
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number
    from digitnet.read import lattice
    from digitnet.read.counter import frame
    from digitnet.read.segment import Piece

    frames, ys = [], []
    for i in range(n):
        idx = rng.integers(0, len(digits.x), 2)
        if i % 3:
            image = touching_number(digits.x[idx], rng, overlap=overlap(rng, crowd))[0]
        else:
            image = number(digits.x[idx], rng, touching=float(rng.choice([0.3, 1])))[0]
        lat = lattice(image)
        frames.append(frame(lat.small, Piece(0, lat.small.shape[1], lat.small > 0.25), lat.height))
        ys.append(10 * int(digits.y[idx[0]]) + int(digits.y[idx[1]]))
    return np.stack(frames).astype(np.float16), np.asarray(ys, np.int64)


def targets(count, pair):
    """(n, 24) targets of the three heads: the count one-hot, then for pieces of two the
    left and the right digit one-hot (zero rows elsewhere: no cost from those heads)."""
    from digitnet.read.counter import HEADS

    y = np.zeros((len(count), HEADS[-1].stop), np.float32)
    y[np.arange(len(count)), count] = 1.0
    two = np.flatnonzero(pair >= 0)
    y[two, HEADS[1].start + pair[two] // 10] = 1.0
    y[two, HEADS[2].start + pair[two] % 10] = 1.0
    return y


class HeadsCost:
    """The softmax cross-entropy of each head (``counter.HEADS``) of the outputs, summed."""

    def __call__(self, z, y):
        from digitnet.nn.losses import SoftmaxCrossEntropy
        from digitnet.read.counter import HEADS

        cost, delta = 0.0, np.zeros_like(z)
        for head in HEADS:
            c, delta[:, head] = SoftmaxCrossEntropy()(z[:, head], y[:, head])
            cost += c
        return cost, delta


def train(x, y, epochs, seed, log=print, start=None, lr=0.05):
    """The pair reader trained on shifted frames (a new one, or ``start`` trained
    further), and the held-out tenth's indices."""
    from digitnet.nn.optim import SGD
    from digitnet.read.counter import pair_reader

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    held, used = order[:len(y) // 10], order[len(y) // 10:]
    net = pair_reader(rng) if start is None else start
    identity = net.loss
    net.loss = HeadsCost()
    optimizer = SGD(net.parameters(), lr, momentum=0.9)
    batch = 64
    for epoch in range(epochs):
        # the rate halved after 60% of the epochs, and cut to a fifth after 85%
        optimizer.lr = lr * (0.5 if epoch >= 0.6 * epochs else 1.0) * (
            0.4 if epoch >= 0.85 * epochs else 1.0)
        start, total = time.perf_counter(), 0.0
        shuffled = used[rng.permutation(len(used))]
        for i in range(0, len(shuffled), batch):
            take = shuffled[i:i + batch]
            total += net.loss_and_gradients(shifted(x[take].astype(np.float32), rng), y[take]) * len(take)
            optimizer.step()
        log(f"epoch {epoch + 1}: cost {total / len(used):.4f} ({time.perf_counter() - start:.0f} s)")
    net.loss = identity
    return net, held


def accuracies(net, x, y):
    """Each head's accuracy on ``x`` (the digit heads on pieces of two only)."""
    from digitnet.read.counter import HEADS

    z = net.predict_proba(x)
    out = {}
    for name, head in zip(("count", "left", "right"), HEADS):
        rows = y[:, head].sum(axis=1) > 0
        out[name] = float((z[rows][:, head].argmax(axis=1) == y[rows][:, head].argmax(axis=1)).mean())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1500)
    parser.add_argument("--pairs", type=int, default=16000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pieces", type=Path, help="labelled pieces: read if it exists, else kept")
    parser.add_argument("--start", help="a pair reader trained further instead of a new one")
    parser.add_argument("--lr", type=float, default=0.05, help="starting learning rate (momentum 0.9)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--crowd", type=float, default=0.0,
                        help="the share of touching numbers and pairs slid over each other by up to half "
                             "a digit's width (default 0)")
    args = parser.parse_args(argv)
    if min(args.numbers, args.epochs, args.pairs + 1) < 1:
        parser.error("--numbers and --epochs must be at least 1, --pairs at least 0")
    if not 0 <= args.crowd <= 1:
        parser.error("--crowd is a share in [0, 1]")

    from digitnet.data import mnist
    from digitnet.io import load_model, save_model
    from digitnet.read.counter import TWO

    start = time.perf_counter()
    if args.pieces and args.pieces.is_file():
        with np.load(args.pieces, allow_pickle=False) as saved:
            frames, count, pair, more, more_pair = (
                saved[k] for k in ("frames", "count", "pair", "more", "more_pair"))
    else:
        train_digits = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).train
        rng = np.random.default_rng(args.seed)
        frames, count, pair = labelled_pieces(args.numbers, rng, train_digits, args.crowd)
        more, more_pair = whole_pairs(args.pairs, rng, train_digits, args.crowd)
        if args.pieces:
            np.savez(args.pieces, frames=frames, count=count, pair=pair, more=more, more_pair=more_pair)
    x = np.concatenate([frames, more])
    y = targets(np.concatenate([count, np.full(len(more), TWO)]), np.concatenate([pair, more_pair]))
    print(f"{len(count)} pieces, {np.bincount(count, minlength=4).tolist()} by count, "
          f"{len(more)} more pairs ({time.perf_counter() - start:.0f} s)", flush=True)
    net, held = train(x, y, args.epochs, args.seed, lambda line: print(line, flush=True),
                      load_model(args.start) if args.start else None, args.lr)
    accuracy = accuracies(net, x[held].astype(np.float32), y[held])
    command = recorded_command("fit_pairs", argv)
    save_model(args.out, net, {
        "preprocessing": FRAME_INPUT,
        "outputs": "logits of three heads: the count (part of a digit, one digit, two digits, "
                   "three or more), then the left digit (0-9) and the right digit (0-9) of a piece of two",
        "training": {"about": __doc__.split("\n\n")[2].replace("\n", " "),
                     "numbers": args.numbers, "pairs": args.pairs, "pieces": int(len(y)),
                     "epochs": args.epochs, "seed": args.seed, "start": args.start, "lr": args.lr,
                     "crowd": args.crowd, "seconds": round(time.perf_counter() - start, 1),
                     "command": command},
        "metrics": {f"held_out_accuracy_{k}": round(v, 4) for k, v in accuracy.items()},
    }, half=True)
    print("held-out accuracy: " + ", ".join(f"{k} {100 * v:.2f}%" for k, v in accuracy.items())
          + f"; wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
