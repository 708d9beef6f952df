"""Check digits (``digitnet.read.checks``) and ``read --check``: a reading that breaks
its number's check digit is mended to the most probable one that keeps it."""

import json
from itertools import product

import numpy as np
import pytest

from digitnet.read.checks import CHECKS, best, check, passes

#: Numbers whose check digits are right, from the rules' own documents and issuers.
VALID = {"luhn": ["79927398713", "4539578763621486", "0"],
         "gtin": ["4006381333931", "036000291452", "96385074"],
         "aba": ["011000015", "021000021", "111000025"], "verhoeff": ["2363", "123451", "0"],
         "mod11": ["9434765919", "4010232137", "0306406152"]}  # NHS numbers, an ISBN-10


@pytest.mark.parametrize("rule", [name for name, rule in CHECKS.items() if rule.order is None])
def test_every_rule_passes_its_numbers_and_catches_one_digit_changed(rule):
    for number in VALID[rule]:
        assert passes(rule, number)
        for k, other in product(range(len(number)), range(1, 10)):  # every digit, every other value
            changed = number[:k] + str((int(number[k]) + other) % 10) + number[k + 1:]
            assert not passes(rule, changed), (number, changed)


def test_verhoeff_catches_every_swap_of_neighbours_and_luhn_nearly_every():
    number = "8473643095121"
    number += next(str(d) for d in range(10) if passes("verhoeff", number + str(d)))
    for k in range(len(number) - 1):
        swapped = number[:k] + number[k + 1] + number[k] + number[k + 2:]
        assert swapped == number or not passes("verhoeff", swapped)
    assert not passes("luhn", "79927398731") and passes("luhn", "79927398713")


def test_aba_and_gtin_take_their_lengths_only_and_an_unknown_rule_is_refused_in_words():
    assert not passes("aba", "0110000150") and best("aba", np.full((8, 10), 0.1)) is None
    assert not passes("gtin", "0") and best("gtin", np.full((10, 10), 0.1)) is None
    assert best("gtin", np.full((12, 10), 0.1)) is not None
    with pytest.raises(ValueError, match=r"one of luhn, gtin, aba, verhoeff, mod11 \(or a date's order: "
                                         r"dmy, mdy, ymd; a time: hm\); not 'mod97'"):
        check("mod97")


def _probabilities(number, sure=0.97):
    p = np.full((len(number), 10), (1 - sure) / 9)
    p[np.arange(len(number)), [int(c) for c in number]] = sure
    return p


def test_the_best_string_is_the_reading_where_it_passes_and_brute_force_agrees():
    p = _probabilities("79927398713")
    digits, chance = best("luhn", p)
    assert "".join(map(str, digits)) == "79927398713" and chance > 0.99
    rng = np.random.default_rng(0)
    for rule in ("luhn", "verhoeff", "mod11"):
        q = rng.dirichlet(np.ones(10) * 0.3, size=4)  # every string of 4 digits weighed
        strings = ["".join(s) for s in product("0123456789", repeat=4)]
        weight = {s: np.prod([q[k, int(c)] for k, c in enumerate(s)]) for s in strings}
        valid = {s: w for s, w in weight.items() if passes(rule, s)}
        top = max(valid, key=valid.get)
        digits, chance = best(rule, q)
        assert "".join(map(str, digits)) == top
        assert chance == pytest.approx(valid[top] / sum(valid.values()))


def test_a_digit_misread_is_mended_by_its_runner_up():
    p = _probabilities("79927398713")
    p[3] = 0.001
    p[3, 8], p[3, 2] = 0.6, 0.39  # the 2 read as an 8, the 2 its runner-up
    digits, chance = best("luhn", p / p.sum(axis=1, keepdims=True))
    # of the strings that pass, this one holds nearly all the weight: the 8 fails
    assert "".join(map(str, digits)) == "79927398713" and 0.9 < chance < 0.99


def test_long_numbers_keep_their_chance_finite():
    p = _probabilities("4539578763621486" * 1)
    p = np.tile(p, (4, 1))[:60]  # sixty digits: the products scaled at each place
    found = best("luhn", p)
    assert found is not None and np.isfinite(found[1]) and 0 < found[1] <= 1


# --- dates -------------------------------------------------------------------------------

def test_a_date_is_a_day_of_the_calendar_in_its_order_and_groups():
    assert passes("dmy", "29022024") and not passes("dmy", "29022023")  # a leap year's day only
    assert not passes("dmy", "29021900") and passes("dmy", "29022000")  # centuries: 400 years
    assert passes("mdy", "12312026") and not passes("dmy", "12312026") and passes("ymd", "20261231")
    assert passes("dmy", "311226") and not passes("dmy", "310426")  # 6 digits: dd mm yy
    assert passes("dmy", "732026", (1, 1, 4)) and not passes("dmy", "732026", (1, 2, 3))
    assert passes("dmy", "0703", (2, 2)) and passes("mdy", "0229", (2, 2))  # no year: any year's
    assert not passes("dmy", "01011899") and not passes("dmy", "01012100")  # (YEARS)
    assert not passes("dmy", "0101") and not passes("dmy", "0711", (1, 3))  # no groups a date has


def test_a_date_with_no_pattern_given_reads_with_its_orders_own():
    from digitnet.read.checks import pattern_of

    assert pattern_of("dmy") == pattern_of("mdy") == "d?d/d?d/dddd|d?d/d?d/dd|d?d/d?d"
    assert pattern_of("ymd") == "dddd/d?d/d?d|dd/d?d/d?d|d?d/d?d" and pattern_of("luhn") is None


def test_a_time_is_a_minute_of_the_24_hour_clock():
    from digitnet.read.checks import pattern_of

    assert passes("hm", "2359") and passes("hm", "730") and passes("hm", "0730")
    assert pattern_of("hm") == "d?d:dd"
    assert not passes("hm", "2400") and not passes("hm", "1260") and not passes("hm", "7300", (1, 3))
    p = _probabilities("1275")  # 12:75, its 7 the runner-up of a 3
    p[2, 3] = 0.02
    assert "".join(map(str, best("hm", p / p.sum(axis=1, keepdims=True))[0])) == "1235"


def test_the_best_date_agrees_with_the_calendar_weighed_day_by_day():
    import datetime

    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(10) * 0.3, size=4)  # d/m/yy
    weight = {}
    for day in range(36525):
        date = datetime.date(2000, 1, 1) + datetime.timedelta(days=day)
        if date.day < 10 and date.month < 10:
            text = f"{date.day}{date.month}{date.year % 100:02d}"
            weight[text] = np.prod([q[k, int(c)] for k, c in enumerate(text)])
    top = max(weight, key=weight.get)
    digits, chance = best("dmy", q, (1, 1, 2))
    assert "".join(map(str, digits)) == top
    assert chance == pytest.approx(weight[top] / sum(weight.values()))


def test_a_date_misread_is_mended_to_the_likeliest_day_and_no_date_is_none():
    p = _probabilities("31042026")  # the 31st of April
    p[1] = 0.001
    p[1, 1], p[1, 0] = 0.7, 0.29  # its 0 the runner-up of the day's second digit
    digits, chance = best("dmy", p / p.sum(axis=1, keepdims=True))
    assert "".join(map(str, digits)) == "30042026" and 0.5 < chance < 1
    assert best("mdy", _probabilities("31042026")) != best("dmy", _probabilities("31042026"))
    assert best("dmy", _probabilities("710")) is None  # three digits write no date
    assert best("dmy", _probabilities("7100"), (1, 3)) is None


# --- read --check -------------------------------------------------------------------------

def _drawn(strokes, tmp_path=None, name="number.png"):
    from test_read import handwritten

    image = handwritten(strokes, size=(300, 200))
    if tmp_path is None:
        return image
    image.save(tmp_path / name)
    return tmp_path / name


def _seven_one(last):
    from test_read import ONE_AT, SEVEN_AT, ZERO_AT

    return [SEVEN_AT(20), ONE_AT(140), ONE_AT(200) if last == 1 else ZERO_AT(180)]


def test_a_reading_that_keeps_its_check_digit_stands_and_one_that_breaks_it_is_mended():
    import digitnet
    from digitnet.calibration import CHECK_KEPT_WRONG

    kept = digitnet.read_number(_drawn(_seven_one(1)), check="luhn")  # 711 passes
    assert kept.text == "711" and "corrected" not in kept.evidence and kept.evidence["check_kept"] == 1.0
    p = digitnet.read_number(_drawn(_seven_one(1))).confidence  # surer for the check kept
    assert p < kept.confidence == pytest.approx(p / (p + (1 - p) * CHECK_KEPT_WRONG))
    broken = digitnet.read_number(_drawn(_seven_one(0)), check="luhn")  # 710 does not
    assert passes("luhn", broken.text) and broken.text != "710" and broken.evidence["corrected"] == 1.0
    changed = [d for d, c in zip(broken.digits, "710") if str(d.digit) != c]
    assert len(changed) == 1 and changed[0].unsure  # the digit mended is the unsure one
    assert broken.confidence < 0.76  # (the README's threshold for 95% of numbers)


def test_a_reading_no_string_of_its_length_can_mend_is_rejected():
    import digitnet

    reading = digitnet.read_number(_drawn(_seven_one(0)), check="gtin")  # gtin: 8, 12 or 13 digits
    assert reading.text == "710" and reading.confidence == 0 and reading.evidence["check_failed"] == 1.0
    nine = digitnet.read_number(_drawn(_seven_one(0)), check="aba")  # aba: nine, as --length 9
    assert nine.text == "710" and nine.confidence == 0 and nine.evidence["off_length"] == 1.0
    with pytest.raises(ValueError, match="the check digit's rule is one of"):
        digitnet.read_number(_drawn(_seven_one(0)), check="isbn")


def test_the_cli_batch_mode_and_the_api_take_a_check(tmp_path, capsys):
    from digitnet.batch import read_many
    from digitnet.cli import main

    path = _drawn(_seven_one(0), tmp_path)
    assert main(["read", str(path), "--check", "luhn", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["corrected"] is True and got["text"] != "710" and got["rejected"] is False
    assert main(["read", str(path), "--check", "gtin"]) == 0
    assert capsys.readouterr().out.endswith("; no reading keeps its gtin check digit\n")
    assert main(["read", str(path), "--check", "aba"]) == 0
    assert capsys.readouterr().out.endswith("; no reading of 9 digits\n")
    for args, message in ((["--check", "isbn"], "--check: the check digit's rule is one of luhn"),
                          (["--check", "luhn", "--lines"], "--check does not go with --lines")):
        assert main(["read", str(path), *args]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and message in err
    [result] = list(read_many([str(path)], check="luhn"))
    assert result.answer == got["text"]
    with pytest.raises(ValueError, match="rule"):
        list(read_many([str(path)], check="isbn"))

    pytest.importorskip("fastapi")
    from digitnet.web.app import create_app
    from test_web_edges import call, error

    app = create_app()
    status, _, body = call(app, "POST", "/api/read?check=luhn", path.read_bytes())
    assert status == 200 and json.loads(body)["corrected"] is True
    status, message = error(call(app, "POST", "/api/read?check=isbn", path.read_bytes()))
    assert status == 422 and "rule" in message


def test_a_date_read_as_one_stands_surer_and_one_that_is_none_is_mended_or_rejected(tmp_path, capsys):
    import digitnet
    from digitnet.calibration import DATE_KEPT_WRONG
    from digitnet.cli import main
    from test_read import handwritten
    from test_read_length import FOUR_ZEROS
    from test_read_pattern import DATE

    image = handwritten(DATE, size=(400, 200))  # 7/10: the 7th of October, or July the 10th
    p = digitnet.read_number(image, pattern="d/dd").confidence
    for order in ("dmy", "mdy"):
        kept = digitnet.read_number(image, pattern="d/dd", check=order)
        assert kept.text == "7/10" and kept.evidence["date_kept"] == 1.0 and "check_kept" not in kept.evidence
        assert p < kept.confidence == pytest.approx(p / (p + (1 - p) * DATE_KEPT_WRONG))
    zeros = handwritten(FOUR_ZEROS, size=(450, 200))
    zeros = digitnet.read_number(zeros, pattern="dd/dd", check="dmy")  # 00/00 is no day
    assert zeros.evidence["corrected"] == 1.0 and passes("dmy", zeros.text.replace("/", ""), (2, 2))
    assert zeros.text[2] == "/" and all(d.unsure for d, c in zip(zeros.digits, "0000") if str(d.digit) != c)
    path = _drawn(_seven_one(0), tmp_path)  # 710, no slash: with no pattern, the rule's own
    assert main(["read", str(path), "--check", "dmy"]) == 0
    assert ": 7/10 (" in capsys.readouterr().out  # (71/0 is no day)
    assert main(["read", str(path), "--check", "dmy", "--length", "3"]) == 0  # three digits: no date
    said = capsys.readouterr().out
    assert said.endswith(": rejected: 710 (0.0%, below 50%); no reading keeps a date (dmy)\n")


def test_of_a_patterns_ways_to_part_the_digits_the_one_that_writes_a_day_is_taken():
    from digitnet.read.decode import _groups, _in_pattern, parse_pattern
    from digitnet.read.sequence import text

    chosen = [((k, k + 1), int(c), _probabilities(c)[0]) for k, c in enumerate("21320")]
    fields = parse_pattern("d?d/d?d/dd")
    for order, spelled in (("dmy", "21/3/20"), ("mdy", "2/13/20")):
        def keeps(digits, marks, order=order):
            return passes(order, text(digits), _groups(marks, digits))
        fitted, _, _, marks, by_lean = _in_pattern(None, chosen, {}, {}, fields, keeps)
        parts = np.split(np.array(list(text(fitted))), [after for after, _ in marks])
        assert "/".join("".join(p) for p in parts) == spelled and not by_lean  # one way writes a day


def test_a_reading_that_keeps_its_rule_stands_though_a_digit_is_not_the_classifiers_first(monkeypatch):
    import digitnet
    from digitnet.read import decode
    from test_read import handwritten
    from test_read_pattern import DATE

    real = decode._decoded

    def doubted(lat, s):  # the 1 of 7/10 read so by the reader of the line, the classifier saying 2
        chosen, *rest = real(lat, s)
        p = np.full(10, 0.01)
        p[1], p[2] = 0.4, 0.52
        return [(k, d, p if d == 1 else q) for k, d, q in chosen], *rest

    monkeypatch.setattr(decode, "_decoded", doubted)
    kept = digitnet.read_number(handwritten(DATE, size=(400, 200)), pattern="d/dd", check="mdy")
    assert kept.text == "7/10" and kept.evidence["date_kept"] == 1.0  # (was "mended" to July the 20th)


def test_a_digit_dropped_is_read_back_where_one_more_keeps_the_check_and_scores_well(monkeypatch):
    from digitnet.read import decode, sequence

    def chain(number, sure=0.97):
        return [((k, k + 1), int(c), p) for k, (c, p) in enumerate(zip(number, _probabilities(number, sure)))]

    chosen = chain("7992739871")  # 79927398713 with its 3 dropped: the check broken
    assert not passes("luhn", "7992739871")
    for score_of_eleven, taken in ((9.0, True), (-30.0, False)):
        chains = {10: (chosen, ["ten"], 10.0), 11: (chain("79927398713"), ["eleven"], score_of_eleven),
                  9: (chain("799273987"), ["nine"], -50.0)}
        monkeypatch.setattr(sequence, "of_length",
                            lambda lat, read, count, others=None, chains=chains: chains.get(count))
        mended = best("luhn", np.array([p for _, _, p in chosen]))
        found = decode._other_length(None, {}, {}, "luhn", chosen, mended)
        # a one-digit mend of the ten costs ln(0.0033 / 0.97), nearly 6: the eleven, a point less sure
        # of its chain and keeping the check as read, is taken
        assert (found is not None and "".join(map(str, found[2][0])) == "79927398713"
                and found[1] == ["eleven"]) == taken


def test_a_reading_read_at_another_length_for_its_check_is_trusted_at_most_check_length(monkeypatch):
    import digitnet
    from digitnet.calibration import CHECK_LENGTH
    from digitnet.read import decode

    def one_more(lat, read, others, check, chosen, mended):  # 710 read as 7104, which keeps luhn
        return [*chosen, chosen[-1]], list(dict.fromkeys(k for k, _, _ in chosen)), ([7, 1, 0, 4], 1.0)

    monkeypatch.setattr(decode, "_other_length", one_more)
    reading = digitnet.read_number(_drawn(_seven_one(0)), check="luhn")
    assert reading.text == "7104" and passes("luhn", "7104")
    assert reading.evidence["corrected"] == reading.evidence["check_length"] == 1.0
    assert 0 < reading.confidence <= CHECK_LENGTH


def test_a_date_read_with_its_rules_own_pattern_keeps_the_marks_written():
    import digitnet
    from test_read import MARKED, handwritten

    dashed = handwritten(MARKED["7-1"], size=(400, 200))
    assert digitnet.read_number(dashed, check="dmy").text == "7-1"  # the 7th of January, as written
    assert digitnet.read_number(dashed, check="dmy", pattern="d/d").text == "7/1"  # the pattern's own
    assert digitnet.read_number(dashed).text == "71"  # (no rule: the dash is no digit)


def test_a_time_read_as_one_is_trusted_by_its_own_weight():
    import digitnet
    from digitnet.calibration import TIME_KEPT_WRONG
    from test_read import MARKED, handwritten

    image = handwritten(MARKED["7:10"], size=(400, 200))
    p = digitnet.read_number(image, pattern="d?d:dd").confidence
    kept = digitnet.read_number(image, check="hm")  # its own pattern, d?d:dd
    assert kept.text == "7:10" and kept.evidence["time_kept"] == 1.0 and "date_kept" not in kept.evidence
    assert p < kept.confidence == pytest.approx(p / (p + (1 - p) * TIME_KEPT_WRONG))


def test_the_api_and_batch_mode_read_a_date_or_a_time_by_its_rule(tmp_path):
    pytest.importorskip("fastapi")
    from digitnet.batch import read_many
    from digitnet.web.app import create_app
    from test_read import MARKED, handwritten
    from test_web_edges import call

    path = tmp_path / "time.png"
    handwritten(MARKED["7:10"], size=(400, 200)).save(path)
    app = create_app()
    for rule, text in (("hm", "7:10"), ("dmy", "7:10")):  # (a colon between a day and a month, kept)
        status, _, body = call(app, "POST", f"/api/read?check={rule}", path.read_bytes())
        assert status == 200 and json.loads(body)["text"] == text
    [result] = list(read_many([str(path)], check="hm"))
    assert result.answer == "7:10"


def test_the_cli_says_a_time_is_what_no_reading_keeps(tmp_path, capsys):
    from digitnet.cli import main

    path = _drawn(_seven_one(0), tmp_path)  # 710 in one group of three: no time
    assert main(["read", str(path), "--check", "hm", "--pattern", "ddd"]) == 0
    assert capsys.readouterr().out.endswith("; no reading keeps a time (hm)\n")
