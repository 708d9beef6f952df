"""Choose how `read` weighs its sequence reader, on numbers of validation digits.

    python -m benchmarks.tune_sequence [--numbers 300] [--realworld 200] [--seed 100] [--split S]
                                       [--lattice L.npz] [--sequences FILE.npz ...]
                                       [--weights 0,0.5,1] [--margins 2,4] [--runner-ups 0.05,1.1]
                                       [--spell-leads 6] [--one-leads inf,2]

The families of ``benchmarks.tune_counter`` (numbers composed of MNIST *validation*
digits: pen-touching, separated, touching-0.3, single; the validation split of
``benchmarks.realworld``'s number families: rw-apart, rw-touching, rw-num-photo). Each
picture is read once as ``read`` reads it (lattice, the cascade's scores, with the
decoding constants and models of the tree it runs in); ``--lattice`` keeps that (the
pieces' scores and the line of ink) and reads it back if it exists, so that only the
sequence readers run again. Then for each sequence reader (``--sequences``, default the
shipped one) every picture's column scores are computed once, and for each setting
(SEQ_WEIGHT, CANDIDATE_MARGIN, RUNNER_UP: ``read.sequence``, every combination of the
values listed; weight 0 is the lattice alone) the exact readings per family are printed,
with how many dropped a digit, and the sequence reader's own best path's exact readings.
Readers joined by '+' (``A.npz+B.npz``, a weight after '*': ``A.npz*2+B.npz``) are read
together (``sequence.Averaged``: the weighted mean of their columns' ln P). ``--pen N``
adds ``bench_pen``'s validation number families (a hand that is not MNIST's), and
``--pen-crowded`` its crowded writing too (every digit over its neighbours; a family of
that benchmark's test split only, here made with the validation split's seed).
"""

import argparse
import itertools
import os
from types import SimpleNamespace

import numpy as np

from benchmarks.tune_counter import families, realworld_families
from digitnet.read.segment import BRIDGED

#: What is kept of each picture's scores (``decode.Scores``), concatenated over a family.
ARRAYS = ("keys", "kind", "edges", "probabilities", "log_whole", "log_count", "pair")


def score(items, model):
    """Each (picture, truth) read as ``read`` reads it, up to the decoding: what
    ``decode.readings`` needs, and the line the sequence reader sees."""
    from digitnet.read import lattice
    from digitnet.read.decode import scores
    from digitnet.read.sequence import line

    out = []
    for image, truth in items:
        lat = lattice(image)
        s = scores(lat, model)
        out.append(SimpleNamespace(
            keys=np.asarray(s.keys, np.int64).reshape(-1, 2),
            kind=np.asarray([lat.kind[k] for k in s.keys], np.int64),
            edges=np.asarray([lat.pieces[k][:2] for k in s.keys], np.int64).reshape(-1, 2),
            probabilities=s.probabilities, log_whole=np.asarray(s.log_whole, np.float64),
            log_count=s.log_count if s.log_count is not None else np.full((len(s.keys), 4), np.nan),
            pair=s.pair if s.pair is not None else np.full((len(s.keys), 100), np.nan),
            judged=s.judged, n_nodes=lat.n_nodes, height=lat.height, truth=truth,
            line=line(lat.small)))
    return out


def save(path, scored):
    """Keep every family's scores in one .npz (arrays concatenated, with counts)."""
    arrays = {}
    for family, images in scored.items():
        for name in ARRAYS:
            arrays[f"{family}/{name}"] = np.concatenate([getattr(im, name) for im in images])
        arrays[f"{family}/line"] = np.concatenate([im.line for im in images], axis=1)
        arrays[f"{family}/widths"] = np.asarray([im.line.shape[1] for im in images])
        for name in ("n_nodes", "height", "judged", "truth"):
            arrays[f"{family}/{name}"] = np.asarray([getattr(im, name) for im in images])
        arrays[f"{family}/counts"] = np.asarray([len(im.keys) for im in images])
    np.savez(path, **arrays)


def load(path):
    """The scores ``save`` kept: {family: [picture]}."""
    scored = {}
    with np.load(path, allow_pickle=False) as saved:
        for family in sorted({k.split("/")[0] for k in saved.files}):
            get = {name.split("/")[1]: saved[name] for name in saved.files if name.startswith(family + "/")}
            ends, line_ends = np.cumsum(get["counts"]), np.cumsum(get["widths"])
            scored[family] = [SimpleNamespace(
                n_nodes=int(get["n_nodes"][i]), height=int(get["height"][i]),
                judged=bool(get["judged"][i]), truth=str(get["truth"][i]),
                line=get["line"][:, line_end - width:line_end],
                **{name: get[name][end - n:end] for name in ARRAYS})
                for i, (n, end, width, line_end) in enumerate(
                    zip(get["counts"], ends, get["widths"], line_ends))]
    return scored


def readings(im, others=False):
    """``decode.readings`` of a kept picture (with the decoding constants of now); with
    ``others``, and ``decode.both_readings``."""
    from digitnet.read import decode

    keys = [tuple(k) for k in im.keys.tolist()]
    lat = SimpleNamespace(kind=dict(zip(keys, im.kind.tolist())), height=im.height,
                          pieces={k: (a, b, None) for k, (a, b) in zip(keys, im.edges.tolist())})
    has_count = not np.isnan(im.log_count).all()
    s = decode.Scores(keys, im.probabilities, im.log_whole, im.judged,
                      im.log_count if has_count else None,
                      im.pair if has_count and not np.isnan(im.pair).all() else None)
    read, other = decode.both_readings(lat, s)
    return read, other if others else None


def prepare(scored, models, margin, runner_up, others=False):
    """Each picture's candidates (the widest ``margin``, the lowest ``runner_up``; with
    ``others``, wide pieces read either way) and, for each sequence reader, its best path's
    string, the chain aligned to it (``extra``, or None) and ln P of each candidate's string
    (the aligned chain's last)."""
    from digitnet.read import sequence

    for images in scored.values():
        for im in images:
            read, other = readings(im, others)
            im.options = sequence.candidates(im.n_nodes, read, margin, runner_up, other) if read else []
            im.logs, im.greedy, im.extra, im.spelled = [], [], [], []
            for model in models:
                scores = sequence.column_scores_batch(model, im.line[None, None].astype(np.float32))[0]
                seen = sequence.greedy(scores)
                extra = sequence.aligned(im.n_nodes, read, seen, margin, other) if read else None
                im.greedy.append(seen)
                im.extra.append(extra)
                texts = [sequence.text(o.digits) for o in im.options + ([extra] if extra else [])]
                im.logs.append(sequence.log_p(scores, texts))
                im.spelled.append(sequence.log_p(scores, [seen])[0] if seen else -np.inf)


def chosen(im, m, weight, margin, runner_up, align, align_cost=0.0, spell_lead=np.inf, one_lead=np.inf,
           drop_lead=np.inf, drop_several=0.0, drop_alone=np.inf, part_lead=np.inf, drop_two=np.inf,
           spell_more=np.inf, part_bridged=np.inf, parts=1):
    """The text read with sequence reader ``m`` and one setting."""
    from digitnet.read import sequence

    kept = [o.behind <= margin and (o.runner_up >= 1.0 or o.runner_up >= runner_up) for o in im.options]
    extra = im.extra[m]
    # as ``rescored``: the aligned chain joins the candidates when none of them reads its string
    if align and extra is not None and extra.behind <= margin and sequence.text(extra.digits) not in {
            sequence.text(o.digits) for o, keep in zip(im.options, kept) if keep}:
        kept.append(True)
    options = im.options + ([extra] if extra is not None else [])
    # as ``rescored``: the reader's best path, read alone when no candidate reads it and it leads
    texts = {sequence.text(o.digits): lp for o, lp, keep in zip(options, im.logs[m], kept) if keep}
    seen = im.greedy[m]
    if texts and seen and seen not in texts and im.spelled[m] - max(texts.values()) >= spell_lead:
        return seen
    best, text, chain, digits = -np.inf, "", [], []
    for n, (o, lp, keep) in enumerate(zip(options, im.logs[m], kept)):
        if not keep:
            continue
        total = o.score + (weight * lp if weight else 0.0) - (align_cost if n == len(im.options) else 0.0)
        if total > best:
            best, text, chain, digits = total, sequence.text(o.digits), o.keys, o.digits
    # as ``rescored``: a path of more digits than the string chosen, spelled at a lower
    # lead (``SPELL_MORE``)
    if (texts and seen and seen not in texts and len(seen) > len(text)
            and im.spelled[m] - max(texts.values()) >= spell_more):
        return seen
    # as ``rescored``: the reader's best path read where it adds a 1 to the string chosen
    if (text in texts and seen not in texts and sequence.one_more(seen, text)
            and im.spelled[m] - texts[text] >= one_lead):
        return seen
    # as ``rescored``: the reader's best path read where the string chosen drops one of its
    # digits (spelled only where the pair reader sees two digits or more in a piece of it)
    if (text in texts and sequence.more(seen, text, 1)
            and im.spelled[m] - texts[text] >= drop_lead
            and (seen in texts or _several(im, chain) >= drop_several
                 or im.spelled[m] - texts[text] >= drop_alone)):
        return seen
    # as ``rescored``: the reader's best path read where the string chosen drops two of its digits
    if text in texts and sequence.more(seen, text, 2) and im.spelled[m] - texts[text] >= drop_two:
        return seen
    # as ``rescored``: a digit read as a part of the reader's, where a chain reads the path
    # (not where the part's piece was freed of a pen's joining stroke)
    # (tried: ``part_bridged``, the lead asked where the part's piece is BRIDGED, and
    # ``parts``, how many digits may be read as parts)
    places = _parts(text, seen, parts) if seen in texts and text in texts else []
    if places and texts[seen] - texts[text] >= max(
            part_bridged if _kind(im, digits[at][0]) == BRIDGED else part_lead for at in places):
        return seen
    return text


def _parts(chosen: str, seen: str, most: int) -> list:
    """Where ``chosen`` is ``seen`` with up to ``most`` digits read as parts of them
    (``sequence.PARTS``): their places; else []."""
    from digitnet.read import sequence

    wrong = [i for i, (a, b) in enumerate(zip(chosen, seen)) if a != b]
    if len(chosen) == len(seen) and 1 <= len(wrong) <= most and all(
            (chosen[i], seen[i]) in sequence.PARTS for i in wrong):
        return wrong
    return []


def _kind(im, key) -> int:
    """How the piece ``key`` of a kept picture was made (``Lattice.kind``)."""
    return int(im.kind[_index(im)[tuple(key)]])


def _index(im) -> dict:
    """The row of each piece of a kept picture: {key: n}, made once."""
    if not hasattr(im, "index"):
        im.index = {tuple(k): n for n, k in enumerate(im.keys.tolist())}
    return im.index


def _several(im, keys) -> float:
    """The pair reader's highest P(two digits or more) among the pieces ``keys`` of a kept
    picture (1 without a pair reader)."""
    from digitnet.read import counter

    if np.isnan(im.log_count).all():
        return 1.0
    index = _index(im)
    rows = im.log_count[[index[tuple(k)] for k in keys]]
    return float(counter.several(rows).max())


def report(scored, names, settings, label=""):
    for m, name in enumerate(names):
        name += label
        alone = ", ".join(f"{family} {100 * np.mean([im.greedy[m] == im.truth for im in images]):5.1f}%"
                          for family, images in scored.items())
        print(f"{name}, best path alone: {alone}", flush=True)
        for setting in settings:
            (weight, margin, runner_up, align, align_cost, spell_lead, one_lead, drop_lead, several,
             drop_alone, part_lead, drop_two, spell_more, part_bridged, parts) = setting
            figures = []
            for family, images in scored.items():
                texts = [chosen(im, m, weight, margin, runner_up, align, align_cost, spell_lead, one_lead,
                                drop_lead, several, drop_alone, part_lead, drop_two, spell_more,
                                part_bridged, int(parts))
                         for im in images]
                exact = sum(t == im.truth for t, im in zip(texts, images))
                dropped = sum(len(t) < len(im.truth) for t, im in zip(texts, images))
                figures.append(f"{family} {100 * exact / len(images):5.1f}% ({dropped})")
            print(f"{name}: weight {weight} margin {margin} runner-up {runner_up} aligned {align:g} "
                  f"cost {align_cost:g} spell {spell_lead:g} one {one_lead:g} drop {drop_lead:g} "
                  f"several {several:g} alone {drop_alone:g} part {part_lead:g} two {drop_two:g} "
                  f"more {spell_more:g} bridged {part_bridged:g} parts {parts:g}: "
                  + ", ".join(figures),
                  flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=300, help="numbers per composed family")
    parser.add_argument("--realworld", type=int, default=200,
                        help="numbers per family of benchmarks.realworld's validation split")
    parser.add_argument("--realworld-from", type=int, default=0,
                        help="the first realworld picture taken (for a second, disjoint set)")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--pen", type=int, default=0,
                        help="numbers per number family of bench_pen's validation split (default none)")
    parser.add_argument("--pen-from", type=int, default=0, help="the first bench_pen picture taken")
    parser.add_argument("--pen-crowded", action="store_true",
                        help="with --pen, its crowded numbers too (bench_pen's test-only family, "
                        "made with the validation split's seed)")
    parser.add_argument("--split", choices=("validation", "test"), default="validation",
                        help="test: bench_touching's families (its seed), to measure once")
    parser.add_argument("--model")
    parser.add_argument("--families", help="comma-separated families (default: all)")
    parser.add_argument("--lattice", help=".npz of the pictures' scores: read if it exists, else kept")
    parser.add_argument("--sequences", nargs="*", default=[],
                        help="sequence reader model files to compare, A.npz*2+B.npz read together "
                             "(default: the shipped one)")
    parser.add_argument("--weights", default="0,0.25,0.5,1,2")
    parser.add_argument("--margins", default="2,4")
    parser.add_argument("--runner-ups", default="0.05,1.1", help="RUNNER_UPs tried (above 1: none)")
    parser.add_argument("--aligned", default="0,1",
                        help="with the chain aligned to the reader's best path (1) or not (0)")
    parser.add_argument("--align-costs", default="0", help="ALIGN_COSTs tried")
    parser.add_argument("--spell-leads", default="inf", help="SPELL_LEADs tried (inf: never spelled)")
    parser.add_argument("--one-leads", default="inf",
                        help="ONE_LEADs tried (inf: a 1 no chain reads never read)")
    parser.add_argument("--drop-leads", default="inf",
                        help="DROP_LEADs tried (inf: a digit the chosen string drops never read)")
    parser.add_argument("--drop-severals", default="0", help="DROP_SEVERALs tried")
    parser.add_argument("--drop-alones", default="inf",
                        help="DROP_ALONEs tried (inf: the pair reader's word always needed)")
    parser.add_argument("--part-leads", default="inf",
                        help="PART_LEADs tried (inf: a digit read as a part of the reader's kept)")
    parser.add_argument("--drop-twos", default="inf",
                        help="DROP_TWOs tried (inf: two digits the chosen string drops never read)")
    parser.add_argument("--spell-mores", default="inf",
                        help="SPELL_MOREs tried (inf: a longer path spelled only at SPELL_LEAD)")
    parser.add_argument("--part-bridgeds", default="inf",
                        help="PART_LEADs tried where the part's piece is BRIDGED (inf: kept)")
    parser.add_argument("--parts", default="1", help="how many digits read as parts may be read whole")
    parser.add_argument("--others", default="1",
                        help="wide pieces read either way (1: decode.both_readings) or the best only (0)")
    args = parser.parse_args(argv)
    grid = [[float(v) for v in values.split(",")]
            for values in (args.weights, args.margins, args.runner_ups, args.aligned, args.align_costs,
                           args.spell_leads, args.one_leads, args.drop_leads, args.drop_severals,
                           args.drop_alones, args.part_leads, args.drop_twos, args.spell_mores,
                           args.part_bridgeds, args.parts)]

    from digitnet.read import sequence

    if args.lattice and os.path.exists(args.lattice):
        scored = load(args.lattice)
    else:
        scored = score_families(args)
        if args.lattice:
            save(args.lattice, scored)
    if args.families:
        scored = {k: v for k, v in scored.items() if k in args.families.split(",")}
    names = args.sequences or ["shipped"]
    models = [_loaded(p) for p in args.sequences] or [sequence.sequence_model()]
    if any(m is None for m in models):
        parser.error("no sequence reader: give --sequences")
    for others in (int(v) for v in args.others.split(",")):
        prepare(scored, models, max(grid[1]), min(grid[2]), bool(others))
        report(scored, names, list(itertools.product(*grid)), f" (others {others})")
    return 0


def _loaded(path):
    """A model file, or several joined by '+' read together (``sequence.Averaged``), each
    with a weight after '*' if it has one (``F.npz*2+H.npz``)."""
    from benchmarks.join_sequence import weighted
    from digitnet.io import load_model
    from digitnet.read import sequence

    named = [weighted(part) for part in path.split("+")]
    readers = [sequence.readers(load_model(name)) for name, _ in named]
    if len(readers) == 1:
        return readers[0]
    return sequence.Averaged(readers, [weight for _, weight in named])


def score_families(args):
    """``score`` of every family: {family: [picture]}. With ``--split test``, the families
    of ``benchmarks.bench_touching`` instead (test digits; the frozen test split of the
    realworld number families, ``num-hard`` too): for the one measurement on test."""
    from benchmarks import bench_photos, realworld
    from digitnet.data import mnist
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import resolve_model

    model = for_inference(resolve_model(args.model))
    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    if args.split == "test":
        digits = realworld.digits_of("test")
        chosen_ = {**families(args.numbers, 200, data.test),  # the seed of bench_touching
                   **{f"rw-{family}": realworld.pictures("test", family, bench_photos.NUMBERS, digits)
                      for family in realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY}}
    else:
        chosen_ = {**families(args.numbers, args.seed, data.validation),
                   **realworld_families(args.realworld, args.realworld_from)}
        if args.pen:  # a hand that is not MNIST's (bench_pen's validation split)
            from benchmarks import bench_pen

            pens = range(args.pen_from, args.pen_from + args.pen)
            pen_families = [f for f in bench_pen.FAMILIES["validation"] if f.endswith("-number")]
            pen_families += ["crowded-number"] if args.pen_crowded else []
            chosen_.update({f"stroke-{family.removesuffix('-number')}": [
                bench_pen.make(family, "validation", i) for i in pens] for family in pen_families})
    scored = {}
    for family, items in chosen_.items():
        if not args.families or family in args.families.split(","):
            scored[family] = score(items, model)
            print(f"scored {family}", flush=True)
    return scored


if __name__ == "__main__":
    raise SystemExit(main())
