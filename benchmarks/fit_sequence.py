"""Train `read`'s sequence reader: the digits of a whole line, with the CTC cost.

    python -m benchmarks.fit_sequence [--numbers 48000] [--epochs 10] [--seed 1]
                                      [--channels 24,48,64] [--hidden 192] [--out FILE]
                                      [--lines FILE.npz] [--start MODEL] [--lr 0.001]
                                      [--thicken 0] [--ones 0] [--pens 0] [--ligatures 0]
                                      [--crowd 0] [--joined-ones 0] [--deepen N]

Composes numbers of 1 to 8 digits from MNIST *training* digits (the first 50,000;
validation and test are never seen): a third touching as a pen makes them touch
(``digitnet.data.touching``: strokes merged, overlapping or joined, varied slant, stroke
width and size), a third as ``synthetic.number`` makes them (apart, or overlapping by a
few pixels, p = 0.3 or 1), a third mixed likewise with 1 to 3 digits. Each is brought to
the line the sequence reader sees (``digitnet.read.sequence.line`` of
``segment.scaled_ink``: 32 rows, any width), its ink dimmed at random (x 0.6-1) and
shifted by up to 3 columns. The reader (``sequence.sequence_reader``) learns with Adam
(rate 0.001, halved for the last third of the epochs, gradients clipped at norm 5) on
mini-batches of 32 lines of similar width, padded on the right with blank columns, by
the CTC cost (``digitnet.nn.ctc``); ``--start`` continues from a reader already trained
(its shape kept), ``--lr`` sets the first rate, ``--thicken`` the share of lines whose
strokes are thickened by a pixel at random (a broader pen). Three shares aim the lines at
real writing: ``--pens`` lines drawn crisp as a pen draws (``pen``), ``--ones`` touching
numbers given a 1 among their digits, ``--ligatures`` touching numbers whose ligatures
cross gaps of 5-40% of a digit's height; ``--crowd`` touching numbers slid past touching by
up to half the narrower digit's width (``CROWD``; ``data.touching``'s own is a quarter), as
a hand that writes its digits over each other does; ``--joined-ones`` touching numbers
given a 1 after their first digit and every touching pair joined by a pen's stroke (a
stroke that meets a 1 does not make it a 4). 5% is held out to report how many lines the best
path reads exactly. Writes src/digitnet/models/sequence.npz after every epoch (a long run
can be stopped); ``--lines`` keeps the composed lines (outside the repository).
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from benchmarks import recorded_command

OUT = Path(__file__).resolve().parents[1] / "src" / "digitnet" / "models" / "sequence.npz"
LINE_INPUT = {
    "input": "a line of writing: the ink of digitnet.read.segment.scaled_ink brought to 32 rows "
             "(digitnet.read.sequence.line), any width",
    "scale": "ink in [0, 1]",
    "layout": "(n, 1, 32, width); outputs one row of 11 scores per 4 columns",
}
BATCH = 32
#: How far past touching a crowded pair may be slid (``--crowd``), as a fraction of the
#: narrower digit's width.
CROWD = 0.5


def overlap(rng, crowd):
    """How far past touching a touching number's pairs may slide: ``CROWD`` for a share
    ``crowd`` of them, else ``data.touching``'s own (the generator drawn from only when
    asked for, so that a run without ``--crowd`` composes what runs before it composed)."""
    from digitnet.data.touching import OVERLAP

    return CROWD if crowd and rng.random() < crowd else OVERLAP


def compose(i, rng, digits, ones=0.0, ligatures=0.0, crowd=0.0, joined_ones=0.0):
    """The i-th number of the mix described above: (image, its digits as a string). A
    share ``ones`` of the touching numbers has one digit replaced by a 1 (a narrow stroke
    that merges into its neighbour: the error most often left); a share ``ligatures`` has
    its ligatures drawn across wider gaps (5-40% of a digit's height), as joined writing
    has them; a share ``crowd`` its pairs slid over each other by up to ``CROWD``; a share
    ``joined_ones`` a 1 after its first digit, every touching pair joined by a stroke."""
    from digitnet.data.synthetic import number
    from digitnet.data.touching import LIGATURE, touching_number

    k = int(rng.integers(1, 4) if i % 3 == 2 else rng.integers(1, 9))
    idx = rng.integers(0, len(digits.x), k)
    if i % 3 == 0 or (i % 3 == 2 and rng.random() < 0.5):
        # each share draws from ``rng`` only when asked for, so that a run without it
        # composes the very lines the runs before these options composed
        if ones and k > 1 and rng.random() < ones:
            idx[rng.integers(0, k)] = rng.choice(np.flatnonzero(digits.y == 1))
        joined = bool(ligatures) and rng.random() < ligatures
        slide = overlap(rng, crowd)
        joined_one = bool(joined_ones) and k > 1 and rng.random() < joined_ones
        if joined_one:
            idx[rng.integers(1, k)] = rng.choice(np.flatnonzero(digits.y == 1))
        image = touching_number(digits.x[idx], rng, touching=float(rng.choice([0.5, 1.0])),
                                ligature_gap=(0.05, 0.4) if joined else None,
                                overlap=slide,
                                ligature=1.0 if joined_one else LIGATURE)[0]
    else:
        image = number(digits.x[idx], rng, touching=float(rng.choice([0.0, 0.3, 1.0])))[0]
    return image, "".join(map(str, digits.y[idx]))


def pen(small, rng):
    """The ink drawn as a pen draws it: cut at a grey level that varies smoothly along the
    line (pressed harder or softer; lower levels, broader strokes), with a soft edge of
    about a pixel. MNIST's strokes are blurred; a pen's, in a photo or a scan, are crisp."""
    from PIL import Image

    coarse = rng.normal(size=(2, max(2, small.shape[1] // 48))).astype(np.float32)
    field = np.asarray(Image.fromarray(coarse, "F").resize(small.shape[::-1], Image.Resampling.BICUBIC))
    cut = rng.uniform(0.2, 0.5) + 0.06 * field
    return np.clip((small - cut) / 0.12 + 0.5, 0.0, 1.0)


def lines(numbers, rng, digits, ones=0.0, pens=0.0, ligatures=0.0, crowd=0.0, joined_ones=0.0):
    """The lines (list of (32, width) float16 arrays) and labels of ``numbers`` numbers;
    a share ``pens`` drawn with ``pen``."""
    from digitnet.read.segment import scaled_ink
    from digitnet.read.sequence import line

    out, labels = [], []
    for i in range(numbers):
        image, label = compose(i, rng, digits, ones, ligatures, crowd, joined_ones)
        small = scaled_ink(image)[0]
        if pens and rng.random() < pens:
            small = pen(small, rng)
        out.append(line(small).astype(np.float16))
        labels.append(label)
    return out, labels


def save_lines(path, images, labels):
    """Keep composed lines (outside the repository) to train again from."""
    np.savez(path, lines=np.concatenate(images, axis=1), widths=[im.shape[1] for im in images],
             labels=np.asarray(labels))


def load_lines(path):
    """The lines and labels ``save_lines`` kept."""
    with np.load(path, allow_pickle=False) as saved:
        ends = np.cumsum(saved["widths"])
        whole = saved["lines"]
        return ([whole[:, end - w:end] for w, end in zip(saved["widths"], ends)],
                [str(t) for t in saved["labels"]])


def thickened(im, rng):
    """The line's strokes a pixel broader, to the right, below or both."""
    out = im.copy()
    if rng.random() < 0.67:
        out[:, 1:] = np.maximum(out[:, 1:], im[:, :-1])
    if rng.random() < 0.67 or (out == im).all():
        out[1:] = np.maximum(out[1:], im[:-1])
    return out


def batch(images, labels, rng=None, thicken=0.0):
    """Lines padded on the right to one width (a multiple of 4): (n, 1, 32, W), and the
    labels (n, S) padded with -1. With ``rng``: the ink dimmed and shifted at random, and
    a share ``thicken`` of lines thickened."""
    from digitnet.read.sequence import STRIDE

    shift = rng.integers(0, 4, len(images)) if rng is not None else np.zeros(len(images), int)
    width = max(im.shape[1] + s for im, s in zip(images, shift))
    width = -(-width // STRIDE) * STRIDE
    x = np.zeros((len(images), 1, images[0].shape[0], width), np.float32)
    for n, (im, s) in enumerate(zip(images, shift)):
        gain = rng.uniform(0.6, 1.0) if rng is not None else 1.0
        if rng is not None and thicken and rng.random() < thicken:
            im = thickened(im, rng)
        x[n, 0, :, s:s + im.shape[1]] = im.astype(np.float32) * gain
    y = np.full((len(labels), max(len(t) for t in labels)), -1, np.int64)
    for n, t in enumerate(labels):
        y[n, :len(t)] = [int(c) for c in t]
    return x, y


def batches(order, widths, rng):
    """Mini-batches of indices of ``order``: neighbours in width, in random order."""
    by_width = order[np.argsort(widths[order] + rng.uniform(0, 8, len(order)), kind="stable")]
    chunks = [by_width[i:i + BATCH] for i in range(0, len(by_width), BATCH)]
    return [chunks[i] for i in rng.permutation(len(chunks))]


def train(images, labels, epochs, seed, net, log=print, after_epoch=None, lr=0.001, thicken=0.0):
    """The reader trained as the module docstring says, and the held-out indices;
    ``after_epoch(net, epoch, held)`` is called after each epoch (to keep the model)."""
    from digitnet.nn.ctc import CTCCost
    from digitnet.nn.optim import Adam, clip_grad_norm
    from digitnet.read.sequence import BLANK

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    held, used = order[:len(labels) // 20], order[len(labels) // 20:]
    widths = np.asarray([im.shape[1] for im in images])
    identity = net.loss
    net.loss = CTCCost(BLANK)
    optimizer = Adam(net.parameters(), lr)
    for epoch in range(epochs):
        optimizer.lr = lr * (0.5 if epoch >= 2 * epochs / 3 else 1.0)
        start, total, seen = time.perf_counter(), 0.0, 0
        for take in batches(used, widths, rng):
            x, y = batch([images[i] for i in take], [labels[i] for i in take], rng, thicken)
            total += net.loss_and_gradients(x, y) * len(take)
            seen += len(take)
            clip_grad_norm(net.parameters(), 5.0)
            optimizer.step()
        log(f"epoch {epoch + 1}: cost {total / seen:.4f} ({time.perf_counter() - start:.0f} s)")
        if after_epoch is not None:
            net.loss = identity
            after_epoch(net, epoch + 1, held)
            net.loss = CTCCost(BLANK)
    net.loss = identity
    return net, held


def deepen(net, n):
    """``net`` with ``n`` 3x3 convolutions (each followed by a ReLU) added before its
    ``Columns``, each the identity at first: the same reader, now free to learn from a
    wider stretch of the line (each adds a column of scores on either side to what one
    column sees). Its ReLU passes the ReLU's outputs before it unchanged."""
    from digitnet.nn import layers as L
    from digitnet.nn.conv import Columns, Conv2D
    from digitnet.nn.network import Network

    at = next(i for i, layer in enumerate(net.layers) if isinstance(layer, Columns))
    channels = net.layers[at - 2].out_channels
    added = []
    for _ in range(n):
        conv = Conv2D(channels, channels, 3, 1, 1)
        conv.params["weight"][...] = 0
        conv.params["weight"][np.arange(channels), np.arange(channels), 1, 1] = 1
        added += [conv, L.ReLU()]
    layers = net.layers[:at] + added + net.layers[at:]
    return Network(layers, net.loss, net.input_shape).train()


def exact(net, images, labels):
    """The share of ``images`` whose best path reads exactly ``labels``."""
    from digitnet.read.sequence import column_scores_batch, greedy

    right = 0
    for i in range(0, len(images), BATCH):
        x, _ = batch(images[i:i + BATCH], labels[i:i + BATCH])
        for scores, truth in zip(column_scores_batch(net, x), labels[i:i + BATCH]):
            right += greedy(scores) == truth
    return right / max(len(images), 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=48000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--channels", default="24,48,64")
    parser.add_argument("--hidden", type=int, default=192)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--lines", type=Path, help="the composed lines: read if it exists, else kept")
    parser.add_argument("--start", type=Path, help="a trained reader to continue from")
    parser.add_argument("--lr", type=float, default=0.001, help="Adam's first learning rate")
    parser.add_argument("--thicken", type=float, default=0.0, help="share of lines thickened")
    parser.add_argument("--ones", type=float, default=0.0,
                        help="share of touching numbers given a 1 among their digits")
    parser.add_argument("--pens", type=float, default=0.0, help="share of lines drawn as by a pen")
    parser.add_argument("--ligatures", type=float, default=0.0,
                        help="share of touching numbers whose ligatures cross wider gaps")
    parser.add_argument("--crowd", type=float, default=0.0,
                        help="share of touching numbers slid over each other by up to half a digit's width")
    parser.add_argument("--joined-ones", type=float, default=0.0,
                        help="share of touching numbers given a 1 joined to its neighbour by a pen's stroke")
    parser.add_argument("--deepen", type=int, default=0,
                        help="with --start: convolutions added before the columns, "
                             "each first the identity (a wider view of the line)")
    args = parser.parse_args(argv)
    if min(args.numbers, args.epochs, args.hidden) < 1:
        parser.error("--numbers, --epochs and --hidden must be at least 1")
    shares = (args.thicken, args.ones, args.pens, args.ligatures, args.crowd, args.joined_ones)
    if not (args.lr > 0 and all(0 <= share <= 1 for share in shares)):
        parser.error("--lr must be positive and the shares (--thicken, --ones, --pens, "
                     "--ligatures, --crowd, --joined-ones) in [0, 1]")
    if args.start and not args.start.is_file():
        parser.error(f"--start: no such file: {args.start}")
    if args.deepen < 0:
        parser.error("--deepen must be 0 or more")
    if args.deepen and not args.start:
        parser.error("--deepen adds to a reader already trained: give --start")

    from digitnet.data import mnist
    from digitnet.io import load_model, read_config, save_model
    from digitnet.read.sequence import sequence_reader

    start = time.perf_counter()
    if args.lines and args.lines.is_file():
        images, labels = load_lines(args.lines)
    else:
        train_digits = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).train
        images, labels = lines(args.numbers, np.random.default_rng(args.seed), train_digits,
                               args.ones, args.pens, args.ligatures, args.crowd, args.joined_ones)
        if args.lines:
            save_lines(args.lines, images, labels)
    print(f"{len(images)} lines, widths {min(im.shape[1] for im in images)}-"
          f"{max(im.shape[1] for im in images)} ({time.perf_counter() - start:.0f} s)", flush=True)
    if args.start:  # its shape is the one it was trained with
        net = load_model(str(args.start)).train()
        shape = read_config(args.start)["training"]
        if not isinstance(shape, dict):  # an ensemble file (join_sequence) holds several
            raise SystemExit(f"fit_sequence: {args.start} holds several readers; --start takes one")
        channels, args.hidden = tuple(shape["channels"]), shape["hidden"]
        deepened = shape.get("deepened", 0)
        if args.deepen:
            net = deepen(net, args.deepen)
            deepened += args.deepen
    else:
        channels = tuple(int(c) for c in args.channels.split(","))
        net = sequence_reader(np.random.default_rng(args.seed), channels, args.hidden)
        deepened = 0
    command = recorded_command("fit_sequence", argv)

    def keep(net, epoch, held):
        """Write the model as it is after ``epoch`` epochs: a long run can be stopped."""
        accuracy = exact(net, [images[i] for i in held], [labels[i] for i in held])
        save_model(args.out, net, {
            "preprocessing": LINE_INPUT,
            "outputs": "per column (one for each 4 of the line): logits of the digits 0-9, then the blank",
            "training": {"about": __doc__.split("\n\n")[2].replace("\n", " "),
                         "numbers": len(labels), "epochs": epoch, "of_epochs": args.epochs,
                         "seed": args.seed, "channels": list(channels), "hidden": args.hidden,
                         "lr": args.lr, "thicken": args.thicken, "ones": args.ones, "pens": args.pens,
                         "ligatures": args.ligatures, "crowd": args.crowd, "joined_ones": args.joined_ones,
                         "deepened": deepened,
                         "start": args.start.name if args.start else None,
                         "seconds": round(time.perf_counter() - start, 1), "command": command},
            "metrics": {"held_out_exact": round(accuracy, 4)},
        }, half=True)
        print(f"epoch {epoch}: held-out lines read exactly (best path): {100 * accuracy:.2f}%; "
              f"wrote {args.out}", flush=True)

    train(images, labels, args.epochs, args.seed, net, lambda line: print(line, flush=True), keep,
          args.lr, args.thicken)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
