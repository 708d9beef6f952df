"""Edge cases of the command line: each a user mistake or odd input that once ended in a
traceback, a wrong answer or a clobbered file."""


import numpy as np
import pytest

from digitnet.data import formats
from digitnet.errors import DataError
from test_cli import run


def csv_text(rows, label=True):
    return "".join(("1," if label else "") + ",".join(map(str, row)) + "\n" for row in rows)


def bar_rows(n=3):
    rows = np.zeros((n, 784), np.int64)
    for i in range(n):
        rows[i, 28 * (4 + 2 * i): 28 * (4 + 2 * i) + 20] = 255
    return rows.tolist()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_csv_pixels_must_be_finite(tmp_path, capsys, value):
    # "nan" passed float() and the 0-255 check: predict said "0 (nan%)", --json printed NaN,
    # train stopped with a misleading divergence message
    rows = bar_rows(3)
    rows[1][5] = value
    (tmp_path / "bad.csv").write_text(csv_text(rows))
    for read in (formats.read_csv, formats.read_pixels_csv):
        with pytest.raises(DataError, match="line 2 holds a value that is not a finite number"):
            read(tmp_path / "bad.csv")
    code, out, err = run(capsys, "predict", tmp_path / "bad.csv", "--json")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "line 2" in err


def test_csv_blank_lines_are_skipped_by_train_and_predict_alike(tmp_path, capsys):
    # predict read a file ending in blank lines; train said "row 101 has 0 values"
    rows = bar_rows(3)
    (tmp_path / "gz.csv").write_text(csv_text(rows[:2]) + "\n  \n" + csv_text(rows[2:]) + "\n\n")
    x, labels, classes = formats.read_csv(tmp_path / "gz.csv")
    assert x.shape == (3, 784) and classes == ["1"]
    assert formats.read_pixels_csv(tmp_path / "gz.csv").shape == (3, 784)
    (tmp_path / "short.csv").write_text(csv_text(rows[:1]) + "\n1,2,3\n")
    with pytest.raises(DataError, match="line 3 has 3 values"):
        formats.read_csv(tmp_path / "short.csv")
