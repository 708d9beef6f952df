"""Check digits: the numbers of cards, banks and shops carry one, and a reading that
breaks it is wrong.

Each check is a machine of ten or eleven states fed the digits left to right (``Check.step``,
which knows each digit's place counted from the right, where the check digit is); a
number passes when it ends in state 0. Given each digit's probabilities over the ten,
``best`` finds the most probable string that passes (Viterbi over (place, state)) and the
total probability of all strings that pass (the same sums, added instead of maximised):
their ratio is the chance of that string among the strings the check allows, where
each digit is read as its own probabilities say.

- ``luhn``: payment cards, IMEI numbers, many account numbers (every second digit from
  the right doubled, its digits added; the sum a multiple of 10).
- ``gtin``: EAN-13, UPC-A and other GTIN barcodes' numbers, 8, 12, 13 or 14 digits
  (weights 1, 3, 1, 3... from the right).
- ``aba``: US bank routing numbers, 9 digits (weights 3, 7, 1 from the left).
- ``verhoeff``: the dihedral group's check, which catches every swap of neighbours
  (India's Aadhaar numbers).
- ``mod11``: weights 1, 2, 3... from the right, the sum a multiple of 11 (ISBN-10s without
  an X, the UK's NHS numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Verhoeff's tables: the dihedral group D5's multiplication, and the permutation of
#: each place (its row is the place from the right, modulo 8).
_D5 = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
                [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
                [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
                [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
                [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]])
_PLACE = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
                   [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
                   [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
                   [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]])


def _luhn(state: int, digit: int, place: int) -> int:
    doubled = 2 * digit if place % 2 else digit
    return (state + doubled - 9 * (doubled > 9)) % 10


@dataclass(frozen=True)
class Check:
    """A check digit's rule: ``step(state, digit, place)`` (place 0 the rightmost digit),
    a number passing when it ends in state 0 of ``states``; ``lengths`` the numbers of
    digits it takes (None: any)."""
    name: str
    step: Callable[[int, int, int], int]
    lengths: tuple | None = None
    states: int = 10


CHECKS = {check.name: check for check in (
    Check("luhn", _luhn),
    Check("gtin", lambda state, digit, place: (state + digit * (1, 3)[place % 2]) % 10, (8, 12, 13, 14)),
    Check("aba", lambda state, digit, place: (state + digit * (1, 7, 3)[place % 3]) % 10, (9,)),
    # (the group's product of the places' permuted digits, the rightmost first: read from
    # the left, each digit multiplies the product of those after it from the left)
    Check("verhoeff", lambda state, digit, place: int(_D5[_PLACE[place % 8, digit], state])),
    Check("mod11", lambda state, digit, place: (state + digit * (place + 1)) % 11, states=11),
)}


def check(name: str) -> Check:
    """The check called ``name``; ValueError, in words, for one that is not known."""
    if name not in CHECKS:
        raise ValueError(f"the check digit's rule is one of {', '.join(CHECKS)}; not {name!r}")
    return CHECKS[name]


def length_of(name: str) -> int | None:
    """The number of digits every number of the rule ``name`` has (aba: 9), or None."""
    lengths = check(name).lengths
    return lengths[0] if lengths is not None and len(lengths) == 1 else None


def passes(name: str, digits: str) -> bool:
    """Whether the string ``digits`` passes the check ``name``."""
    rule, state = check(name), 0
    if rule.lengths is not None and len(digits) not in rule.lengths:
        return False
    for k, c in enumerate(digits):
        state = rule.step(state, int(c), len(digits) - 1 - k)
    return state == 0


def best(name: str, probabilities: np.ndarray) -> tuple[list[int], float] | None:
    """The most probable digits that pass the check ``name``, each digit read with its row
    of ``probabilities`` (digits, 10), and their chance among all strings that pass;
    None where none can (a length the check does not take, or no string of nonzero
    probability)."""
    rule = check(name)
    n = len(probabilities)
    if n == 0 or (rule.lengths is not None and n not in rule.lengths):
        return None
    p = np.asarray(probabilities, np.float64)
    most = np.zeros(rule.states)  # the best probability of a prefix ending in each state
    total = np.zeros(rule.states)  # the probability of all prefixes ending in each state
    most[0] = total[0] = 1.0
    back = np.zeros((n, rule.states, 2), np.int64)  # (state before, digit) of each best prefix
    for k in range(n):
        place = n - 1 - k
        new_most, new_total = np.zeros(rule.states), np.zeros(rule.states)
        for at in (int(a) for a in np.flatnonzero(total)):
            for digit in range(10):
                to = rule.step(at, digit, place)
                new_total[to] += total[at] * p[k, digit]
                if most[at] * p[k, digit] > new_most[to]:
                    new_most[to] = most[at] * p[k, digit]
                    back[k, to] = at, digit
        # (scaled to keep long numbers' products from vanishing; the ratio is kept)
        scale = new_total.max()
        if scale <= 0:
            return None
        most, total = new_most / scale, new_total / scale
    if most[0] <= 0:
        return None
    digits, state = [], 0
    for k in range(n - 1, -1, -1):
        before, digit = back[k, state]
        digits.append(int(digit))
        state = int(before)
    return digits[::-1], float(most[0] / total[0])
