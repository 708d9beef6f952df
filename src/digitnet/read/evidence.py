"""How sure the segmentation is of a reading: what the calibration of ``read`` weighs
besides the digits' confidences.

A reading's mistakes are mostly the segmentation's: two touching digits read as one, a
digit cut in two. The classifier may be sure of every digit of such a reading; the
lattice knows better. Three measures of the chain ``decode`` chose:

- ``margin``: how much better it scores than the best chain with another number of
  digits (0 when a reading one digit longer or shorter scores as well);
- ``least_whole``: the judge's lowest log P(one whole digit) among its pieces read as one;
- ``most_several``: the pair reader's highest P(two digits or more) among the same;

and, with the sequence reader (``sequence.rescored``), ``sequence_lead``: its ln P of the
string read less its best ln P of another string (one the lattice offered, or its own best
path where no chain reads it: a reading the reader disagrees with leads by less than 0),
and ``spelled``: 1 where the reader's own best path was read, no chain of the lattice
reading it (then the three measures above are those of the lattice's best chain); and
``turned``: how many degrees ``level`` turned the writing (0 when it was read as it is),
and ``photo`` and ``form`` (``frontend.Seen``: a photo of paper; a form's print taken
out): a line photographed askew, or on a form, is read a little less surely than a level
one on white.
"""

from __future__ import annotations

import numpy as np

from . import counter

#: What a measure is clipped to (a chain with no rival of another length has margin inf).
LIMIT = 30.0


def evidence(n_nodes, read, chosen, s, rivals=None) -> dict:
    """The measures of the chain ``chosen`` (its edges' keys) through the lattice of
    ``n_nodes`` nodes, whose edges are read as ``read`` ({key: (gain, digits)}, from
    ``decode.readings``) with the networks' scores ``s`` (``decode.Scores``); the margin
    over the edges ``rivals`` (the same form, the chosen ones read alike; default
    ``read``): the cascade classifies few pieces beside the chain read with the whole
    ensemble, but its screening network has seen the others."""
    index = {k: n for n, k in enumerate(s.keys)}
    singles = [index[k] for k in chosen if len(read[k][1]) == 1]
    least_whole = min((float(s.log_whole[n]) for n in singles), default=0.0)
    most_several = 0.0
    if s.log_count is not None and singles:
        several = counter.several(s.log_count[singles])
        most_several = float(several.max())
    return {"margin": margin(n_nodes, read if rivals is None else rivals, chosen),
            "least_whole": max(least_whole, -LIMIT), "most_several": most_several}


def margin(n_nodes, read, chosen) -> float:
    """The score of the chain ``chosen`` less the best score of a chain from the first
    node to the last that reads another number of digits (dynamic programming over
    (node, digits so far)); LIMIT when there is none."""
    digits = sum(len(read[k][1]) for k in chosen)
    best = sum(read[k][0] for k in chosen)
    most = sum(len(d) for _, d in read.values())
    table = np.full((n_nodes, most + 1), -np.inf)
    table[0, 0] = 0.0
    for (i, j), (gain, read_as) in sorted(read.items()):
        n = len(read_as)
        candidate = table[i, :most + 1 - n] + gain
        table[j, n:] = np.maximum(table[j, n:], candidate)
    others = np.delete(table[-1], digits) if digits <= most else table[-1]
    rival = others.max() if len(others) else -np.inf
    return float(min(best - rival, LIMIT)) if np.isfinite(rival) else LIMIT
