"""Reading for less: score only the pieces that can change the reading, with the whole
ensemble only where it matters.

Every candidate piece classified by every network of the ensemble is most of the cost of
reading a number. Two steps cut it down; each could change a reading, but on 1,800
validation and 1,400 test pictures none was (``benchmarks/read_fast.py``; BENCHMARKS.md):

- a lazy lattice: each component is scored whole first; its cuts, and its joins with
  close neighbours, are scored only if it is not surely one whole digit (the judge, the
  pair reader and the screening network all sure of it);
- coarse to fine: the scored pieces are classified by the ensemble's cheapest network
  (the screen) and decoded; every piece on a chain within ``MARGIN`` of the best is then
  classified by the whole ensemble and judged again, and this is repeated until no piece
  still screened is on a chain within ``MARGIN`` of the best. The reading is decoded from
  the pieces the whole ensemble classified: so each digit read has the ensemble's
  confidence, as before.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import counter, judge
from .decode import Scores, readings
from .segment import JOINED, WHOLE, Lattice, ink_image, piece_ink

#: A component's cuts and joins are left out when its whole piece is at least this sure,
#: by each of the screening network (its top probability), the judge (P(one whole digit))
#: and the pair reader (P(fewer than two digits)); pieces on a chain within MARGIN (in the
#: decoder's log score) of the best chain are classified by the whole ensemble. Chosen on
#: numbers of validation digits (``benchmarks/read_fast.py``: 300 of each composed family,
#: 200 of each ``realworld`` family, 1,800 in all) as the loosest sureness tried: with all
#: three at 0.9 and MARGIN 4, 0.7 and MARGIN 2, 0.5 and MARGIN 1, 0, 0 and 1 readings of
#: the 1,800 differed from every piece scored by every network (the one read right where
#: that misread it); with 0.5 and MARGIN 4, none. MARGIN costs little (the pieces of the
#: best chain are most of those within it): a wide one is kept.
SURE_DIGIT = 0.5
SURE_WHOLE = 0.5
SURE_FEWER = 0.5
MARGIN = 4.0

_CHEAPEST: dict = {}


def scores(lat: Lattice, model) -> Scores:
    """What the networks say of the pieces of ``lat`` that can change its reading (those
    the whole ensemble classified): decoded, the chain that ``decode.full_scores`` would
    give, but for rare pictures (this module's docstring)."""
    members = list(getattr(model, "members", None) or [model])
    screen = cheapest(members)
    found = _Pieces(lat)
    found.add([k for k in lat.pieces if lat.kind[k] == WHOLE], members[screen])
    found.add(_unsure_parts(lat, found), members[screen])
    full: dict = {}
    while True:
        looked_at = found.scores(full)
        gain = {k: g for k, (g, _) in readings(lat, looked_at).items()}
        wanted = [k for k in contenders(lat.n_nodes, gain) if k not in full]
        if not wanted:
            break
        full.update(zip(wanted, _all_members(members, screen, found, wanted)))
    return replace(found.scores(full, only=list(full)), screened=looked_at)


def contenders(n_nodes: int, gain: dict) -> list:
    """The edges (i, j) of ``gain`` ({edge: score}) on a chain from node 0 to node
    ``n_nodes - 1`` that scores within ``MARGIN`` of the best chain (forward and backward
    dynamic programming; the lattice's edges all go rightwards)."""
    forward, backward = np.full(n_nodes, -np.inf), np.full(n_nodes, -np.inf)
    forward[0], backward[n_nodes - 1] = 0.0, 0.0
    edges = sorted(gain)  # by their first node: every edge into a node comes before its way out
    for i, j in edges:
        forward[j] = max(forward[j], forward[i] + gain[(i, j)])
    for i, j in reversed(edges):
        backward[i] = max(backward[i], backward[j] + gain[(i, j)])
    best = forward[n_nodes - 1]
    return [k for k in edges if forward[k[0]] + gain[k] + backward[k[1]] >= best - MARGIN]


class _Pieces:
    """The pieces scored so far: their images, the screen's probabilities, the pair
    reader's say, and the judge's (from the screen's probabilities)."""

    def __init__(self, lat):
        self.lat = lat
        self.keys: list = []
        self.row: dict = {}
        self.parts: list = []  # (images, screened, log_whole, log_count, pair) per batch

    def add(self, keys, screen):
        if not keys:
            return
        lat = self.lat
        inks = [piece_ink(lat.small, lat.pieces[k]) for k in keys]  # once for both renderings
        images = np.stack([ink_image(values) for values in inks])
        p = screen.confidences(images)
        log_count, pair = (None, None) if counter.counter_model() is None else counter.assess_frames(
            np.stack([counter.ink_frame(values, lat.height) for values in inks]))
        self.parts.append((images, p, judge.log_whole(images, judge.features(lat, keys, p)), log_count, pair))
        self.row.update((k, len(self.keys) + n) for n, k in enumerate(keys))
        self.keys.extend(keys)

    def column(self, n):
        parts = [part[n] for part in self.parts]
        return None if parts[0] is None else np.concatenate(parts)

    def images(self, keys):
        return self.column(0)[[self.row[k] for k in keys]]

    def sure(self, key) -> bool:
        """Whether the piece ``key`` (scored) is surely one whole digit."""
        n = self.row[key]
        p, log_whole, log_count = self.column(1)[n], self.column(2)[n], self.column(3)
        several = 0.0 if log_count is None else float(counter.several(log_count[n]))
        return bool(p.max() >= SURE_DIGIT and np.exp(log_whole) >= SURE_WHOLE and 1 - several >= SURE_FEWER)

    def scores(self, full, only=None) -> Scores:
        """The pieces' scores: the ensemble's probabilities and the judge's say of them
        for the pieces in ``full`` ({key: (probabilities, log P(whole))}), the screen's
        for the others; of the pieces ``only`` (default all)."""
        keys = self.keys if only is None else only
        rows = [self.row[k] for k in keys]
        p, log_whole = self.column(1)[rows], self.column(2)[rows]
        for n, k in enumerate(keys):
            if k in full:
                p[n], log_whole[n] = full[k]
        log_count, pair = self.column(3), self.column(4)
        return Scores(keys, p, log_whole, judge.whole_digit_model() is not None,
                      None if log_count is None else log_count[rows], None if pair is None else pair[rows])


def _all_members(members, screen, found, keys):
    """(the ensemble's probabilities, the judge's log P(whole)) of each piece ``keys``,
    the screen's probabilities reused: summed in the members' order, as ``Ensemble`` does."""
    rows = [found.row[k] for k in keys]
    if len(members) == 1:  # the screen is the whole model: its say stands
        return list(zip(found.column(1)[rows], found.column(2)[rows]))
    images = found.images(keys)
    total = found.column(1)[rows] if screen == 0 else members[0].confidences(images)
    for n, member in enumerate(members[1:], start=1):
        total = total + (found.column(1)[rows] if n == screen else member.confidences(images))
    p = total / len(members)
    log_whole = judge.log_whole(images, judge.features(found.lat, keys, p))
    return list(zip(p, log_whole))


def _unsure_parts(lat, found):
    """The cut pieces of the components whose whole piece is not surely one digit, and
    the joins of components of which one at least is not. (Two components each surely
    a digit score more than their join read as one or two: each scores at least about
    DIGIT_BONUS - 0.3, a join at most DIGIT_BONUS.)"""
    unsure = [k for k in lat.pieces if lat.kind[k] == WHOLE and not found.sure(k)]
    return [k for k in lat.pieces if lat.kind[k] != WHOLE
            and any(k[0] <= i and j <= k[1] if lat.kind[k] == JOINED else i <= k[0] and k[1] <= j
                    for i, j in unsure)]


def cheapest(members) -> int:
    """The index of the network of ``members`` with the fewest multiply-adds an input."""
    key = tuple(id(m) for m in members)
    known = _CHEAPEST.get(key)
    if known is None:  # (the members are kept with their index: their ids stay theirs)
        known = (list(members), int(np.argmin([_multiply_adds(m) for m in members])))
        _CHEAPEST.clear()
        _CHEAPEST[key] = known
    return known[1]


def _multiply_adds(network) -> float:
    """Multiply-adds of one input through ``network``'s convolutions and dense layers
    (from each layer's ``output_shape``), inf for a network whose layers cannot say."""
    from ..nn.conv import Conv2D
    from ..nn.layers import Linear

    try:
        shape, total = tuple(network.input_shape), 0.0
        for layer in network.layers:
            out = layer.output_shape(shape)
            if isinstance(layer, Conv2D):
                total += float(np.prod(out)) * layer.in_channels * layer.kernel_size ** 2
            elif isinstance(layer, Linear):
                total += layer.in_features * layer.out_features
            shape = out
        return total
    except Exception:  # noqa: BLE001  (a network we cannot walk is the last choice)
        return float("inf")
