"""Choose `read`'s decoding constants and its judge on numbers of validation digits.

    python -m benchmarks.tune_counter [--numbers 100] [--realworld 120] [--start 0] [--families F,...]
                                      [--scores FILE.npz ...] [--counters FILE.npz ...]
                                      [--judges FILE.npz ...] [--weights 1,2] [--costs 2,3,inf]
                                      [--widths 0.6] [--wholes 0,1] [--bonuses 3.5] [--cut-costs 1.5]

Composes numbers from MNIST *validation* digits (the last 10,000 of the training file)
in four families: pairs touching as a pen makes them touch (``data.touching``, 2 to 6
digits, each gap touching with probability 0.4, every 2-digit number touching); numbers
of 2 to 8 digits apart, and with touching pairs as ``synthetic.number`` makes them
(p = 0.3), as ``benchmarks.bench_read`` does with test digits; single digits; and the
validation split of the held-out benchmark's number families (``benchmarks.realworld``:
``apart``, ``touching``, ``num-photo``; never its test split). Every piece
is classified and judged once (``--scores`` keeps that); then the pair reader sees every
piece, each setting is decoded, and its exact readings per family are printed, with how
many readings dropped a digit. ``--judges`` judges the kept pieces again with each judge
given (``benchmarks/fit_reader.py`` makes them) before decoding: judges are compared on
the same pieces. A setting is COUNT_WEIGHT, PAIR_COST, PAIR_WIDTH, PAIR_WHOLE, DIGIT_BONUS
and CUT_COST (``read.decode``), every combination of the values listed.
"""

import argparse
import itertools
import os

import numpy as np

from digitnet.io import load_model
from digitnet.read import decode

#: The decoding constants as shipped: COUNT_WEIGHT, PAIR_COST, PAIR_WIDTH, PAIR_WHOLE,
#: DIGIT_BONUS, CUT_COST.
SHIPPED = (decode.COUNT_WEIGHT, decode.PAIR_COST, decode.PAIR_WIDTH, decode.PAIR_WHOLE,
           decode.DIGIT_BONUS, decode.CUT_COST)

#: What ``score`` keeps of each piece (and, where kept, ``judged``).
NAMES = ("keys", "kind", "width", "probabilities", "log_whole", "shapes", "frames")


def families(n, seed, digits):
    """{family: [(image, truth)]} from ``digits``."""
    from digitnet.data.synthetic import number
    from digitnet.data.touching import touching_number

    rng = np.random.default_rng(seed)
    out = {"pen-touching": [], "separated": [], "touching-0.3": [], "single": []}
    for _ in range(n):
        k = int(rng.integers(2, 7))
        idx = rng.integers(0, len(digits.x), k)
        image = touching_number(digits.x[idx], rng, touching=1.0 if k == 2 else 0.4)[0]
        out["pen-touching"].append((image, "".join(map(str, digits.y[idx]))))
        for family, touching in (("separated", 0.0), ("touching-0.3", 0.3)):
            idx = rng.integers(0, len(digits.x), int(rng.integers(2, 9)))
            out[family].append((number(digits.x[idx], rng, touching=touching)[0],
                                "".join(map(str, digits.y[idx]))))
        i = int(rng.integers(0, len(digits.x)))
        out["single"].append((number(digits.x[[i]], rng)[0], str(digits.y[i])))
    return out


def realworld_families(n, start=0):
    """{family: [(picture bytes, truth)]}: the validation split of the number families,
    pictures ``start`` to ``start + n``."""
    from benchmarks import realworld

    digits = realworld.digits_of("validation")
    return {f"rw-{family}": realworld.pictures("validation", family, start + n, digits)[start:]
            for family in realworld.NUMBERS}


def score(items, model):
    """Classify, judge and frame every piece of each (image, truth): one dict of arrays
    per image, all that decoding it takes (``judged``: what the judge saw, to judge again)."""
    from types import SimpleNamespace

    from digitnet.read import counter, judge, lattice, piece_image

    out = []
    for image, truth in items:
        lat = lattice(image)
        keys = list(lat.pieces)
        images = np.stack([piece_image(lat.small, lat.pieces[k]) for k in keys])
        probabilities = model.confidences(images)  # as decode.scores, without the pair reader
        rows = judge.features(lat, keys, probabilities)
        out.append(SimpleNamespace(
            keys=np.asarray(keys), kind=np.asarray([lat.kind[k] for k in keys]),
            width=np.asarray([lat.pieces[k][1] - lat.pieces[k][0] for k in keys]),
            height=lat.height, n_nodes=lat.n_nodes, probabilities=probabilities, small=lat.small,
            log_whole=judge.log_whole(images, rows),
            truth=truth, shapes=counter.shape(lat, keys), frames=frames_of(lat, keys),
            judged=np.hstack([images, rows]).astype(np.float16)))
    return out


def frames_of(lat, keys):
    """The pair reader's frames of the pieces ``keys`` of ``lat`` (float16)."""
    from digitnet.read import counter

    return np.stack([counter.frame(lat.small, lat.pieces[k], lat.height) for k in keys]).astype(np.float16)


def save(path, scored):
    """Keep the scores of every family in one .npz (arrays concatenated, with offsets)."""
    arrays = {}
    for family, images in scored.items():
        for name in NAMES + ("judged",):
            if hasattr(images[0], name):
                arrays[f"{family}/{name}"] = np.concatenate([getattr(im, name) for im in images])
        arrays[f"{family}/counts"] = np.asarray([len(im.keys) for im in images])
        arrays[f"{family}/height"] = np.asarray([im.height for im in images])
        arrays[f"{family}/n_nodes"] = np.asarray([im.n_nodes for im in images])
        arrays[f"{family}/truth"] = np.asarray([im.truth for im in images])
        # each line's ink, which the sequence reader reads: side by side, with their widths
        arrays[f"{family}/small"] = np.concatenate([im.small for im in images], axis=1).astype(np.float16)
        arrays[f"{family}/small_widths"] = np.asarray([im.small.shape[1] for im in images])
    np.savez(path, **arrays)


def load(path):
    """The scores ``save`` kept."""
    from types import SimpleNamespace

    scored = {}
    with np.load(path, allow_pickle=False) as saved:
        families_ = sorted({k.split("/")[0] for k in saved.files})
        for family in families_:
            get = {name.split("/")[1]: saved[name] for name in saved.files
                   if name.startswith(family + "/")}
            ends = np.cumsum(get["counts"])
            smalls = (np.split(get["small"].astype(np.float32), np.cumsum(get["small_widths"])[:-1], axis=1)
                      if "small" in get else [None] * len(ends))
            scored[family] = [SimpleNamespace(
                height=int(get["height"][i]), n_nodes=int(get["n_nodes"][i]), truth=str(get["truth"][i]),
                small=smalls[i],
                **{name: get[name][end - n:end] for name in NAMES + ("judged",) if name in get})
                for i, (n, end) in enumerate(zip(get["counts"], ends))]
    return scored


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100, help="numbers per family")
    parser.add_argument("--realworld", type=int, default=120,
                        help="numbers per family of benchmarks.realworld's validation split")
    parser.add_argument("--start", type=int, default=0,
                        help="index of the first benchmarks.realworld picture (a second draw)")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--model")
    parser.add_argument("--families", help="comma-separated families (default: all)")
    parser.add_argument("--scores", nargs="*", default=[],
                        help=".npz files of the pieces' scores: read if they all exist, else the "
                             "first is kept")
    parser.add_argument("--counters", nargs="*", default=[],
                        help="pair reader model files to compare (default: the shipped one)")
    parser.add_argument("--judges", nargs="*", default=[],
                        help="judge model files to compare, judging the kept pieces again "
                             "(default: the judge the scores were made with)")
    parser.add_argument("--weights", default="1,2,3", help="COUNT_WEIGHTs tried")
    parser.add_argument("--costs", default="1,2,3,4,5,inf", help="PAIR_COSTs tried")
    parser.add_argument("--widths", default="0.6", help="PAIR_WIDTHs tried")
    parser.add_argument("--wholes", default="0,1", help="PAIR_WHOLEs tried")
    parser.add_argument("--bonuses", default=str(SHIPPED[4]), help="DIGIT_BONUSes tried")
    parser.add_argument("--cut-costs", default=str(SHIPPED[5]), help="CUT_COSTs tried")
    args = parser.parse_args(argv)
    settings = list(itertools.product(*([float(v) for v in values.split(",")] for values in (
        args.weights, args.costs, args.widths, args.wholes, args.bonuses, args.cut_costs))))

    if args.scores and all(os.path.exists(path) for path in args.scores):
        scored = {}
        for path in args.scores:
            scored.update(load(path))
    else:
        scored = score_families(args)
        if args.scores:
            save(args.scores[0], scored)
    for judge_path in args.judges or [None]:
        if judge_path is not None:
            rejudge(scored, load_model(judge_path))
        name = f"judge {judge_path}, " if judge_path else ""
        report(scored, None, [None], name)
        for path in args.counters or [None]:
            count(scored, None if path is None else load_model(path))
            report(scored, name + (path or "shipped"), settings)
    return 0


def score_families(args):
    """``score`` of the families ``args`` ask for: {family: [scored image]}."""
    from digitnet.data import mnist
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    model = for_inference(resolve_model(args.model))
    validation = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).validation
    chosen = {**families(args.numbers, args.seed, validation),
              **realworld_families(args.realworld, args.start)}
    if args.families:
        chosen = {k: v for k, v in chosen.items() if k in args.families.split(",")}
    scored = {}
    for family, items in chosen.items():
        scored[family] = score(items, model)
        print(f"scored {family}", flush=True)
    return scored


def rejudge(scored, model):
    """Judge every kept piece again with the judge ``model`` (its ``log_whole``)."""
    from digitnet.read import judge

    for images in scored.values():
        judged = np.concatenate([im.judged for im in images]).astype(np.float32)
        whole = judge.log_whole(judged[:, :784], judged[:, 784:], model)
        ends = np.cumsum([len(im.keys) for im in images])
        for im, end in zip(images, ends):
            im.log_whole = whole[end - len(im.keys):end]


def count(scored, model=None):
    """Add the pair reader's log P(count) and P(pair) to every scored image (``model``:
    default the shipped one)."""
    from digitnet.read import counter

    for images in scored.values():
        frames = np.concatenate([im.frames for im in images]).astype(np.float32)
        if model is not None and model.input_shape[0] == frames.shape[1] + 2:
            # the counter before the pair reader: the frame and the piece's shape, no pairs
            shapes = np.concatenate([im.shapes for im in images])
            log_count = np.log(model.predict_proba(np.hstack([frames, shapes])).astype(np.float64) + 1e-12)
            pair = np.full((len(frames), 100), np.nan)
        else:
            log_count, pair = counter.assess_frames(frames, model)
        ends = np.cumsum([len(im.keys) for im in images])
        for im, end in zip(images, ends):
            im.log_count, im.pair = log_count[end - len(im.keys):end], pair[end - len(im.keys):end]


def report(scored, name, settings, prefix=""):
    """Print the exact readings per family for each setting: None (no pair reader, the
    shipped DIGIT_BONUS and CUT_COST) or (COUNT_WEIGHT, PAIR_COST, PAIR_WIDTH, PAIR_WHOLE,
    DIGIT_BONUS, CUT_COST)."""
    from digitnet.read import decode

    for setting in settings:
        (decode.COUNT_WEIGHT, decode.PAIR_COST, decode.PAIR_WIDTH, decode.PAIR_WHOLE,
         decode.DIGIT_BONUS, decode.CUT_COST) = SHIPPED if setting is None else setting
        figures = []
        for family, images in scored.items():
            exact = dropped = 0
            for im in images:
                text = read_scored(im, setting is not None)
                exact += text == im.truth
                dropped += len(text) < len(im.truth)
            figures.append(f"{family} {100 * exact / len(images):5.1f}% ({dropped} dropped)")
        label = (f"{prefix}without the pair reader" if setting is None else
                 f"{name}: weight {setting[0]} cost {setting[1]} width {setting[2]} whole {setting[3]}"
                 f" bonus {setting[4]} cut {setting[5]}")
        print(f"{label}: " + ", ".join(figures), flush=True)
    (decode.COUNT_WEIGHT, decode.PAIR_COST, decode.PAIR_WIDTH, decode.PAIR_WHOLE,
     decode.DIGIT_BONUS, decode.CUT_COST) = SHIPPED


def read_scored(im, paired=True):
    """The text ``read`` gives a scored image with the settings of ``decode`` of now
    (``paired``: with the pair reader)."""
    from types import SimpleNamespace

    from digitnet.read import decode

    keys = [tuple(k) for k in im.keys.tolist()]
    if im.small is None:
        raise SystemExit("these scores were kept without each line's ink, which the sequence reader "
                         "reads: score the pictures again")
    lat = SimpleNamespace(kind=dict(zip(keys, im.kind.tolist())), n_nodes=im.n_nodes, height=im.height,
                          pieces={k: (0, w, None) for k, w in zip(keys, im.width.tolist())}, small=im.small)
    pair = im.pair if paired and not np.isnan(im.pair).any() else None
    s = decode.Scores(keys, im.probabilities, im.log_whole, True, im.log_count if paired else None, pair)
    return "".join(str(d) for _, d, _ in decode.decode(lat, s))


if __name__ == "__main__":
    raise SystemExit(main())
