"""Calibrated confidences: the error measured, the maps fitted, the shipped file, the CLI."""

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import digitnet
from digitnet import calibration
from digitnet.calibration import (
    Calibration,
    Logistic,
    expected_calibration_error,
    fit_temperature,
    number_features,
    reliability,
    scale_temperature,
)
from digitnet.read import Digit, Reading, read_number


def test_expected_calibration_error_worked_by_hand():
    # two answers at 0.9 of which one is right (gap 0.4), two at 0.6 both right (gap 0.4)
    assert expected_calibration_error([0.9, 0.9, 0.6, 0.6], [1, 0, 1, 1]) == pytest.approx(0.4)
    # 0.6 lies on an edge of the 15 bins (9/15): it belongs to the bin below, with 0.58
    assert expected_calibration_error([0.58, 0.6], [1, 0]) == pytest.approx(abs(0.5 - 0.59))
    assert expected_calibration_error([0.75] * 4, [1, 1, 1, 0]) == pytest.approx(0.0)


def test_reliability_bins_hold_every_answer_once():
    rng = np.random.default_rng(0)
    confidence = np.concatenate([[0.0, 1.0, 1 / 15], rng.random(500)])
    edges, mean, accuracy, counts = reliability(confidence, rng.random(503) < 0.5)
    assert len(edges) == 16 and counts.sum() == 503 and counts[0] >= 2 and counts[-1] >= 1
    used = counts > 0
    assert ((edges[:-1][used] <= mean[used]) & (mean[used] <= edges[1:][used])).all()
    assert np.isnan(accuracy[~used]).all()
    with pytest.raises(ValueError):
        reliability([0.5, 0.6], [1])


def test_temperature_scaling_keeps_the_answer_and_is_the_identity_at_one():
    p = np.random.default_rng(1).dirichlet(np.ones(10) * 0.3, size=50)
    for t in (0.5, 1.0, 3.0):
        q = scale_temperature(p, t)
        assert np.allclose(q.sum(axis=1), 1) and (q.argmax(axis=1) == p.argmax(axis=1)).all()
    assert np.allclose(scale_temperature(p, 1.0), p)
    assert (scale_temperature(p, 2.0).max(axis=1) < p.max(axis=1) + 1e-12).all()  # T > 1: less sure


def test_fit_temperature_finds_the_temperature_that_made_a_model_overconfident():
    rng = np.random.default_rng(2)
    z = 2 * rng.standard_normal((20_000, 10))
    true = scale_temperature(np.exp(z), 1.0)
    labels = np.array([rng.choice(10, p=row) for row in true])
    overconfident = scale_temperature(true, 1 / 3)  # logits times 3
    assert fit_temperature(overconfident, labels) == pytest.approx(3.0, rel=0.05)
    assert fit_temperature(true, labels) == pytest.approx(1.0, rel=0.05)


def test_logistic_regression_recovers_the_weights_that_made_the_data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20_000, 2)) * [1.0, 3.0] + [0.0, 5.0]
    y = rng.random(20_000) < calibration.sigmoid(1.5 * x[:, 0] - 0.5 * x[:, 1] + 2.0)
    fitted = Logistic.fit(x, y, l2=0.0)
    assert fitted.weights / fitted.scale == pytest.approx([1.5, -0.5], abs=0.1)
    again = Logistic.from_dict(json.loads(json.dumps(fitted.as_dict())))
    assert np.allclose(again(x[:5]), fitted(x[:5]))


def test_logistic_regression_agrees_with_scikit_learn():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3000, 3))
    y = rng.random(3000) < calibration.sigmoid(x @ [1.0, -2.0, 0.5])
    ours = Logistic.fit(x, y, l2=0.0)
    theirs = linear_model.LogisticRegression(C=1e6, max_iter=1000).fit(x, y)
    assert np.allclose(ours(x), theirs.predict_proba(x)[:, 1], atol=1e-4)


def reading(confidences, boxes):
    digits = [Digit(i, c, box) for i, (c, box) in enumerate(zip(confidences, boxes))]
    return Reading("".join(str(d.digit) for d in digits), digits, float(np.prod(confidences)))


def test_number_features_worked_by_hand():
    r = reading([0.5, 0.9, 0.99], [(0, 0, 10, 20), (8, 0, 18, 20), (30, 0, 50, 40)])
    log_product, lowest, second, n, widest, narrowest, overlaps, spread, *evidence = number_features(r)
    assert log_product == pytest.approx(np.log(0.5 * 0.9 * 0.99))
    assert (lowest, second) == pytest.approx((0.0, np.log(9)))
    assert n == 3 and widest == pytest.approx(1.0) and narrowest == pytest.approx(0.5)
    assert overlaps == pytest.approx(0.5)  # the first two boxes overlap, the last two do not
    assert spread == pytest.approx(np.std([20, 20, 40]) / 20)
    # no evidence: sure of its segmentation, level, on white (not a photo, no form)
    assert evidence == [calibration.MARGIN, 0.0, 0.0, calibration.MARGIN, 0.0, 0.0, 0.0, 0.0]
    assert np.isfinite(number_features(reading([1.0], [(0, 0, 5, 5)]))).all()  # float32's exact 1.0


def test_number_features_read_the_segmentations_evidence():
    r = reading([0.5, 0.9], [(0, 0, 10, 20), (12, 0, 22, 20)])
    r.evidence = {"margin": -40.0, "least_whole": -2.5, "most_several": 0.75, "sequence_lead": 12.5,
                  "turned": 45.0, "photo": 1.0, "form": 1.0, "spelled": 1.0}
    assert list(number_features(r)[-8:]) == [-calibration.MARGIN, -2.5, 0.75, calibration.MARGIN,
                                             calibration.TURNED, 1.0, 1.0, 1.0]  # clipped


def test_a_reading_calibrated_marks_digits_by_their_calibrated_confidence():
    r = reading([0.6, 0.99], [(0, 0, 10, 20), (12, 0, 22, 20)])
    number = Logistic(np.zeros(len(calibration.NUMBER_FEATURES)), 0.0,
                      np.zeros(len(calibration.NUMBER_FEATURES)), np.ones(len(calibration.NUMBER_FEATURES)))
    fitted = Calibration(1.0, number, (1.0, -1.0))  # each digit's logit less 1
    calibrated = fitted.reading(r, min_confidence=0.5)
    assert calibrated.confidence == pytest.approx(0.5) and calibrated.text == r.text
    assert [d.unsure for d in calibrated.digits] == [True, False]  # 0.6 becomes 0.355
    assert calibrated.digits[0].confidence == pytest.approx(calibration.sigmoid(np.log(1.5) - 1))
    assert Calibration().reading(r, 0.7).confidence == r.confidence  # the identity
    assert Calibration.from_dict(json.loads(json.dumps(fitted.as_dict()))).as_dict() == fitted.as_dict()


def test_a_model_not_calibrated_keeps_its_raw_confidences(tmp_path):
    import digitnet

    path = tmp_path / "ensemble.npz"  # the shipped one's name, not its file
    digitnet.save_model(path, digitnet.mlp([784, 10], rng=0))
    assert not calibration.for_model(str(path)).fitted
    p = np.full((1, 10), 0.1)
    assert calibration.for_model(str(path)).digits(p) is p


def test_the_shipped_calibration_is_of_the_shipped_models_as_they_are():
    # a retrained model must be calibrated again: an entry whose file changed is not used
    from digitnet.pretrained import MODELS_DIR

    entries = calibration.load_all()
    assert "ensemble" in entries
    for name, entry in entries.items():
        assert calibration.file_digest(MODELS_DIR / f"{name}.npz") == entry["sha256"], name
        fitted = calibration.for_model(name)
        assert fitted.fitted and 0.2 < fitted.temperature < 5
    assert calibration.for_model(None).fitted  # the default model is the ensemble


def seven_png(path):
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 60), (200, 60), (120, 230)], fill=0, width=18)
    image.save(path)
    return str(path)


def test_predict_reports_unsure_answers_as_rejected(tmp_path, capsys):
    from digitnet.cli import main

    seven = seven_png(tmp_path / "seven.png")
    assert main(["predict", seven, "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "rejected" not in plain and plain["digit"] == 7  # nothing asked, nothing rejected
    assert main(["predict", seven, "--json", "--min-confidence", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["rejected"] is True
    assert main(["predict", seven, "--json", "--min-confidence", "0.01"]) == 0
    assert json.loads(capsys.readouterr().out)["rejected"] is False
    assert main(["predict", seven, "--min-confidence", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"{seven}: rejected: 7 (")
    assert main(["predict", seven, "--min-confidence", "1.5"]) == 2
    assert "--min-confidence must be between 0 and 1" in capsys.readouterr().err


def test_predict_shows_the_calibrated_confidence(tmp_path, capsys):
    from digitnet.cli import main
    from digitnet.data.preprocess import to_mnist
    from digitnet.pretrained import resolve_model

    seven = seven_png(tmp_path / "seven.png")
    raw = resolve_model(None).confidences(to_mnist(seven)[None])
    expected = calibration.for_model(None).digits(raw)[0]
    assert main(["predict", seven, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["confidence"] == pytest.approx(expected.max(), abs=1e-6)
    assert shown["probabilities"] == pytest.approx(expected, abs=1e-5)


def test_read_reports_a_number_below_min_confidence_as_rejected(tmp_path, capsys):
    from digitnet.cli import main

    image = Image.new("L", (360, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(50, 40), (150, 40), (90, 170)], fill=0, width=16)
    draw.line([(260, 30), (260, 170)], fill=0, width=16)
    image.save(tmp_path / "71.png")
    assert main(["read", str(tmp_path / "71.png"), "--json", "--min-confidence", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == "71" and result["rejected"] is True
    assert all(d["unsure"] for d in result["digits"])
    assert main(["read", str(tmp_path / "71.png"), "--json", "--min-confidence", "0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rejected"] is False and 0 < result["confidence"] <= 1


def test_reliability_diagram_is_drawn(tmp_path):
    pytest.importorskip("matplotlib")
    from digitnet import plots

    rng = np.random.default_rng(5)
    confidence = rng.random(300)
    out = plots.reliability([("digits", {"raw": (confidence, rng.random(300) < confidence)})],
                            tmp_path / "reliability.png")
    with Image.open(out) as png:
        assert png.format == "PNG" and png.width > 300


def test_the_calibration_report_takes_digits_alone():
    # `fit_calibration --numbers 0 --photo-numbers 0 --layout-numbers 0` crashed on its
    # empty number sets after printing the digits' errors
    import numpy as np
    from benchmarks.fit_calibration import report

    from digitnet.calibration import Calibration

    p = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    digits = {"as given": (p, np.array([0, 0]), np.array([True, True]))}
    pooled = report(Calibration(), digits, {"composed": ([], [])})
    assert set(pooled["predict"]) == {"raw", "calibrated"} and pooled["read"] == {}


def test_number_errors_counts_acceptance_on_the_calibrated_confidence(tmp_path):
    # benchmarks/number_errors.py counted the numbers "accepted at 0.73" on read_number's raw
    # confidence (the digits' product), not the calibrated one the threshold is given in
    from benchmarks import number_errors

    image = Image.new("L", (360, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(50, 40), (150, 40), (90, 170)], fill=0, width=16)
    draw.line([(260, 30), (260, 170)], fill=0, width=16)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    fitted = calibration.for_model(None)
    raw = read_number(buffer.getvalue(), digitnet.shipped_model())
    text, confidence = number_errors.read_calibrated(buffer.getvalue(), fitted)
    assert text == raw.text == "71"
    assert confidence == pytest.approx(fitted.number_confidence(raw))
    assert abs(confidence - raw.confidence) > 1e-3  # the calibration moves it
    assert number_errors.read_calibrated(b"not a picture", fitted) == ("", 0.0)


def seventy_one_png(path):
    """A PNG of "71": two digits side by side, a number."""
    image = Image.new("L", (360, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(50, 40), (150, 40), (90, 170)], fill=0, width=16)
    draw.line([(260, 30), (260, 170)], fill=0, width=16)
    image.save(path)
    return str(path)


def test_the_python_api_gives_the_confidences_the_command_line_shows(tmp_path, capsys):
    # digitnet.predict, read_number and read_lines gave the raw confidences (the ensemble's
    # average softmax, the digits' product) while the CLI, batch mode and the web API gave
    # the calibrated ones the README's thresholds are stated in
    from digitnet.cli import main

    seven, number = seven_png(tmp_path / "seven.png"), seventy_one_png(tmp_path / "71.png")
    assert main(["predict", seven, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    for model in (None, digitnet.shipped_model()):
        digit, confidence, probabilities = digitnet.predict(seven, model)
        assert digit == shown["digit"] and confidence == pytest.approx(shown["confidence"], abs=1e-6)
        assert probabilities == pytest.approx(shown["probabilities"], abs=1e-5)
    assert main(["read", number, "--json", "--min-confidence", "0.9"]) == 0
    shown = json.loads(capsys.readouterr().out)
    for reading in (digitnet.read_number(number, min_confidence=0.9),
                    digitnet.read_lines(number, min_confidence=0.9)[0]):
        assert reading.text == shown["text"] == "71"
        assert reading.confidence == pytest.approx(shown["confidence"], abs=1e-6)
        assert [d.confidence for d in reading.digits] == pytest.approx(
            [d["confidence"] for d in shown["digits"]], abs=1e-6)
        assert [d.unsure for d in reading.digits] == [d["unsure"] for d in shown["digits"]]
    raw = read_number(number, digitnet.shipped_model())
    assert abs(raw.confidence - shown["confidence"]) > 1e-3  # (so the above could fail)


def test_a_model_of_ones_own_keeps_its_raw_confidences_in_python(tmp_path):
    from digitnet.data.preprocess import to_mnist

    seven = seven_png(tmp_path / "seven.png")
    own = digitnet.mlp([784, 10, 10], rng=0)
    assert digitnet.predict(seven, own).confidence == pytest.approx(
        float(own.confidences(to_mnist(seven)[None])[0].max()), abs=1e-6)
