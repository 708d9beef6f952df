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

A date is a rule too: ``dmy``, ``mdy`` and ``ymd`` (the order of its day, month and year)
take the strings that write a day of the calendar, a year of four digits from ``YEARS``
or of two, a day or a month of one digit or two, in the groups a field's pattern gives
("d?d/d?d/dddd"; where none is given, ``pattern_of``'s), else, at a length given, 6 digits
(2, 2, 2) or 8 (2, 2, 4; ymd 4, 2, 2). So is a time of the 24-hour clock, ``hm``: an
hour 0-23 of one digit or two and its minutes 00-59 ("d?d:dd"). ``best`` weighs every
such date or time (``_written``) instead of walking a machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

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


#: The years a date's four-digit year may be (two digits: any).
YEARS = range(1900, 2100)


@dataclass(frozen=True)
class Check:
    """A check digit's rule: ``step(state, digit, place)`` (place 0 the rightmost digit),
    a number passing when it ends in state 0 of ``states``; ``lengths`` the numbers of
    digits it takes (None: any). A date's or a time's rule has no ``step`` but the
    ``order`` of its parts ("dmy": day, month, year; "hm": hour, minutes)."""
    name: str
    step: Callable[[int, int, int], int] | None = None
    lengths: tuple | None = None
    states: int = 10
    order: str | None = None


CHECKS = {check.name: check for check in (
    Check("luhn", _luhn),
    Check("gtin", lambda state, digit, place: (state + digit * (1, 3)[place % 2]) % 10, (8, 12, 13, 14)),
    Check("aba", lambda state, digit, place: (state + digit * (1, 7, 3)[place % 3]) % 10, (9,)),
    # (the group's product of the places' permuted digits, the rightmost first: read from
    # the left, each digit multiplies the product of those after it from the left)
    Check("verhoeff", lambda state, digit, place: int(_D5[_PLACE[place % 8, digit], state])),
    Check("mod11", lambda state, digit, place: (state + digit * (place + 1)) % 11, states=11),
    *(Check(order, order=order) for order in ("dmy", "mdy", "ymd", "hm")),
)}


def check(name: str) -> Check:
    """The check called ``name``; ValueError, in words, for one that is not known."""
    if name not in CHECKS:
        digits = ", ".join(n for n, c in CHECKS.items() if c.order is None)
        dates = ", ".join(n for n, c in CHECKS.items() if c.order not in (None, "hm"))
        raise ValueError(f"the check digit's rule is one of {digits} (or a date's order: {dates}; "
                         f"a time: hm); not {name!r}")
    return CHECKS[name]


def length_of(name: str) -> int | None:
    """The number of digits every number of the rule ``name`` has (aba: 9), or None."""
    lengths = check(name).lengths
    return lengths[0] if lengths is not None and len(lengths) == 1 else None


def pattern_of(name: str) -> str | None:
    """The pattern a date's rule reads with where none is given: a day and a month of one
    digit or two and a year of four, two or none, in the rule's order, slashes between
    ("d?d/d?d/dddd|d?d/d?d/dd|d?d/d?d"); None for a check digit's rule."""
    order = check(name).order
    if order is None:
        return None
    if order == "hm":
        return "d?d:dd"
    part = {"d": "d?d", "m": "d?d", "y": "dddd"}
    ways = ["/".join(part[c] for c in order), "/".join("dd" if c == "y" else part[c] for c in order)]
    return "|".join([*ways, "/".join(part[c] for c in order if c != "y")])


def passes(name: str, digits: str, groups: tuple | None = None) -> bool:
    """Whether the string ``digits`` passes the check ``name`` (a date's: written in
    ``groups`` of digits, (2, 2, 4))."""
    rule, state = check(name), 0
    if rule.order is not None:
        dates = _written(rule.order, _groups(rule.order, len(digits), groups))
        return bool((dates == np.array([int(c) for c in digits])).all(axis=1).any())
    step = rule.step
    if step is None or (rule.lengths is not None and len(digits) not in rule.lengths):
        return False
    for k, c in enumerate(digits):
        state = step(state, int(c), len(digits) - 1 - k)
    return state == 0


def best(name: str, probabilities: np.ndarray, groups: tuple | None = None) -> tuple[list[int], float] | None:
    """The most probable digits that pass the check ``name``, each digit read with its row
    of ``probabilities`` (digits, 10), and their chance among all strings that pass;
    None where none can (a length the check does not take, or no string of nonzero
    probability). A date's digits are written in ``groups`` (a pattern's: (1, 2, 4))."""
    rule = check(name)
    n = len(probabilities)
    p = np.asarray(probabilities, np.float64)
    if rule.order is not None:
        return _best_written(_written(rule.order, _groups(rule.order, n, groups)), p)
    step = rule.step
    if step is None or n == 0 or (rule.lengths is not None and n not in rule.lengths):
        return None
    most = np.zeros(rule.states)  # the best probability of a prefix ending in each state
    total = np.zeros(rule.states)  # the probability of all prefixes ending in each state
    most[0] = total[0] = 1.0
    back = np.zeros((n, rule.states, 2), np.int64)  # (state before, digit) of each best prefix
    for k in range(n):
        place = n - 1 - k
        new_most, new_total = np.zeros(rule.states), np.zeros(rule.states)
        for at in (int(a) for a in np.flatnonzero(total)):
            for digit in range(10):
                to = step(at, digit, place)
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


def _best_written(dates: np.ndarray, p: np.ndarray) -> tuple[list[int], float] | None:
    """The most probable of ``dates`` (the dates or times a rule allows, as (strings,
    digits)), read with ``p`` (digits, 10), and its chance among them."""
    if len(dates) == 0 or dates.shape[1] != len(p):
        return None
    with np.errstate(divide="ignore"):
        logs = np.log(p)[np.arange(len(p)), dates].sum(axis=1)
    top = int(np.argmax(logs))
    if not np.isfinite(logs[top]):
        return None
    return [int(d) for d in dates[top]], float(1.0 / np.exp(logs - logs[top]).sum())


def _groups(order: str, n: int, groups: tuple | None) -> tuple:
    """The sizes of a date's groups of digits: ``groups`` where a pattern gave them, else
    as its ``n`` digits are written without marks (6: 2, 2, 2; 8: 2, 2, 4 or, ymd, 4, 2, 2)."""
    if groups is not None:
        return tuple(groups)
    if order == "hm":
        return {3: (1, 2), 4: (2, 2)}.get(n, (n,))
    return {6: (2, 2, 2), 8: (4, 2, 2) if order[0] == "y" else (2, 2, 4)}.get(n, (n,))


def _written(order: str, sizes: tuple) -> np.ndarray:
    """Every date (``_dates``) or time (``_times``) written in groups of ``sizes`` digits."""
    return _times(sizes) if order == "hm" else _dates(order, sizes)


@lru_cache(maxsize=8)
def _times(sizes: tuple) -> np.ndarray:
    """Every minute of the 24-hour clock written as an hour of ``sizes[0]`` digits and its
    minutes of two, as an array (times, digits); empty for other groups."""
    if len(sizes) != 2 or sizes[0] not in (1, 2) or sizes[1] != 2:
        return np.zeros((0, sum(sizes)), np.int8)
    hours = range(10) if sizes[0] == 1 else range(24)
    texts = [f"{h:0{sizes[0]}d}{m:02d}" for h in hours for m in range(60)]
    return np.array([[int(c) for c in t] for t in texts], np.int8)


@lru_cache(maxsize=64)
def _dates(order: str, sizes: tuple) -> np.ndarray:
    """Every day of the calendar written in groups of ``sizes`` digits in ``order`` ("dmy";
    two groups: its day and month in that order, the year left out, any year's), as an
    array (dates, digits) of int8 (a server keeps a few: 73,049 x 8 for dd/mm/yyyy); empty
    where the groups cannot write a date."""
    if len(sizes) == 2:
        order = "".join(c for c in order if c != "y")
    if len(sizes) != len(order) or any(
            size not in ((1, 2) if part in "dm" else (2, 4)) for part, size in zip(order, sizes)):
        return np.zeros((0, sum(sizes)), np.int8)
    year_size = sizes[order.index("y")] if "y" in order else 0
    first, last = (YEARS[0], YEARS[-1]) if year_size == 4 else (2000, 2099 if year_size else 2000)
    days = np.arange(f"{first}-01-01", f"{last + 1}-01-01", dtype="datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    parts = {"y": years % 10 ** year_size, "m": months,
             "d": (days - days.astype("datetime64[M]")).astype(np.int64) + 1}
    kept = np.all([parts[part] < 10 ** size for part, size in zip(order, sizes)], axis=0)
    digits = [parts[part][kept] // 10 ** place % 10
              for part, size in zip(order, sizes) for place in range(size - 1, -1, -1)]
    return np.stack(digits, axis=1).astype(np.int8)  # (one row a day: no date twice)
