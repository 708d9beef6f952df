"""The sequence reader: the whole line of writing read at once, without cutting it.

A small CNN looks at the line (``line``: the lattice's ink, ``HEIGHT`` rows high, any
width) and gives, for every fourth column, scores over the ten digits and a blank; it
learned with the CTC cost (``nn.ctc``) from numbers composed of training digits, many of
them touching (``benchmarks/fit_sequence.py``). It needs no cuts, so it sees a 1 leaning
into its neighbour as well as one written apart.

``read`` uses it to choose between the lattice's best chains (``rescored``): the best
chain for each number of digits (and each with an unsure digit read as its runner-up)
within ``CANDIDATE_MARGIN`` of the best, a wide piece read either as one digit or as the
two the pair reader sees in it (``decode.both_readings``), and the chain that reads the
reader's own best path (``aligned``, less ``ALIGN_COST``), scored as the lattice's score +
``SEQ_WEIGHT`` x ln P(the chain's digits | the line), the sequence reader's probability
of the string. When no chain reads the reader's best path and the reader is far surer of
it than of any of them (``SPELL_LEAD``), that path is read as it is, each digit boxed by
the columns where the reader saw it (``spelled``); so is it where it reads the chosen
string with one more 1 and leads it by ``ONE_LEAD``: a 1 merged into its neighbour has no
piece of its own, and no chain can read it. Where the reader's path is the chosen string
with one more digit of any kind and leads it by ``DROP_LEAD``, the path is read (the chain
aligned to it, or spelled where the pair reader sees two digits in the chain chosen or the
reader leads by ``DROP_ALONE``): two digits written over each other, which the lattice
reads as one; with two more digits, where it leads by ``DROP_TWO`` (writing crowded over
itself). A path of more digits than the string chosen that no chain reads is spelled
where the reader leads every candidate by ``SPELL_MORE``, less than ``SPELL_LEAD``. Where
it is the chosen string with a digit read whole that the chain reads as a part of it (an
8 as a 3: ``PARTS``) and leads by ``PART_LEAD``, the chain reading it whole is read (not
where the part was freed of a pen's joining stroke).

The shipped file holds three readers trained apart, read together (``Averaged``: their
columns' ln P averaged, one of them with two votes), as a cascade: the first alone where
the lattice offers one chain and that reader reads it (``_line_scores``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..nn.ctc import best_path, log_probability
from .evidence import LIMIT
from .segment import BRIDGED, LINE_HEIGHT, Lattice, Piece

#: The line's height as the reader sees it, the blank columns added at each end, and
#: how many input columns one output column stands for.
HEIGHT = 32
MARGIN = 8
STRIDE = 4
#: The classes: the ten digits, then the blank.
BLANK = 10
DIGITS = "0123456789"
#: How much the sequence reader's ln P(string) weighs against the lattice's score, and
#: which chains it chooses from: the best of each number of digits whose lattice score
#: is within CANDIDATE_MARGIN of the best (at most the cascade's MARGIN, so that the
#: cascade classifies every piece of each with the whole ensemble), each also with one
#: digit read as its runner-up where that has at least RUNNER_UP of the probability, and
#: the chain aligned to the reader's best path (``aligned``). Chosen on numbers of
#: validation digits (``benchmarks/tune_sequence.py``; BENCHMARKS.md, "The sequence
#: reader") as reading the most touching numbers of the settings that read numbers written
#: apart and single digits no worse than the lattice alone, on two sets of them. The
#: aligned chain pays ALIGN_COST, which keeps it from overruling a separated number the
#: lattice reads well (chosen likewise on two larger sets; BENCHMARKS.md, "The sequence
#: reader, second pass"). SEQ_WEIGHT rose from 0.5 to 1 with the reader trained on
#: lines drawn as a pen draws (BENCHMARKS.md, "The sequence reader, third pass"), chosen
#: by the same rule; ALIGN_COST from 1 to 1.5 with the readers trained on crowded lines
#: (BENCHMARKS.md, "Digits crowded over each other"), of 1, 1.5 and 2.
SEQ_WEIGHT = 1.0
CANDIDATE_MARGIN = 4.0
RUNNER_UP = 0.2
ALIGN_COST = 1.5
#: When no chain of the lattice reads the reader's own best path and its ln P leads every
#: candidate's by at least SPELL_LEAD, the best path is read as it is (``spelled``).
#: Chosen with ALIGN_COST (8 of 6, 8 and never), then 6 of 4, 6 and 8 for the third
#: pass's reader.
SPELL_LEAD = 6.0
#: But not a path of fewer digits than the writing has separate pieces: groups of ink at
#: least SEPARATE_HIGH of the writing's height, apart from their neighbours by at least
#: SEPARATE_GAP of it, each hold a digit (a 4 written apart, its shape unlike the reader's
#: 4s, was dropped from "439" spelled "39" at a lead of 6.1; BENCHMARKS.md, "The number
#: errors sorted").
SEPARATE_GAP = 0.25
SEPARATE_HIGH = 0.5
#: A 1 touching its neighbour often has no piece of its own in the lattice, and no chain
#: reads it. When the reader's best path is the string chosen with one more 1 and its
#: ln P leads the chosen string's by at least ONE_LEAD, the path is read (``spelled``).
#: Chosen on validation (BENCHMARKS.md, "The sequence reader, fourth pass") of 1, 2, 3
#: and never.
ONE_LEAD = 2.0
#: Any digit: when the reader's best path is the string chosen with one more digit and its
#: ln P leads the chosen string's by at least DROP_LEAD, the path is read: the chain aligned
#: to it where there is one, else the path ``spelled``, if the pair reader sees two digits
#: or more (P at least DROP_SEVERAL) in a piece of the chain chosen. Two digits written
#: over each other are one piece in the lattice, read as one digit; a 0 drawn with a stem,
#: which the reader may read "20", is one digit to the pair reader. Chosen on validation
#: (BENCHMARKS.md, "Digits a chain drops"), as reading the most touching numbers
#: (composed, realworld's and ``bench_pen``'s) of the settings that read numbers written
#: apart and single digits no worse than the rule's absence; lowered from 1.5 to 1 with
#: DROP_TWO, chosen with it on two validation draws that hold crowded writing
#: (BENCHMARKS.md, "Writing crowded over itself").
DROP_LEAD = 1.0
DROP_SEVERAL = 0.5
#: Where the reader leads by DROP_ALONE or more, its path is spelled without the pair
#: reader's word: digits crowded over each other, which the pair reader, trained on pairs
#: that touch, takes for one. Chosen on validation as DROP_LEAD was (BENCHMARKS.md,
#: "Digits crowded over each other") of 2, 2.5, 3, 3.5, 4, 5 and never.
DROP_ALONE = 3.0
#: Where the reader's best path is the string chosen with two more digits and leads it by
#: DROP_TWO, the path is read (the chain reading it, or spelled): writing in which every
#: digit is crowded over its neighbours, read as fewer pieces than it has digits. Chosen
#: on two validation draws (``tune_sequence --pen-crowded``; BENCHMARKS.md, "Writing
#: crowded over itself") of 1.5, 2, 3, 4 and never: 1.5-3 read the same.
DROP_TWO = 2.0
#: Where no chain reads the reader's best path, the path has more digits than the string
#: chosen, and the reader leads every candidate by SPELL_MORE (less than SPELL_LEAD), the
#: path is spelled: digits crowded over each other that no chain reads, the reader sure of
#: them. Chosen on four validation draws (``tune_sequence --spell-mores``; BENCHMARKS.md,
#: "Writing crowded over itself") of 2, 2.5, 3 and SPELL_LEAD: at 2 numbers written apart
#: were lost.
SPELL_MORE = 2.5
#: Where a digit is written over its left neighbour, the cut gives the neighbour the
#: digit's left side, and what is left reads as another digit: a 4's stem as a 1, an 8's
#: right half as a 3, a 9's as a 7. Where the reader's path is the string chosen with one
#: such part read whole (``PARTS``: (part, whole)), a chain reads the path, and the reader
#: leads by PART_LEAD, that chain is read; but not where the part's piece was freed of a
#: pen's joining stroke (``segment.BRIDGED``): there what the reader saw whole was the
#: stroke, a 1 met by it being a 4 to the reader (tests/test_read.py, the drawn "01").
#: Chosen on validation as DROP_ALONE was (BENCHMARKS.md, "Digits crowded over each
#: other") of 1, 1.5, 2, 2.5, 3 and never.
PARTS = frozenset({("1", "4"), ("3", "8"), ("7", "9")})
PART_LEAD = 1.5

_MODEL: list = []


def line(small: np.ndarray) -> np.ndarray:
    """The ink ``small`` (``LINE_HEIGHT`` rows, ``segment.scaled_ink``) as the reader
    sees it: (HEIGHT, width) in [0, 1], MARGIN blank columns added at each end."""
    from PIL import Image

    factor = HEIGHT / LINE_HEIGHT
    width = max(1, round(small.shape[1] * factor))
    scaled = np.asarray(Image.fromarray(np.asarray(small, np.float32), "F")
                        .resize((width, HEIGHT), Image.Resampling.BOX), np.float32)
    return np.pad(np.clip(scaled, 0, 1), ((0, 0), (MARGIN, MARGIN)))


def sequence_reader(rng=None, channels=(24, 48, 64), hidden=192):
    """A new sequence reader: 3x3 convolutions of ``channels[0]`` and ``channels[1]``
    channels each followed by a 2x2 pool, two of ``channels[2]``, then every column's
    features (``nn.conv.Columns``) through ``hidden`` neurons to 11 scores (the ten
    digits and the blank). Its input: (n, 1, HEIGHT, width), any width from STRIDE on;
    ``predict_proba`` gives the scores (n * width // STRIDE rows), ``column_scores``
    one line's."""
    from ..nn import layers as L
    from ..nn import losses
    from ..nn.conv import Columns, Conv2D, MaxPool2D
    from ..nn.network import Network

    rng = np.random.default_rng(0) if rng is None else rng
    a, b, c = channels
    layers = [Conv2D(1, a, 3, 1, 1, "he", rng), L.ReLU(), MaxPool2D(2),
              Conv2D(a, b, 3, 1, 1, "he", rng), L.ReLU(), MaxPool2D(2),
              Conv2D(b, c, 3, 1, 1, "he", rng), L.ReLU(),
              Conv2D(c, c, 3, 1, 1, "he", rng), L.ReLU(), Columns(),
              L.Linear(c * HEIGHT // STRIDE, hidden, "he", rng), L.ReLU(),
              L.Linear(hidden, BLANK + 1, "he", rng)]
    # its input shape names the narrowest line, which gives one column of scores
    return Network(layers, losses.QuadraticCost("identity"), (1, HEIGHT, STRIDE))


class Averaged:
    """Sequence readers read together, as a product of experts: the weighted mean of their
    columns' ln P, normalised again (a log-softmax). The result is ln P over the eleven
    classes, which ``log_p``, ``greedy`` and ``spelled`` take as they take one reader's
    scores. The weights (default equal) say how many votes each reader has."""

    def __init__(self, members, weights=None):
        self.members = list(members)
        weights = np.ones(len(self.members)) if weights is None else np.asarray(weights, np.float64)
        if weights.shape != (len(self.members),) or not np.all(weights > 0):
            raise ValueError(f"one positive weight for each of the {len(self.members)} readers, "
                             f"not {weights.tolist()}")
        self.weights = weights / weights.sum()

    def predict_proba(self, x, batch_size=None, first=None):
        """The readers' ln P for ``x``; ``first``: the first reader's, if already computed
        (``first_scores``)."""
        from ..nn.functional import log_softmax

        if first is None:
            first = self.first_scores(x, batch_size)
        total = self.weights[0] * first
        for weight, member in zip(self.weights[1:], self.members[1:]):
            total = total + weight * _ln_p(member, x, batch_size)
        return log_softmax(total)

    def first_scores(self, x, batch_size=None):
        """The first reader's ln P for ``x``, as ``predict_proba`` takes it back."""
        return _ln_p(self.members[0], x, batch_size)


def _ln_p(reader, x, batch_size):
    """One reader's column scores for ``x`` as ln P (a log-softmax over the 11 classes)."""
    from ..nn.functional import log_softmax

    return log_softmax(np.asarray(reader.predict_proba(x, batch_size=batch_size), np.float64))


def readers(model):
    """``model`` as ``column_scores`` reads it: one reader as it is, the members of an
    ensemble file read together (``Averaged``, with the ``weights`` its metadata gives)."""
    from ..errors import ModelFileError
    from ..nn.network import for_inference

    members = getattr(model, "members", None)
    if not members:
        return for_inference(model)
    weights = (getattr(model, "metadata", None) or {}).get("weights")
    try:
        return Averaged((for_inference(m) for m in members), weights)
    except (TypeError, ValueError) as error:  # the file's metadata, not the caller's mistake
        raise ModelFileError(f"the sequence readers' weights: {error}") from None


def sequence_model():
    """The shipped sequence reader (models/sequence.npz: one reader, or several saved as
    an ensemble and read together), or None."""
    if not _MODEL:
        from importlib import resources

        from ..io import load_model

        path = resources.files("digitnet") / "models" / "sequence.npz"
        _MODEL.append(readers(load_model(str(path))) if path.is_file() else None)
    return _MODEL[0]


def column_scores(small: np.ndarray, model=None) -> np.ndarray:
    """The reader's scores (T, 11) of the line of ink ``small``: one row for each
    STRIDE columns of ``line(small)``."""
    return column_scores_batch(model or sequence_model(), line(small)[None, None])[0]


def column_scores_batch(model, x: np.ndarray) -> np.ndarray:
    """The scores (n, T, 11) of the reader ``model`` for lines ``x`` (n, 1, HEIGHT, W)."""
    z = np.asarray(model.predict_proba(x, batch_size=len(x)), np.float64)
    return z.reshape(len(x), -1, BLANK + 1)


def greedy(scores: np.ndarray) -> str:
    """The digits of the best path through ``scores`` (T, 11)."""
    return "".join(map(str, best_path(scores[None], blank=BLANK)[0]))


def log_p(scores: np.ndarray, strings) -> np.ndarray:
    """ln P(string | the line) of each digit string, from the reader's ``scores``."""
    return log_probability(scores, [[int(c) for c in s] for s in strings], blank=BLANK)


class Candidate(NamedTuple):
    """A chain ``rescored`` may choose: its lattice score, its keys, its digits as
    ``decode`` gives them ([(key, digit, probabilities)]), how far its chain's best reading
    scores below the best chain's, and the runner-up's probability where one digit is
    read as its runner-up (else 1)."""
    score: float
    keys: list
    digits: list
    behind: float
    runner_up: float


def candidates(n_nodes: int, read: dict, margin: float = CANDIDATE_MARGIN,
               runner_up: float = RUNNER_UP, others: dict | None = None) -> list:
    """The chains ``rescored`` chooses from, as ``Candidate``s: the best chain of each
    number of digits (dynamic programming over (node, digits so far)) within ``margin``
    of the best, and each of those with one digit read as its runner-up where that has
    at least ``runner_up`` of the probability. A piece may be read as ``read`` reads it
    or, if ``others`` has it, as that reads it (``decode.both_readings``)."""
    edges = _edges(read, others)
    most = sum(len(ds) for _, _, ds in edges)
    table, back = _chains(n_nodes, edges, most, lambda edge, at: edge[1])
    best = table[-1].max()
    out = []
    for count in np.flatnonzero(table[-1] >= best - margin):
        chain = _traced(back, n_nodes, int(count))
        digits = [(k, d, p) for k, _, ds in chain for d, p in ds]
        score = float(table[-1, count])
        out += with_runner_ups(Candidate(score, [k for k, _, _ in chain], digits, best - score, 1.0),
                               runner_up)
    return out


def with_runner_ups(chain: Candidate, runner_up: float = RUNNER_UP) -> list:
    """``chain``, and the chain once for each of its digits whose runner-up has at least
    ``runner_up`` of the probability, that digit read as its runner-up."""
    out = [chain]
    for n, (k, d, p) in enumerate(chain.digits):
        second = int(np.argsort(p)[-2])
        if p[second] >= runner_up:
            other = chain.digits[:n] + [(k, second, p)] + chain.digits[n + 1:]
            out.append(chain._replace(score=chain.score + float(np.log(p[second]) - np.log(p[d])),
                                      digits=other, runner_up=float(p[second])))
    return out


def aligned(n_nodes: int, read: dict, target: str, margin: float = CANDIDATE_MARGIN,
            others: dict | None = None):
    """The chain of the lattice that reads ``target`` with the best score, each piece's
    digit taken as the target's at its place (scoring ln P(that digit) instead of
    ln P(its best)), as a ``Candidate``; None if no chain has the target's number of
    digits, or if its pieces read as they would be score more than ``margin`` below the
    best chain. Pieces are read as in ``candidates``."""
    def gain(edge, at):
        _, score, read_as = edge
        want = [int(c) for c in target[at:at + len(read_as)]]
        return score + sum(np.log(max(p[w], 1e-12)) - np.log(max(p[d], 1e-12))
                           for w, (d, p) in zip(want, read_as))

    edges = _edges(read, others)
    table, back = _chains(n_nodes, edges, len(target), gain)
    if not np.isfinite(table[-1, -1]):
        return None
    chain = _traced(back, n_nodes, len(target))
    best = _chains(n_nodes, edges, 0, lambda edge, at: edge[1], counted=False)[0][-1, 0]
    behind = best - sum(score for _, score, _ in chain)
    if behind > margin:
        return None
    digits = [(k, p) for k, _, ds in chain for _, p in ds]
    return Candidate(float(table[-1, -1]), [k for k, _, _ in chain],
                     [(k, int(c), p) for (k, p), c in zip(digits, target)], float(behind), 1.0)


def of_length(lat: Lattice, read: dict, count: int, others: dict | None = None):
    """The reading of exactly ``count`` digits, for a number whose length is known (a
    postcode's, an account's): the lattice's best chain of that many digits, each of its
    unsure digits read as its runner-up, and the chain that reads the sequence reader's
    own path where that has ``count`` digits, chosen as ``rescored`` chooses (lattice
    score + ``SEQ_WEIGHT`` x the reader's ln P). Returns (its [(key, digit,
    probabilities)], its keys, its lattice score), or None when no chain has that many digits.
    Pieces are read as in ``candidates``."""
    edges = _edges(read, others)
    most = sum(len(ds) for _, _, ds in edges)
    if not 0 < count <= most:
        return None
    table, back = _chains(lat.n_nodes, edges, most, lambda edge, at: edge[1])
    if not np.isfinite(table[-1, count]):
        return None
    chain = _traced(back, lat.n_nodes, count)
    keys = [k for k, _, _ in chain]
    digits = [(k, d, p) for k, _, ds in chain for d, p in ds]
    options = with_runner_ups(Candidate(float(table[-1, count]), keys, digits, 0.0, 1.0))
    scores = _line_scores(lat.small, options) if sequence_model() is not None else None
    if scores is None:  # no sequence reader; or one option, which the first reader reads
        return digits, keys, options[0].score
    seen = greedy(scores)
    texts = [text(o.digits) for o in options]
    if len(seen) == count and seen not in texts:
        extra = aligned(lat.n_nodes, read, seen, margin=np.inf, others=others)
        if extra is not None:
            options.append(extra._replace(score=extra.score - ALIGN_COST))
            texts.append(seen)
    logs = log_p(scores, texts)
    best = int(np.argmax([o.score + SEQ_WEIGHT * lp for o, lp in zip(options, logs)]))
    return options[best].digits, options[best].keys, options[best].score


def _edges(read, others=None):
    """Every way of reading every piece: [(key, score, digits)], ordered by key."""
    edges = [(k, g, ds) for k, (g, ds) in read.items()]
    edges += [(k, g, ds) for k, (g, ds) in (others or {}).items()]
    return sorted(edges, key=lambda edge: edge[0])


def _chains(n_nodes, edges, size, gain, counted=True):
    """Dynamic programming over (node, digits so far, at most ``size``): the best score
    of a chain from node 0 to each (n_nodes, size + 1), an edge (``_edges``) scoring
    ``gain(edge, digits before it)``, and the edge into each (node, digits) of its best
    chain. With ``counted`` False, one column: the best chain whatever its number of
    digits."""
    table = np.full((n_nodes, size + 1), -np.inf)
    back: dict = {}
    table[0, 0] = 0.0
    for edge in edges:
        (i, j), _, read_as = edge
        n = len(read_as) if counted else 0
        for at in np.flatnonzero(np.isfinite(table[i, :size + 1 - n])):
            score = table[i, at] + gain(edge, at)
            if score > table[j, at + n]:
                table[j, at + n] = score
                back[(j, at + n)] = edge
    return table, back


def _traced(back, n_nodes, count):
    """The edges of the best chain to the last node with ``count`` digits (``_chains``)."""
    chain, node = [], n_nodes - 1
    while node:
        edge = back[(node, count)]
        chain.append(edge)
        node, count = edge[0][0], count - len(edge[2])
    return chain[::-1]


def one_more(seen: str, chosen: str, digits: str = "1") -> bool:
    """Whether ``seen`` is ``chosen`` with one more digit (of ``digits``) somewhere in it."""
    return len(seen) == len(chosen) + 1 and any(
        seen[i] in digits and seen[:i] + seen[i + 1:] == chosen for i in range(len(seen)))


def more(seen: str, chosen: str, count: int) -> bool:
    """Whether ``seen`` is ``chosen`` with ``count`` more digits, anywhere in it."""
    if len(seen) != len(chosen) + count:
        return False
    rest = iter(seen)
    return all(c in rest for c in chosen)


def part_read(chosen: str, seen: str) -> int | None:
    """Where ``chosen`` is ``seen`` with one digit read as a part of it (``PARTS``): that
    digit's place; else None."""
    wrong = [i for i, (a, b) in enumerate(zip(chosen, seen)) if a != b]
    if len(chosen) == len(seen) and len(wrong) == 1 and (chosen[wrong[0]], seen[wrong[0]]) in PARTS:
        return wrong[0]
    return None


def text(digits) -> str:
    return "".join(str(d) for _, d, _ in digits)


def spelled(small: np.ndarray, scores: np.ndarray) -> list:
    """The reader's best path through ``scores`` (T, 11) as a reading of its own:
    [(Piece of ``small``, digit, probabilities)], each digit's columns reaching halfway to
    its neighbours' peaks (trimmed to ink), its probabilities the reader's at its peak
    (the blank left out)."""
    path = scores.argmax(axis=1)
    peaks: list = []  # (digit, step of its most likely column)
    for t, c in enumerate(path):
        if c == BLANK:
            continue
        if t and path[t - 1] == c:
            if scores[t, c] > scores[peaks[-1][1], c]:
                peaks[-1] = (int(c), t)
        else:
            peaks.append((int(c), t))
    factor = HEIGHT / LINE_HEIGHT
    centres = [((t + 0.5) * STRIDE - MARGIN) / factor for _, t in peaks]
    edges = [0] + [round((a + b) / 2) for a, b in zip(centres, centres[1:])] + [small.shape[1]]
    ink = small > 0.25
    out = []
    for (digit, t), left, right in zip(peaks, edges, edges[1:]):
        columns = np.flatnonzero(ink[:, left:right].any(axis=0))
        if len(columns):
            left, right = left + int(columns[0]), left + int(columns[-1]) + 1
        right = max(right, left + 1)
        z = scores[t, :BLANK] - scores[t, :BLANK].max()
        p = np.exp(z) / np.exp(z).sum()
        out.append((Piece(left, right, ink[:, left:right]), digit, p))
    return out


def _line_scores(small: np.ndarray, options: list):
    """The shipped readers' scores (T, 11) of the line of ink ``small``, or None where they
    need not be read together: several readers are a cascade, the first alone where the
    lattice offers one candidate (``options``) and that reader's best path reads it. There,
    read together, they choose the same (that candidate: nothing to weigh it against);
    only where their own best path differs from the first's do they see a rival in the
    chain aligned to it, and their lead (``sequence_lead``, which calibration weighs) is
    then lower than the cascade's ``LIMIT``. On 2,100 validation pictures: the same 2,100
    strings, 6 leads lower; 77-78% of the 9,600 pictures of two validation sets take this
    path (BENCHMARKS.md, "Three sequence readers read together, shipped")."""
    model = sequence_model()
    x = line(small)[None, None]
    if not isinstance(model, Averaged):
        return column_scores_batch(model, x)[0]
    first = model.first_scores(x, batch_size=1)
    if len(options) == 1 and greedy(first.reshape(-1, BLANK + 1)) == text(options[0].digits):
        return None
    return np.asarray(model.predict_proba(x, batch_size=1, first=first)).reshape(-1, BLANK + 1)


def separate_pieces(lat: Lattice) -> int:
    """How many pieces of the writing stand apart (SEPARATE_GAP), each high enough to be a
    digit (SEPARATE_HIGH): the fewest digits a reading of it can have."""
    runs: list[list[int]] = []  # [left, right, top, bottom] of groups close together
    for g in lat.groups:
        rows = np.flatnonzero(g.mask.any(axis=1))
        top, bottom = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)
        if runs and g.left - runs[-1][1] < SEPARATE_GAP * lat.height:
            run = runs[-1]
            run[1], run[2], run[3] = max(run[1], g.right), min(run[2], top), max(run[3], bottom)
        else:
            runs.append([g.left, g.right, top, bottom])
    return sum(bottom - top >= SEPARATE_HIGH * lat.height for _, _, top, bottom in runs)


def rescored(lat: Lattice, read: dict, keys: list, weight: float | None = None,
             others: dict | None = None, several: dict | None = None):
    """The chain read, chosen by the sequence reader among the lattice's best
    (``candidates``) and the chain that reads what the reader reads (``aligned``): (its
    [(key, digit, probabilities)], its keys, the reader's ln P of its string less the best
    ln P of another candidate's or of its own best path where no chain reads that, at most
    ``evidence.LIMIT``; None without the shipped sequence reader, the lattice's best chain
    ``keys`` then read as it is). ``several``: the pair reader's P(two digits or more) of
    each piece, where there is a pair reader."""
    digits = [(k, d, p) for k in keys for d, p in read[k][1]]
    if sequence_model() is None or not keys:
        return digits, keys, None
    options = candidates(lat.n_nodes, read, others=others)
    scores = _line_scores(lat.small, options)
    if scores is None:  # the only candidate, read by the first reader: the others not asked
        return digits, keys, LIMIT
    seen = greedy(scores)
    if seen not in {text(o.digits) for o in options}:
        extra = aligned(lat.n_nodes, read, seen, others=others)
        # the aligned chain pays ALIGN_COST: it reads digits the classifier ranks lower
        options += [extra._replace(score=extra.score - ALIGN_COST)] if extra is not None else []
    texts = [text(o.digits) for o in options]
    logs = log_p(scores, texts)
    # no chain reads what the reader reads: how sure is it of that?
    unread = float(log_p(scores, [seen])[0]) if seen and seen not in texts else None
    if (unread is not None and unread - logs.max() >= SPELL_LEAD
            and len(seen) >= separate_pieces(lat)):
        return spelled(lat.small, scores), keys, min(unread - logs.max(), LIMIT)
    weight = SEQ_WEIGHT if weight is None else weight
    best = int(np.argmax([o.score + weight * lp for o, lp in zip(options, logs)]))
    if (unread is not None and len(seen) > len(texts[best]) and unread - logs.max() >= SPELL_MORE
            and len(seen) >= separate_pieces(lat)):  # digits no chain reads, the reader sure of them
        return spelled(lat.small, scores), keys, min(unread - logs.max(), LIMIT)
    if unread is not None and one_more(seen, texts[best]) and unread - logs[best] >= ONE_LEAD:
        return spelled(lat.small, scores), keys, min(unread - logs[best], LIMIT)  # a 1 no chain reads
    if more(seen, texts[best], 1):  # the chain chosen drops a digit the reader reads
        if (unread is not None and unread - logs[best] >= DROP_LEAD
                and (several is None or unread - logs[best] >= DROP_ALONE
                     or max(several[k] for k in options[best].keys) >= DROP_SEVERAL)):
            return spelled(lat.small, scores), keys, min(unread - logs[best], LIMIT)
        if seen in texts and logs[texts.index(seen)] - logs[best] >= DROP_LEAD:
            best = texts.index(seen)
    if more(seen, texts[best], 2):  # it drops two: digits crowded over each other
        if unread is not None and unread - logs[best] >= DROP_TWO:
            return spelled(lat.small, scores), keys, min(unread - logs[best], LIMIT)
        if seen in texts and logs[texts.index(seen)] - logs[best] >= DROP_TWO:
            best = texts.index(seen)
    # a digit read as what the cut left of it (a part of it), where a chain reads it whole
    at = part_read(texts[best], seen) if seen in texts else None
    if (at is not None and logs[texts.index(seen)] - logs[best] >= PART_LEAD
            and lat.kind.get(options[best].digits[at][0]) != BRIDGED):
        best = texts.index(seen)
    # the rivals: the other candidates, and the reader's own path where no chain reads it
    rivals = [lp for t, lp in zip(texts, logs) if t != texts[best]]
    rivals += [unread] if unread is not None else []
    lead = min(float(logs[best] - max(rivals)), LIMIT) if rivals else LIMIT
    if len(options) < 2:  # nothing to choose between
        return digits, keys, lead
    return options[best].digits, options[best].keys, lead
