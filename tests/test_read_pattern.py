"""A field's pattern ("dd/dd/dddd", "dd:dd"): ``read_number(..., pattern=P)``, ``digitnet
read --pattern P``, the API's ``pattern``, batch mode's. The number is read as with
``length`` (the pattern's digits) and written in the pattern; a slash, which every reader
here reads as a 1, is taken for the pattern's slash where a 1 stands just there."""

import json
import re

import pytest

from digitnet.calibration import FORCED, PATTERN_CHOICE
from digitnet.cli import main
from digitnet.read import read_number
from digitnet.read.decode import parse_pattern
from test_read import MARKED, ONE_AT, SEVEN_AT, SEVEN_ONE_ZERO, ZERO_AT, handwritten
from test_read_length import FOUR_ZEROS

SLASH = ("line", [(115, 165), (175, 30)])
DATE = [SEVEN_AT(20), SLASH, ONE_AT(230), ZERO_AT(270)]  # 7/10


@pytest.fixture(scope="module")
def model():
    from digitnet.pretrained import resolve_model

    return resolve_model(None)


def test_patterns_are_parsed_into_their_marks_and_bad_ones_refused_in_words():
    assert parse_pattern("dd/dd/dddd") == [(8, [(2, "/"), (4, "/")])]
    assert parse_pattern("d,ddd.dd") == [(6, [(1, ","), (4, ".")])] and parse_pattern("d") == [(1, [])]
    for bad in ("", "dd/", "/dd", "dd//dd", "dd x dd", "d" * 21, "dd_dd"):
        with pytest.raises(ValueError, match="pattern"):
            parse_pattern(bad)


def test_a_digit_that_may_be_missing_and_choices_of_patterns_are_spelled_out():
    assert parse_pattern("d?d/d?d") == [(4, [(2, "/")]), (3, [(1, "/")]), (3, [(2, "/")]), (2, [(1, "/")])]
    assert parse_pattern("ddddd|ddddd-dddd") == [(5, []), (9, [(5, "-")])]
    assert parse_pattern("d?d?d|dd") == [(3, []), (2, []), (1, [])]  # each pattern once
    for bad, said in (("?d", "a ? follows a d"), ("d??", "a ? follows a d"), ("/d?", "pattern"),
                      ("d|", "allows ''"), ("d?/dd", "allows '/dd'"), ("d?-" * 6 + "d", "more than 32")):
        with pytest.raises(ValueError, match=re.escape(said)):
            parse_pattern(bad)


def test_a_slash_read_as_a_1_is_the_patterns_slash(model):
    image = handwritten(DATE, size=(400, 200))
    assert read_number(image, model).text == "7110"  # (what every reader sees)
    reading = read_number(image, model, pattern="d/dd")
    assert reading.text == "7/10" and [d.digit for d in reading.digits] == [7, 1, 0]
    (mark,) = reading.marks
    assert mark.mark == "/" and mark.after == 1 and 100 <= mark.box[0] < mark.box[2] <= 200
    assert "forced" not in reading.evidence
    # a pattern without the slash: four pieces, no chain of three digits: rejected
    assert read_number(image, model, pattern="ddd").confidence == 0


DAY_FIRST = [SEVEN_AT(20), ONE_AT(130), ("line", [(175, 165), (235, 30)]), ZERO_AT(280)]  # 71/0


def test_of_the_patterns_a_reading_fits_the_one_whose_slashes_lean_most_is_taken(model):
    # 7, 1, slash, 0 and 7, slash, 1, 0 both read 7110; d?d/d?d allows 71/0 and 7/10
    for image, text in ((handwritten(DAY_FIRST, size=(420, 200)), "71/0"),
                        (handwritten(DATE, size=(400, 200)), "7/10")):
        assert read_number(image, model).text == "7110"
        reading = read_number(image, model, pattern="d?d/d?d")
        assert reading.text == text and "forced" not in reading.evidence


def test_a_reading_whose_pattern_the_lean_chose_is_trusted_at_most_pattern_choice(model):
    import digitnet

    image = handwritten(DAY_FIRST, size=(420, 200))
    assert read_number(image, model, pattern="d?d/d?d").evidence["pattern_choice"] == 1.0
    assert digitnet.read_number(image, pattern="d?d/d?d").confidence == PATTERN_CHOICE
    one = digitnet.read_number(image, pattern="dd/d")  # one pattern: nothing chosen
    assert one.text == "71/0" and "pattern_choice" not in one.evidence and one.confidence > 0.95


def test_of_several_patterns_the_one_read_is_taken_else_the_best_chain_of_their_lengths(model):
    zeros = handwritten(FOUR_ZEROS, size=(450, 200))
    assert read_number(zeros, model, pattern="ddd|dddd").text == "0000"
    forced = read_number(zeros, model, pattern="ddd|ddddd|dddddd")
    assert forced.text in ("000", "00000") and forced.evidence["forced"] == 1.0


def test_marks_found_or_not_are_written_where_the_pattern_has_them(model):
    time = read_number(handwritten(MARKED["7:10"], size=(400, 200)), model, pattern="d:dd")
    assert time.text == "7:10" and time.marks[0].box[0] > 100  # the colon's own box
    plain = read_number(handwritten(SEVEN_ONE_ZERO), model, pattern="d-dd")  # no dash written
    assert plain.text == "7-10" and plain.marks[0].after == 1


def test_a_reading_of_another_length_is_forced_into_the_pattern_or_rejected(model):
    zeros = read_number(handwritten(FOUR_ZEROS, size=(450, 200)), model, pattern="dd/d")
    assert zeros.text == "00/0" and zeros.evidence["forced"] == 1.0
    none = read_number(handwritten(SEVEN_ONE_ZERO), model, pattern="ddd-dddd")
    assert none.text == "710" and none.confidence == 0 and none.marks == []
    with pytest.raises(ValueError, match="length does not go with pattern"):
        read_number(handwritten(SEVEN_ONE_ZERO), model, pattern="ddd", length=3)


def test_the_cli_reads_a_pattern_and_refuses_a_bad_one_in_one_line(tmp_path, capsys):
    path = tmp_path / "date.png"
    handwritten(DATE, size=(400, 200)).save(path)
    assert main(["read", str(path), "--pattern", "d/dd", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["text"] == "7/10" and [m["mark"] for m in got["marks"]] == ["/"] and not got["rejected"]
    assert main(["read", str(path), "--pattern", "d?d/d?d|dddd"]) == 0
    assert ": 7/10 (85.0%)" in capsys.readouterr().out  # chosen by the lean: PATTERN_CHOICE
    zeros = tmp_path / "zeros.png"
    handwritten(FOUR_ZEROS, size=(450, 200)).save(zeros)
    assert main(["read", str(zeros), "--pattern", "dd/d"]) == 0
    assert capsys.readouterr().out.endswith("; forced to the pattern dd/d\n")
    out = tmp_path / "rows.csv"
    assert main(["read", str(path), "--pattern", "d/dd", "--out", str(out), "--quiet"]) == 0
    assert out.read_text().splitlines()[1].startswith(f"{path},7/10,")
    for args, message in ((["--pattern", "dd/"], "--pattern: a pattern has 1 to 20 digits"),
                          (["--pattern", "d??/dd"], "--pattern: a ? follows a d"),
                          (["--pattern", "d/dd", "--length", "3"], "--pattern does not go with --length"),
                          (["--pattern", "d/dd", "--lines"], "--pattern does not go with --lines")):
        assert main(["read", str(path), *args]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and message in err


def test_the_api_and_batch_mode_read_a_pattern(tmp_path):
    from digitnet.batch import read_many

    path = tmp_path / "date.png"
    handwritten(DATE, size=(400, 200)).save(path)
    [result] = list(read_many([str(path)], pattern="d/dd"))
    assert result.answer == "7/10"
    [result] = list(read_many([str(path)], pattern="d?d/d?d"))
    assert result.answer == "7/10" and result.confidence == PATTERN_CHOICE
    with pytest.raises(ValueError, match="pattern"):
        list(read_many([str(path)], pattern="d//d"))
    zeros = tmp_path / "zeros.png"
    handwritten(FOUR_ZEROS, size=(450, 200)).save(zeros)
    [result] = list(read_many([str(zeros)], pattern="dd/d"))
    assert result.answer == "00/0" and result.confidence <= FORCED

    pytest.importorskip("fastapi")
    from digitnet.web.app import create_app
    from test_web_edges import call, error

    app = create_app()
    status, _, body = call(app, "POST", "/api/read?pattern=d/dd", path.read_bytes())
    assert status == 200 and json.loads(body)["text"] == "7/10"
    status, _, body = call(app, "POST", "/api/read?pattern=d%3Fd/d%3Fd%7Cdddddd", path.read_bytes())
    assert status == 200 and json.loads(body)["text"] == "7/10"  # d?d/d?d|dddddd
    status, message = error(call(app, "POST", "/api/read?pattern=d//d", path.read_bytes()))
    assert status == 422 and "pattern" in message
    status, message = error(call(app, "POST", "/api/read?pattern=d/dd&length=3", path.read_bytes()))
    assert status == 422 and message.startswith("pattern does not go with")
