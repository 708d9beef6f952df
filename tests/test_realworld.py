"""The held-out benchmark's picture generator (benchmarks/realworld.py): families of
conditions combined."""

import io

import numpy as np
import pytest
from benchmarks import realworld
from PIL import Image, ImageFilter


def _bars():
    """Three 'digits': an upright bar in a 28x28 frame, labelled 1."""
    x = np.zeros((3, 28, 28), np.float32)
    x[:, 4:24, 12:16] = 1.0
    return x.reshape(3, 784), np.ones(3, np.int64)


def test_conditions_combined_are_a_tuned_family_and_a_test_only_one():
    assert "mixed" in realworld.families("validation") and "mixed" in realworld.families("test")
    assert "mixed-hard" in realworld.families("test")
    assert "mixed-hard" not in realworld.families("validation")
    assert not set(realworld.MIXED + realworld.MIXED_TEST_ONLY) & set(realworld.PHOTO_STYLE)


def test_pictures_with_conditions_combined_are_photos_made_the_same_every_time():
    x, y = _bars()
    for family in ("mixed", "mixed-hard"):
        for index in range(4):
            data, label = realworld.make(family, "test", index, x, y)
            assert label == 1
            assert realworld.make(family, "test", index, x, y)[0] == data
            image = Image.open(io.BytesIO(data))
            assert image.format == "JPEG" and min(image.size) >= 100
        assert realworld.make(family, "validation", 0, x, y)[0] != realworld.make(family, "test", 0, x, y)[0]


def test_notebook_pictures_are_phone_photos_made_the_same_every_time():
    from benchmarks import bench_notebook

    assert set(bench_notebook.FAMILIES["validation"]) < set(bench_notebook.FAMILIES["test"])
    assert set(bench_notebook.FROZEN["test"]) == set(bench_notebook.FAMILIES["test"])
    x, y = _bars()
    for family in ("ruled", "cells-number"):
        data, label = bench_notebook.make(family, "test", 0, x, y)
        assert label == 1 if family == "ruled" else set(label) == {"1"} and 3 <= len(label) <= 6
        assert bench_notebook.make(family, "test", 0, x, y)[0] == data
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and image.width >= 900


def test_bench_turned_help_names_its_crops(capsys):
    from benchmarks import bench_turned

    with pytest.raises(SystemExit) as stop:
        bench_turned.main(["--help"])
    assert stop.value.code == 0 and "--crops" in capsys.readouterr().out


def test_turned_pages_are_photos_whose_ruling_is_not_level_made_the_same_every_time():
    from benchmarks import bench_turned

    assert set(bench_turned.FAMILIES["validation"]) < set(bench_turned.FAMILIES["test"])
    assert set(bench_turned.FROZEN["test"]) == set(bench_turned.FAMILIES["test"])
    x, y = _bars()
    for family in ("ruled", "squared-number", "steep", "blank-number"):
        data, label = bench_turned.make(family, "test", 0, x, y)
        assert label == 1 if "-" not in family else set(label) == {"1"} and 2 <= len(label) <= 6
        assert bench_turned.make(family, "test", 0, x, y)[0] == data
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and min(image.size) >= 190
        grey = image.convert("L")
        local = np.asarray(grey.filter(ImageFilter.BoxBlur(8)), np.float32)  # the paper, lit
        lines = np.asarray(grey, np.float32) < local - 6
        # a level line would darken most of a row; a turned one crosses a row in a dash
        assert lines.mean(axis=1).max() < 0.5
        if family != "blank-number":
            assert lines.mean() > 0.01  # the ruling is there, turned


def test_glare_pictures_are_brightened_photos_made_the_same_every_time():
    from benchmarks import bench_glare

    assert set(bench_glare.FAMILIES["validation"]) < set(bench_glare.FAMILIES["test"])
    assert set(bench_glare.FROZEN["test"]) == set(bench_glare.FAMILIES["test"])
    x, y = _bars()
    for family in ("glare", "through-number", "sheen"):
        data, label = bench_glare.make(family, "test", 0, x, y)
        assert label == 1 if "-" not in family else set(label) == {"1"} and 2 <= len(label) <= 6
        assert bench_glare.make(family, "test", 0, x, y)[0] == data
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and min(image.size) >= 190
    rng = np.random.default_rng(0)
    alpha = np.zeros((100, 200), np.float32)
    alpha[40:60, 90:110] = 1.0
    reflection = bench_glare._reflection(rng, alpha, "sheen")
    assert 0.25 <= reflection.max() < 0.6 and reflection.min() < 0.01  # a band, not everywhere


def test_number_errors_makes_the_generators_pictures_with_each_digits_ink_apart():
    # benchmarks/number_errors.py sorts the number errors by what the generator did to the
    # digits: its pictures must be the generator's own, to the bit
    from benchmarks import number_errors

    x, y = _bars()
    x[1] = np.roll(x[1].reshape(28, 28), 5, axis=1).ravel()  # three bars, not all alike
    for family in ("apart", "touching", "num-photo", "num-hard"):
        for index in range(3):
            data, label, rows, own, joined = number_errors.layers(family, "test", index, x, y)
            assert (data, label) == realworld.make(family, "test", index, x, y)
            assert len(rows) == len(own) == len(label) and own.max() <= 1
            assert not joined or family != "apart"
    one = np.zeros((2, 30, 60), np.float32)
    one[:, 5:25, 10:14] = 1.0  # two bars, one drawn over the other
    assert number_errors.visible(one).max() == 0
    one[1] = np.roll(one[1], 30, axis=1)  # apart
    assert number_errors.visible(one).min() == 1
    one[1] = np.roll(one[0], 5, axis=1)  # beside it, a stroke's width away
    assert number_errors.visible(one).max() < 0.5


def test_short_dates_are_real_dates_in_their_pattern_made_the_same_every_time():
    import datetime
    import re
    from types import SimpleNamespace

    from benchmarks import bench_marks

    from digitnet.read.decode import parse_pattern

    x = np.zeros((20, 784), np.float32)
    x.reshape(20, 28, 28)[:, 4:24, 12:16] = 1.0
    split = SimpleNamespace(x=x, y=np.arange(20) % 10)
    made = {name: bench_marks.checksum(bench_marks.short_date_pictures(split, name, 12))
            for name in ("test", "validation")}
    dates = bench_marks.short_date_pictures(split, "test", 12)
    assert bench_marks.checksum(dates) == made["test"] != made["validation"]
    for image, text, digits, pattern in dates:
        day, month, year = text.split("/")
        datetime.date(2000 + int(year[-2:]), int(month), int(day))  # a day of the calendar
        assert digits == text.replace("/", "") and image.mode == "L"
        assert re.fullmatch(r"\d{1,2}/\d{1,2}/(\d\d|\d{4})", text) and pattern.endswith("/" + "d" * len(year))
        assert (len(digits), [(len(day), "/"), (len(day) + len(month), "/")]) in parse_pattern(pattern)
    assert any(len(t.split("/")[0]) == 1 for _, t, _, _ in dates)  # unpadded days are drawn
