"""What `pip install .` puts beside the code: every data file of the package (models,
their calibration, the web page) must be named by pyproject.toml's package-data, or an
installed digitnet silently lacks it (calibration.json once was: confidences uncalibrated
and `--min-confidence` thresholds wrong for everyone who did not install editable)."""

from fnmatch import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "digitnet"


def test_every_data_file_of_the_package_is_installed():
    with open(ROOT / "pyproject.toml", "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["digitnet"]
    data = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert "models/calibration.json" in data and "models/ensemble.npz" in data
    missing = [name for name in data if not any(fnmatch(name, pattern) for pattern in patterns)]
    assert not missing, f"not in pyproject.toml's package-data: {missing}"
