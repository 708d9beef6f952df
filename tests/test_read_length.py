"""Numbers of a known length (a postcode, an account number): ``read_number(..., length=N)``,
``digitnet read --length N``, the API's ``length``. A reading of another length is replaced
by the best of N digits, its confidence at most ``calibration.FORCED``; where the lattice
has no chain of N digits the reading stands, its confidence 0."""

import json

import pytest

from digitnet.calibration import FORCED, for_model
from digitnet.cli import main
from digitnet.read import read_number
from test_read import SEVEN_ONE_ZERO, handwritten

FOUR_ZEROS = [("ellipse", [(30 + 72 * i, 40), (110 + 72 * i, 160)]) for i in range(4)]


@pytest.fixture(scope="module")
def model():
    from digitnet.pretrained import resolve_model

    return resolve_model(None)


def test_a_reading_of_the_length_asked_is_the_reading_without_it(model):
    image = handwritten(SEVEN_ONE_ZERO)
    free, known = read_number(image, model), read_number(image, model, length=3)
    assert known.text == free.text == "710" and known.confidence == free.confidence
    assert "forced" not in known.evidence and "off_length" not in known.evidence


def test_a_reading_of_another_length_is_replaced_by_the_best_of_the_length(model):
    image = handwritten(FOUR_ZEROS, size=(450, 200))
    assert read_number(image, model).text == "0000"
    known = read_number(image, model, length=3)
    assert known.text == "000" and len(known.digits) == 3 and known.evidence["forced"] == 1.0
    calibration = for_model(None)
    assert calibration.fitted and 0 < calibration.number_confidence(known) <= FORCED
    assert calibration.reading(known).confidence <= FORCED


def test_where_no_reading_has_the_length_the_answer_stands_at_confidence_0(model):
    known = read_number(handwritten(SEVEN_ONE_ZERO), model, length=7)
    assert known.text == "710" and known.confidence == 0.0 and known.evidence["off_length"] == 1.0
    assert for_model(None).number_confidence(known) == 0.0


def test_the_cli_reads_at_a_length_and_rejects_what_it_cannot(tmp_path, capsys):
    path = tmp_path / "zeros.png"
    handwritten(FOUR_ZEROS, size=(450, 200)).save(path)
    assert main(["read", str(path), "--length", "3", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["text"] == "000" and got["confidence"] <= FORCED and got["rejected"] and got["forced"]
    assert main(["read", str(path), "--length", "7", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["off_length"] and got["confidence"] == 0 and "forced" not in got
    assert main(["read", str(path), "--length", "7"]) == 0
    assert capsys.readouterr().out == f"{path}: rejected: 0000 (0.0%, below 50%); no reading of 7 digits\n"
    assert main(["read", str(path), "--length", "3"]) == 0
    assert capsys.readouterr().out.endswith("; forced to 3 digits\n")
    out = tmp_path / "rows.csv"
    assert main(["read", str(path), "--length", "3", "--out", str(out), "--quiet"]) == 0
    assert out.read_text().splitlines()[1].startswith(f"{path},000,")


@pytest.mark.parametrize("args, message", [
    (["--length", "0"], "--length must be between 1 and 20"),
    (["--length", "3", "--lines"], "--length does not go with --lines"),
])
def test_the_cli_refuses_a_length_it_cannot_use_in_one_line(tmp_path, capsys, args, message):
    path = tmp_path / "zeros.png"
    handwritten(FOUR_ZEROS, size=(450, 200)).save(path)
    assert main(["read", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err


def test_the_api_reads_at_a_length(tmp_path):
    pytest.importorskip("fastapi")
    import io

    from digitnet.web.app import create_app
    from test_web_edges import call, error

    app = create_app()
    buffer = io.BytesIO()
    handwritten(FOUR_ZEROS, size=(450, 200)).save(buffer, format="PNG")
    status, _, body = call(app, "POST", "/api/read?length=3", buffer.getvalue())
    got = json.loads(body)
    assert status == 200 and got["text"] == "000" and got["confidence"] <= FORCED and got["rejected"]
    status, message = error(call(app, "POST", "/api/read?length=0", buffer.getvalue()))
    assert status == 422
    status, message = error(call(app, "POST", "/api/read?length=3&lines=true", buffer.getvalue()))
    assert status == 422 and message.startswith("length does not go with lines")


def test_batch_reads_at_a_length_and_refuses_it_with_lines(tmp_path):
    from digitnet.batch import read_many

    path = tmp_path / "zeros.png"
    handwritten(FOUR_ZEROS, size=(450, 200)).save(path)
    [result] = list(read_many([str(path)], length=3))
    assert result.answer == "000" and result.confidence <= FORCED
    with pytest.raises(ValueError, match="length does not go with lines"):
        list(read_many([str(path)], length=3, lines=True))
