"""The reading: the chain of candidate digits, left to right, with the best score.

Every candidate is classified by the digit model, judged (``judge``) and seen by the pair
reader (``counter``); the reading that chains candidates from left to right with the
largest sum of log P(digit) + log P(whole) + DIGIT_BONUS + COUNT_WEIGHT x log P(fewer
than two digits), less CUT_COST for each piece cut out of a component, wins (dynamic
programming over the lattice of ``segment``); a wide piece may be read as the two digits
the pair reader sees in it instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ImageError
from . import checks, counter, judge, sequence
from .evidence import evidence
from .segment import BRIDGED, CUT, Lattice, Piece, lattice, piece_image
from .segment import marks as segment_marks

#: Added to each digit's score: favours readings with more digits. CUT_COST is taken
#: from each piece cut out of a component: a cut must earn its place, so that a lone 9
#: is not read as the 0 of its loop and the 1 of its stem (nor a 2 as 22). Chosen on
#: numbers composed of validation digits, read with the ensemble trained without them,
#: as the setting furthest above both of the issue's floors (98% of separated numbers,
#: 90% with touching pairs): on 2,000 of each, 97.95% and 90.2% (3.0 and no cut cost,
#: before: 97.5% and 91.3%; 3.0 and 1.0: 97.9%, 90.45%; 2.5 and 1.0: 97.95%, 90.1%);
#: on 2,000 more of each, 98.25% and 91.1% (before: 97.9% and 92.35%). Separated numbers
#: gain less than touching ones lose, but on validation both now clear their floors (on
#: the test digits, measured once: 97.9% and 90.6%, before 97.8% and 92.2%); of 1,500
#: single validation digits, 1 is read as two (before: 3). (Previously, 3.0 was chosen as
#: reading the most numbers in total, with the judge of five networks, 4,000 validation
#: numbers: 97.7, 97.3, 91.3, 92.2% against 97.7, 97.5, 91.2, 91.9% with 2.75.)
DIGIT_BONUS = 3.5
CUT_COST = 1.5
#: With the pair reader (``counter``): each digit read alone also scores COUNT_WEIGHT *
#: log P(the piece holds fewer than two digits), so that a piece the pair reader sees
#: several digits in costs more read as one; a piece at least PAIR_WIDTH of the writing's
#: height wide may be read as the two digits the pair reader sees in it, scoring
#: log P(two digits, a and b) + PAIR_WHOLE * log P(not one whole digit, as the judge
#: sees it) + two digits' bonus - PAIR_COST (less CUT_COST if cut). Chosen on numbers of
#: validation digits (``benchmarks/tune_counter.py``; BENCHMARKS.md) as reading the most
#: touching numbers of the settings that read numbers written apart and single digits no
#: worse than the pair reader's absence (separated 98.0%, single 99.3%, rw-apart 99.0%).
COUNT_WEIGHT = 0.25
PAIR_WIDTH = 0.6
PAIR_COST = 5.0
PAIR_WHOLE = 2.0
#: With marks, a gap between neighbouring digits at least SPACE times their median height
#: wide and SPACE_RATIO times their median gap is a space between groups ("5041 9238";
#: digits spaced out evenly are one group).
SPACE = 1.0
SPACE_RATIO = 2.5
#: What a field's pattern (``read_number``'s ``pattern``, "dd/dd/dddd") may hold between
#: its digits ("d").
PATTERN_MARKS = "/:.,- "


#: At most this many patterns in one (its "|" and "d?" spelled out).
PATTERN_CHOICES = 32
#: Where a reading breaks its check digit and its length is not known, a reading of one
#: digit fewer or more is taken if its lattice score, less the cost of mending its digits
#: to keep the check (ln of their probabilities), beats the reading's own by this much.
#: On 1,600 validation numbers of ``bench_checks`` (400 a rule), 1,575 read right without;
#: 1,581-1,582 with any cost from 0.5 to 8; 4 read 11 at another length, 8 of them right,
#: and lost one reading that was right (BENCHMARKS.md, "Check digits").
CHECK_LENGTH_COST = 4.0


def parse_pattern(pattern: str) -> list[tuple[int, list[tuple[int, str]]]]:
    """The patterns a field's ``pattern`` allows: "dd/dd/dddd" is a date, "d" a digit and
    the marks ``PATTERN_MARKS`` between them; "d?" is a digit that may be missing
    ("d?d/d?d/dddd": 7/3/2026 and 07/03/2026) and "|" parts patterns ("ddddd|ddddddddd").
    Each as (its digits, its marks), a mark as (the number of digits before it, the
    mark): [(8, [(2, "/"), (4, "/")])]. Raises ValueError, in words, for a pattern that is
    not one."""
    if not pattern or any(c not in "d?|" and c not in PATTERN_MARKS for c in pattern):
        raise ValueError(f"a pattern is made of d (a digit) and the marks {PATTERN_MARKS!r} "
                         f"between them, such as dd/dd/dddd (d? a digit that may be missing, | "
                         f"between patterns); not {pattern!r}")
    spelled: list[str] = []
    for choice in pattern.split("|"):
        ways = [""]
        for k, c in enumerate(choice):
            if c == "?":
                continue
            maybe = c == "d" and choice[k + 1:k + 2] == "?"
            ways = list(dict.fromkeys([w + c for w in ways] + (ways if maybe else [])))
            if len(ways) > PATTERN_CHOICES:
                raise ValueError(f"the pattern {pattern!r} allows more than {PATTERN_CHOICES} patterns")
        if any(c == "?" and (k == 0 or choice[k - 1] != "d") for k, c in enumerate(choice)):
            raise ValueError(f"a ? follows a d (a digit that may be missing): {pattern!r}")
        spelled += [w for w in ways if w not in spelled]
    if len(spelled) > PATTERN_CHOICES:
        raise ValueError(f"the pattern {pattern!r} allows more than {PATTERN_CHOICES} patterns")
    return [_one_pattern(one, pattern) for one in spelled]


def _one_pattern(one: str, pattern: str) -> tuple[int, list[tuple[int, str]]]:
    digits = one.count("d")
    if (not 1 <= digits <= 20 or one[0] != "d" or one[-1] != "d"
            or any(a != "d" and b != "d" for a, b in zip(one, one[1:]))):
        said = repr(pattern) if one == pattern else f"{pattern!r} allows {one!r}, which"
        raise ValueError(f"a pattern has 1 to 20 digits (d), starts and ends with one and has one mark "
                         f"at most between two: {said} does not")
    marks, before = [], 0
    for c in one:
        if c == "d":
            before += 1
        else:
            marks.append((before, c))
    return digits, marks


def field_options(length=None, pattern=None, check=None, lines=False, named=lambda option: option):
    """Refuse, in words (ValueError), options of ``read`` that do not go together: a
    ``length`` or ``pattern`` with ``lines``, a ``pattern`` with a ``length``, a ``check``
    with ``lines``; or a pattern or check digit's rule that is none (its own message,
    after ``named("pattern")`` or ``named("check")`` where ``named`` is not the name
    itself). ``named`` names an option as the caller's users know it ("--pattern")."""
    if length is not None and lines:
        raise ValueError(f"{named('length')} does not go with {named('lines')} "
                         "(lines may hold numbers of any length)")
    if pattern is not None and (length is not None or lines):
        other = named("length" if length is not None else "lines")
        raise ValueError(f"{named('pattern')} does not go with {other} "
                         "(the pattern says how many digits, of one number)")
    if check is not None and lines:
        raise ValueError(f"{named('check')} does not go with {named('lines')} "
                         "(a check digit is one number's)")
    for option, value, parse in (("pattern", pattern, parse_pattern), ("check", check, checks.check)):
        try:
            if value is not None:
                parse(value)
        except ValueError as e:
            said = named(option)
            raise ValueError(str(e) if said == option else f"{said}: {e}") from None


@dataclass
class Digit:
    digit: int
    confidence: float
    box: tuple  # (left, top, right, bottom) in the original image's pixels
    unsure: bool = False
    #: The piece of the line read as this digit, (left, right, mask) in the columns and
    #: rows of ``Reading.line``.
    piece: tuple | None = field(default=None, repr=False, compare=False)
    #: Which network's reading this is: "classifier" (of the piece), "pair" (the pair
    #: reader's, of a piece read as two digits: the piece is its half) or "line" (the
    #: sequence reader's, of the whole line: the piece is where its scores peak).
    read_by: str = field(default="classifier", repr=False, compare=False)


@dataclass
class Mark:
    """A point, comma, colon, dash or space written after the first ``after`` digits."""
    mark: str
    after: int
    box: tuple  # (left, top, right, bottom) in the original image's pixels


@dataclass
class Reading:
    text: str
    digits: list = field(default_factory=list)
    confidence: float = 0.0
    #: How sure the segmentation is (``evidence.evidence``): what calibration weighs.
    evidence: dict = field(default_factory=dict, repr=False)
    #: The points, commas, colons, dashes and spaces between the digits, when asked for (they
    #: are then in ``text`` too); None when not.
    marks: list | None = None
    #: More writing stands above or below the line read: another line (``read_lines``).
    other_lines: bool = False
    #: The line of ink as it was read (``segment.Lattice.small``): the writing's ink in
    #: [0, 1], turned level, a form's print taken out, ``segment.LINE_HEIGHT`` rows high.
    line: np.ndarray | None = field(default=None, repr=False, compare=False)

    def inputs(self) -> np.ndarray:
        """Each digit's piece as the classifier sees it: (digits, 28, 28), in MNIST form.
        What it saw, for a digit ``read_by`` the classifier; for a half of a piece the pair
        reader read as two, that half; for a digit the sequence reader read in the whole
        line, the ink where its scores for it peak."""
        if self.line is None or any(d.piece is None for d in self.digits):
            raise ValueError("this reading does not keep the line it was read from")
        if not self.digits:
            return np.zeros((0, 28, 28), np.float32)
        return np.stack([piece_image(self.line, d.piece).reshape(28, 28) for d in self.digits])

    def spelled(self, flag_unsure: bool = False) -> str:
        """The digits with the marks between them; with ``flag_unsure``, a '?' after
        each digit marked unsure."""
        out = [f"{d.digit}?" if flag_unsure and d.unsure else str(d.digit) for d in self.digits]
        for m in reversed(self.marks or []):
            out.insert(m.after, m.mark)
        return "".join(out)

    def as_dict(self):
        out = {"text": self.text, "confidence": self.confidence,
               "digits": [{"digit": d.digit, "confidence": d.confidence, "box": list(d.box),
                           "unsure": d.unsure} for d in self.digits]}
        if self.marks is not None:
            out["marks"] = [{"mark": m.mark, "after": m.after, "box": list(m.box)}
                            for m in self.marks]
        if self.other_lines:
            out["other_lines"] = True
        for said in ("forced", "off_length", "corrected", "check_failed"):  # (``length``, ``check``)
            if self.evidence.get(said):
                out[said] = True
        return out


@dataclass
class Scores:
    """What the networks say of each piece of a lattice (``keys``, in order): the
    classifier's probabilities (n, 10), the judge's log P(whole) (n,), and, with the
    pair reader, log P(count) (n, 4) and P(pair) (n, 100). ``screened``: with the
    cascade, the scores of every piece it looked at (the screening network's where the
    whole ensemble did not classify it), which the evidence weighs rival readings by."""
    keys: list
    probabilities: np.ndarray
    log_whole: np.ndarray
    judged: bool
    log_count: np.ndarray | None
    pair: np.ndarray | None = None
    screened: Scores | None = None


def scores(lat: Lattice, model) -> Scores:
    """What the networks say of the pieces of ``lat`` that can change its reading (the
    costly part of reading): ``cascade.scores``."""
    from .cascade import scores as cascaded

    return cascaded(lat, model)


def full_scores(lat: Lattice, model) -> Scores:
    """Classify and judge every piece of ``lat`` with every network: what ``scores``
    saves work on, and is checked against."""
    keys = list(lat.pieces)
    images = np.stack([piece_image(lat.small, lat.pieces[k]) for k in keys])
    probabilities = model.confidences(images)
    whole = judge.log_whole(images, judge.features(lat, keys, probabilities))
    assessed = counter.assess(lat, keys)
    log_count, pair = assessed if assessed is not None else (None, None)
    return Scores(keys, probabilities, whole, judge.whole_digit_model() is not None, log_count, pair)


def readings(lat: Lattice, s: Scores):
    """The best way to read each piece, and its score: {key: (gain, digits)}, where
    digits lists (digit, its probabilities over the ten) for one digit, or two."""
    return both_readings(lat, s)[0]


def both_readings(lat: Lattice, s: Scores):
    """``readings``, and the way of reading each wide piece that it did not choose, where
    there are two (one digit, or the two the pair reader sees): {key: (gain, digits)}.
    The sequence reader may prefer the latter (``sequence.candidates``)."""
    ways = _ways(lat, s)
    return ({k: w[0] for k, w in ways.items()}, {k: w[1] for k, w in ways.items() if len(w) > 1})


def _ways(lat: Lattice, s: Scores):
    """Each piece's ways of being read, best first: {key: [(gain, digits)]}."""
    # the bonus and the cut cost balance the judge's doubts; without a judge neither is needed
    bonus = DIGIT_BONUS if s.judged else 0.0
    cut = CUT_COST if s.judged else 0.0
    out = {}
    for n, (k, p) in enumerate(zip(s.keys, s.probabilities)):
        cut_out = cut if lat.kind[k] in (CUT, BRIDGED) else 0.0  # a bridge is a cut too
        gain = float(np.log(p.max() + 1e-12)) + bonus + s.log_whole[n] - cut_out
        if s.log_count is None:
            out[k] = [(gain, [(int(p.argmax()), p)])]
            continue
        several = float(counter.several(s.log_count[n]))
        out[k] = [(gain + COUNT_WEIGHT * np.log(max(1.0 - several, 1e-12)), [(int(p.argmax()), p)])]
        if s.pair is None or lat.pieces[k][1] - lat.pieces[k][0] < PAIR_WIDTH * lat.height:
            continue
        ab = int(s.pair[n].argmax())
        doubt = np.log(max(1.0 - np.exp(s.log_whole[n]), 1e-12))  # the judge: not one whole digit
        two = float(np.log(s.pair[n, ab] + 1e-12)) + PAIR_WHOLE * doubt + 2 * bonus - PAIR_COST - cut_out
        if not np.isfinite(two):  # pairs ruled out (PAIR_COST infinite)
            continue
        grid = s.pair[n].reshape(10, 10)
        total = max(float(grid.sum()), 1e-12)
        pair = (two, [(ab // 10, grid.sum(axis=1) / total), (ab % 10, grid.sum(axis=0) / total)])
        out[k] = [pair, out[k][0]] if two > out[k][0][0] else [out[k][0], pair]
    return out


def best_path(n_nodes, gain):
    """The keys (i, j) of the chain of edges from node 0 to the last node with the
    largest sum of ``gain``."""
    reach: list[list[int]] = [[] for _ in range(n_nodes)]
    for i, j in gain:
        reach[i].append(j)
    best: list[tuple[float, list | None]] = [(-np.inf, None)] * n_nodes
    best[0] = (0.0, [])
    for i in range(n_nodes):
        score, path = best[i]
        if path is None:
            continue
        for j in reach[i]:
            if score + gain[(i, j)] > best[j][0]:
                best[j] = (score + gain[(i, j)], path + [(i, j)])
    return best[-1][1]


def decode(lat: Lattice, s: Scores):
    """The best reading: [(key, digit, its probabilities)], left to right (a piece read
    as two digits gives two)."""
    return _decoded(lat, s)[0]


def _decoded(lat: Lattice, s: Scores):
    """``decode``'s reading, with what it was chosen from: (the reading, ``readings``,
    the keys of the chain chosen, the sequence reader's lead: ``sequence.rescored``, the
    other ways of reading wide pieces: ``both_readings``)."""
    read, others = both_readings(lat, s)
    keys = best_path(lat.n_nodes, {k: g for k, (g, _) in read.items()})
    # the sequence reader's choice among the best chains, wide pieces read either way
    several = None if s.log_count is None else dict(zip(s.keys, counter.several(s.log_count)))
    chosen, keys, lead = sequence.rescored(lat, read, keys, others=others, several=several)
    return chosen, read, keys, lead, others


def read_number(image, model, min_confidence: float = 0.5, max_digits: int = 20,
                marks: bool = False, length: int | None = None, pattern: str | None = None,
                check: str | None = None) -> Reading:
    """Read the digits written in ``image`` (a path, bytes, an open binary file, a Pillow
    image or a NumPy array).

    Every candidate digit is classified, and the chain of candidates with the best
    total score wins: each digit scores the log of the classifier's confidence plus
    the log-probability that the piece is one whole digit (judged from the
    piece's image and ``features`` by small networks trained on composed training
    numbers by ``benchmarks/fit_reader.py``, their probabilities averaged), plus
    ``DIGIT_BONUS``, less ``CUT_COST`` if the piece was cut out of a component, plus
    ``COUNT_WEIGHT`` times the log-probability that it holds fewer than two digits
    (``counter``). A piece at least ``PAIR_WIDTH`` of the writing's height wide may be
    read as two digits instead, scoring the pair reader's log P(two digits, a and b)
    plus ``PAIR_WHOLE`` times the judge's log P(not one whole digit), plus two digits'
    bonus less ``PAIR_COST``.

    Returns a ``Reading`` with the digit string, each digit's box and confidence
    (``unsure`` when below ``min_confidence``) and the overall confidence (the
    product of the digits'). With ``marks``, the points, commas, colons and dashes written
    between the digits (``segment.marks``), a minus before them and the spaces between
    groups of them (``spaces``) are in its text too ("1,250.00", "555-0142", "-42", "5041
    9238") and in ``marks``; the digits are read the same either way. With ``length``, the
    number of digits the number is known to have (a postcode's, an account's): a reading
    of another length is replaced by the best of that length (``sequence.of_length``;
    ``evidence["forced"]``), and where there is none it stands, its confidence 0
    (``evidence["off_length"]``). With ``pattern``, a field's ("dd/dd/dddd": a date; "d"
    a digit, ``PATTERN_MARKS`` between), the number is read as with ``length`` (the
    pattern's digits) and written in the pattern, its marks where the pattern has them
    (``fitted_pattern``): a slash, which reads as a 1, is taken for the pattern's slash
    where the reading has a 1 just there. A pattern may allow several ("d?d/d?d/dddd":
    a digit that may be missing; "|" between patterns): the one the reading fits
    (``_in_pattern``). With ``check``, the rule of the number's check digit
    (``checks.CHECKS``: "luhn", "gtin", "aba", "verhoeff", "mod11"; or a date's, "dmy",
    "mdy", "ymd", or a time's, "hm", its groups of digits the pattern's, or where none is
    given its own, ``checks.pattern_of``): a reading that breaks it is
    replaced by the most probable string of the same digits' places that passes
    (``checks.best``; ``evidence["corrected"]``), or, with no length or pattern given, by
    one of a digit fewer or more that scores better (``_keeping``; ``evidence["check_length"]``),
    and one that no string can mend stands,
    its confidence 0 (``evidence["check_failed"]``); a rule whose numbers have one length
    (aba: 9) reads them as ``length`` does. Raises ``ImageError`` for a blank
    image.
    """
    if pattern is not None and length is not None:
        raise ValueError("length does not go with pattern (the pattern says how many digits)")
    # a date's or time's own pattern where none is given (d?d/d?d/dddd|..., d?d:dd), marks as written
    own = checks.pattern_of(check) if check is not None and pattern is None and length is None else None
    pattern = own or pattern
    fields = parse_pattern(pattern) if pattern is not None else None
    if check is not None:
        implied = checks.length_of(check)  # (aba: nine digits, as --length 9; a bad name: ValueError)
        length = length if length is not None or pattern is not None else implied
    lat = lattice(image)
    s = scores(lat, model)
    chosen, read, keys, lead, others = _decoded(lat, s)
    slashes: dict = {}
    pattern_marks = None
    forced = off_length = by_lean = False
    if fields is not None:
        # (a date's rule prefers the patterns in which the digits write a day: 21/3/20, not 2/13/20)
        def keeps(digits, marks) -> bool:
            return check is None or checks.check(check).order is None or checks.passes(
                check, sequence.text(digits), _groups(marks, digits))
        fit = _in_pattern(lat, chosen, read, others, fields, keeps)
        if fit is None:
            off_length = True
        else:
            chosen, found_keys, slashes, pattern_marks, by_lean = fit
            if found_keys is not None:
                keys, forced = found_keys, True
    elif length is not None and len(chosen) != length:
        found = sequence.of_length(lat, read, length, others)
        if found is None:
            off_length = True
        else:
            (chosen, keys, _), forced = found, True
    if len(chosen) > max_digits:
        raise ImageError(f"found {len(chosen)} digits, more than the {max_digits} digitnet reads")
    corrected = check_failed = relength = False
    if check is not None and not off_length:
        chosen, relength_keys, corrected, check_failed = _keeping(
            lat, read, others, check, chosen, pattern_marks, free=length is None and fields is None)
        relength = relength_keys is not None
        keys = relength_keys if relength_keys is not None else keys
    digits = []
    for n, (key, digit, p) in enumerate(chosen):
        # a Piece of its own where the sequence reader alone read it (``sequence.spelled``)
        piece, by = (key, "line") if isinstance(key, Piece) else (lat.pieces[key], "classifier")
        if by != "line" and sum(k == key for k, _, _ in chosen) == 2:  # a pair: its halves
            piece, by = _half(piece, first=n == 0 or chosen[n - 1][0] != key), "pair"
        conf = float(p[digit])
        digits.append(Digit(digit, conf, _box(lat, *piece), conf < min_confidence, tuple(piece), by))
    confidence = 0.0 if off_length or check_failed else float(np.prod([d.confidence for d in digits]))
    measures = evidence(lat.n_nodes, read, keys, s,
                        readings(lat, s.screened) if s.screened is not None else None)
    measures["turned"] = abs(lat.turn.degrees) if lat.turn is not None else 0.0
    if lat.seen is not None:
        measures["photo"], measures["form"] = float(lat.seen.photo), float(lat.seen.form)
    if lead is not None:
        measures["sequence_lead"] = lead
        measures["spelled"] = float(any(isinstance(k, Piece) for k, _, _ in chosen))
    if forced or off_length:  # (not features of the calibration: it caps them, FORCED)
        measures["forced" if forced else "off_length"] = 1.0
    if by_lean:  # (calibration caps it too: PATTERN_CHOICE)
        measures["pattern_choice"] = 1.0
    if relength:  # (and CHECK_LENGTH)
        measures["check_length"] = 1.0
    if check is not None and not off_length:  # (calibration weighs a check kept: CHECK_KEPT_WRONG)
        order = checks.check(check).order  # (DATE_KEPT_WRONG, TIME_KEPT_WRONG)
        said = "check_kept" if order is None else "time_kept" if order == "hm" else "date_kept"
        measures["corrected" if corrected else "check_failed" if check_failed else said] = 1.0
    reading = Reading("".join(str(d.digit) for d in digits), digits, confidence, measures,
                      other_lines=lat.seen is not None and lat.seen.other_lines, line=lat.small)
    if fields is not None:
        seen = {} if off_length else {m.after: m for m in _marks_between(lat, digits)}
        reading.marks = [] if pattern_marks is None else [
            Mark(seen[after].mark if own and after in seen and after not in slashes else mark, after,
                 _slash_box(lat, slashes[after]) if after in slashes
                 else seen[after].box if after in seen else _gap(digits, after))
            for after, mark in pattern_marks]
        reading.text = reading.spelled()
    elif marks:
        reading.marks = _marks_between(lat, digits)
        reading.marks += [m for m in spaces(digits) if all(k.after != m.after for k in reading.marks)]
        reading.marks.sort(key=lambda m: m.after)
        reading.text = reading.spelled()
    return reading


def _marks_between(lat, digits) -> list:
    """The points, commas, colons and dashes between ``digits`` (``segment.marks``), the
    first in each gap, and a minus before the first."""
    centres = [(d.box[0] + d.box[2]) / 2 for d in digits]
    found: list = []
    for m in segment_marks(lat):
        box = _box(lat, m.left, m.right, m.mask)
        after = sum(c < (box[0] + box[2]) / 2 for c in centres)
        # a minus (segment.MINUS_GAP): before the first digit's box, not read as a part of it
        leading = (after == 0 and m.text == "-" and lat.minus is not None and bool(digits)
                   and box[2] <= digits[0].box[0])
        if (0 < after < len(digits) or leading) and all(k.after != after for k in found):
            found.append(Mark(m.text, after, box))
    return found


def _keeping(lat, read, others, check: str, chosen: list, pattern_marks, free: bool):
    """``chosen`` read to keep the rule ``check`` (``checks``; a date's in the groups the
    pattern's marks part it into): (the reading, the keys of a chain of another length read
    instead or None, whether it was mended, whether nothing keeps the rule).

    A reading that keeps the rule stands (its digits need not be the classifier's first
    choices: the sequence reader's may be); else the most probable string that keeps it
    (``checks.best``), or, where the length is ``free`` and the rule a check digit's, a
    chain of one digit fewer or more so mended (``_other_length``: a digit dropped or one
    too many, which no substitution mends)."""
    groups = None if pattern_marks is None else _groups(pattern_marks, chosen)
    if checks.passes(check, sequence.text(chosen), groups):
        return chosen, None, False, False
    mended = checks.best(check, np.array([p for _, _, p in chosen]), groups)
    digit_check = checks.check(check).order is None  # (a date's length is its pattern's)
    other = _other_length(lat, read, others, check, chosen, mended) if free and digit_check else None
    keys = None
    if other is not None:
        chosen, keys, mended = other
    if mended is None:
        return chosen, None, False, True
    return [(key, digit, p) for (key, _, p), digit in zip(chosen, mended[0])], keys, True, False


def _other_length(lat, read, others, check, chosen, mended):
    """Where ``chosen`` breaks the check digit's rule ``check`` (``mended`` by
    ``checks.best``, or None): the reading of one digit fewer or more that keeps it, as
    ``checks.best`` mends it, where that scores better by ``CHECK_LENGTH_COST``: (its
    [(key, digit, probabilities)], its keys, its mended digits); else None. Each is scored
    by its chain's lattice score (``sequence.of_length``) plus ln P of its mended digits
    over its own."""
    def mending(digits, mended) -> float:  # ln P of the mended digits over the chain's own
        return float(sum(np.log(p[m] + 1e-12) - np.log(p[d] + 1e-12)
                         for (_, d, p), m in zip(digits, mended[0])))

    own = sequence.of_length(lat, read, len(chosen), others)
    if own is None:  # (a reading the lattice has no chain of its length for: nothing to weigh)
        return None
    top = -np.inf if mended is None else own[2] + mending(chosen, mended)
    found = None
    for count in (len(chosen) - 1, len(chosen) + 1):
        other = sequence.of_length(lat, read, count, others) if count > 0 else None
        if other is None:
            continue
        digits, keys, score = other
        fixed = (([d for _, d, _ in digits], 1.0) if checks.passes(check, sequence.text(digits))
                 else checks.best(check, np.array([p for _, _, p in digits])))
        if fixed is not None and score + mending(digits, fixed) - CHECK_LENGTH_COST > top:
            top, found = score + mending(digits, fixed) - CHECK_LENGTH_COST, (digits, keys, fixed)
    return found


def _groups(pattern_marks, chosen) -> tuple:
    """The sizes of the groups of digits a pattern's marks part ``chosen`` into: (2, 2, 4)."""
    ends = [0, *(after for after, _ in pattern_marks), len(chosen)]
    return tuple(b - a for a, b in zip(ends, ends[1:]))


def _in_pattern(lat, chosen: list, read: dict, others: dict, fields: list, keeps=lambda digits, marks: True):
    """The reading ``chosen`` fitted to one of a field's patterns (``parse_pattern``):
    (its [(key, digit, probabilities)], the keys of a chain read instead or None, its
    slashes, {digits before: key}, the pattern's marks, and whether the lean of its
    slashes chose it); None where no chain of any pattern's length exists. Of the patterns
    it fits, those in which its digits ``keep`` a date's rule come first.

    A pattern the reading fits as read (``fitted_pattern``) is taken; where several do,
    the one that finds the most of its slashes among the 1s read, then the one whose
    slashes lean the most (``_lean``: "11/5" and "1/15" read alike, 1115). Else the best
    chain of a pattern's length is read (``sequence.of_length``), as for ``length``: with
    the pattern's slashes as 1s where a chain of that many more digits has them, else
    without, the best scoring of the patterns."""
    fits = []
    for length, marks in fields:
        fitted, slashes = fitted_pattern(chosen, marks, length)
        if len(fitted) == length:
            fits.append(((keeps(fitted, marks), len(slashes), sum(_lean(lat, k) for k in slashes.values())),
                         fitted, None, slashes, marks))
    if fits:
        best = max(fits, key=lambda fit: fit[0])
        return (*best[1:], sum(fit[0][:2] == best[0][:2] for fit in fits) > 1)
    for length, marks in fields:
        at = slashes_of(marks)
        more = sequence.of_length(lat, read, length + len(at), others) if at else None
        if more is not None:
            fitted, slashes = fitted_pattern(more[0], marks, length)
            if len(fitted) == length:
                fits.append(((keeps(fitted, marks), 1, more[2]), fitted, more[1], slashes, marks))
        found = sequence.of_length(lat, read, length, others)
        if found is not None:
            fits.append(((keeps(found[0], marks), 0, found[2]), found[0], found[1], {}, marks))
    if not fits:
        return None
    return (*max(fits, key=lambda fit: fit[0])[1:], False)


def _lean(lat, key) -> float:
    """How far the ink of the piece ``key`` leans right from upright, as the columns it
    moves right for each row up (a slash: 0.3-1.2)."""
    left, right, mask = key if isinstance(key, Piece) else lat.pieces[key]
    ink = np.where(mask, lat.small[:, left:right], 0.0)
    total = float(ink.sum())
    if total <= 0:
        return 0.0
    ys, xs = np.indices(ink.shape)
    y, x = ys - (ys * ink).sum() / total, xs - (xs * ink).sum() / total
    return float(-(x * y * ink).sum() / max(float((y * y * ink).sum()), 1e-9))


def slashes_of(pattern_marks) -> list:
    """Where a pattern's slashes stand in a reading that read each as a digit (a 1): the
    index of that digit."""
    return [after + k for k, (after, _) in enumerate(f for f in pattern_marks if f[1] == "/")]


def fitted_pattern(chosen: list, pattern_marks, length: int):
    """``chosen`` (a reading's [(key, digit, probabilities)]) with the 1s that are the
    pattern's slashes taken out, where it holds that many digits more than the pattern and
    a 1 just where each slash is; and {digits before the slash: its key}. Else as it is."""
    at = slashes_of(pattern_marks)
    if not at or len(chosen) != length + len(at) or any(chosen[i][1] != 1 for i in at):
        return chosen, {}
    slashes = {i - k: chosen[i][0] for k, i in enumerate(at)}
    return [c for i, c in enumerate(chosen) if i not in at], slashes


def _slash_box(lat, key) -> tuple:
    piece = key if isinstance(key, Piece) else lat.pieces[key]
    return _box(lat, *piece)


def _gap(digits, after) -> tuple:
    """The box between the digit before a mark and the one after it (a mark the pattern
    says is there and no ink shows)."""
    a, b = digits[after - 1].box, digits[after].box
    return (a[2], min(a[1], b[1]), max(a[2], b[0]), max(a[3], b[3]))


def spaces(digits: list) -> list:
    """The spaces between groups of ``digits`` (SPACE, SPACE_RATIO), as marks whose box is
    the gap's."""
    if len(digits) < 3:
        return []
    boxes = np.array([d.box for d in digits], dtype=np.float64)
    gaps = np.maximum(boxes[1:, 0] - boxes[:-1, 2], 0)
    height = float(np.median(boxes[:, 3] - boxes[:, 1]))
    wide = max(SPACE * height, SPACE_RATIO * float(np.median(gaps)))
    spaces = []
    for k in (int(k) for k in np.flatnonzero(gaps >= wide)):  # (ints: a mark goes to JSON)
        box = (boxes[k, 2], min(boxes[k, 1], boxes[k + 1, 1]), boxes[k + 1, 0],
               max(boxes[k, 3], boxes[k + 1, 3]))
        spaces.append(Mark(" ", k + 1, tuple(int(v) for v in box)))
    return spaces


def _half(piece, first):
    """The left (``first``) or right part of a piece read as two digits: split at its
    column with the least ink in its middle half."""
    left, right, mask = piece
    ink = mask.sum(axis=0)
    w = right - left
    mid = w // 4 + int(np.argmin(ink[w // 4:max(w // 4 + 1, 3 * w // 4)]))
    mid = min(max(mid, 1), w - 1)
    return (left, left + mid, mask[:, :mid]) if first else (left + mid, right, mask[:, mid:])


def _box(lat, left, right, mask):
    """The box (left, top, right, bottom) in the image's pixels of a piece's columns."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        rows = np.arange(mask.shape[0])
    x0, y0 = lat.origin
    box = (x0 + left / lat.scale, y0 + rows[0] / lat.scale, x0 + right / lat.scale,
           y0 + (rows[-1] + 1) / lat.scale)
    if lat.turn is not None:  # the turned box's corners, back in the picture (in the crop turned)
        t = lat.turn
        xs, ys = t.to_image([box[0], box[2], box[2], box[0]], [box[1], box[1], box[3], box[3]])
        box = (max(t.left, xs.min()), max(t.top, ys.min()), min(t.left + t.width, xs.max()),
               min(t.top + t.height, ys.max()))
    return tuple(int(round(v)) for v in box)


def not_a_digit_reader(model):
    """Why ``read`` cannot use ``model`` (it scores pieces by the probabilities of the
    ten digits), e.g. "2 outputs"; None if it can."""
    from ..io import DIGITS, class_names

    if class_names(model) == DIGITS:
        return None
    return (f"{model.n_outputs} outputs" if model.n_outputs != 10
            else "the classes " + ", ".join(class_names(model)))
