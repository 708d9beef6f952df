"""The README runs as written: every command in its ```sh blocks and its tables, and
every ```python block, in a fresh folder, on tiny data where it trains.

Commands are found by parsing the README, so a command added to it is covered without
touching this file; a command of a program this file does not know how to run fails the
test (add it to RUNNERS or NOT_RUN). Substitutions keep it fast: training runs one epoch on
the tiny data set of conftest.py, evaluation reads that data set, the server listens on a
free port of 127.0.0.1. The tables' commands train CNNs and read MNIST: they run with
``pytest -m slow``.
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from digitnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 250
#: Programs the README shows that this test does not run: installing, and the test suite itself.
NOT_RUN = ("pip", "pytest")
#: Commands that read a data set: they get the tiny one.
READS_DATA = ("train", "evaluate", "ensemble", "plot")


def readme():
    return README.read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", readme(), flags=re.M | re.S)


def shell_blocks():
    """Each ```sh block as a list of commands (argument lists, comments dropped)."""
    return [[shlex.split(line, comments=True) for line in block.splitlines()
             if shlex.split(line, comments=True)] for block in blocks("sh")]


def table_commands():
    """The commands in the README's tables (`digitnet ...` or `python -m ...` in a cell)."""
    cells = re.findall(r"^\|.*?\|.*$", readme(), flags=re.M)
    found = [m for row in cells for m in re.findall(r"`((?:digitnet|python -m) [^`]+)`", row)]
    return [shlex.split(command) for command in found]


# --- the pictures and data the README names -------------------------------------------

def draw(path, strokes, width):
    image = Image.new("L", (width, 200), 255)
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        pen.line(stroke, fill=0, width=14)
    image.convert("RGB").save(path)


SEVEN = [[(50, 40), (150, 40), (90, 170)]]
ONE_BESIDE = [[(280, 30), (280, 170)]]


@pytest.fixture
def workspace(tmp_path, tiny_mnist, monkeypatch):
    """A folder holding the pictures the README's commands name, as the current folder."""
    draw(tmp_path / "digit.png", SEVEN, 200)
    draw(tmp_path / "photo.jpg", SEVEN, 200)
    draw(tmp_path / "number.png", SEVEN + ONE_BESIDE, 400)
    draw(tmp_path / "postcode.png", SEVEN + ONE_BESIDE, 400)
    draw(tmp_path / "card.png", SEVEN + ONE_BESIDE, 400)
    (tmp_path / "pictures").mkdir()
    draw(tmp_path / "pictures" / "a.png", SEVEN, 200)
    draw(tmp_path / "pictures" / "b.png", SEVEN + ONE_BESIDE, 400)
    pages = [Image.open(tmp_path / name).convert("L") for name in ("number.png", "digit.png")]
    pages[0].save(tmp_path / "forms.tif", save_all=True, append_images=pages[1:])  # a scanner's
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- running one command --------------------------------------------------------------

def fast(argv, data):
    """``digitnet ...`` arguments with the substitutions that keep the test fast."""
    argv = list(argv[1:])
    if argv[0] in READS_DATA:
        if "--data" in argv:
            argv[argv.index("--data") + 1] = str(data)
        else:
            argv += ["--data", str(data)]
    if argv[0] == "train":
        if "--epochs" in argv:
            argv[argv.index("--epochs") + 1] = "1"
        else:
            argv += ["--epochs", "1"]
    return argv


def run_digitnet(argv, data, capsys):
    code = main(fast(argv, data))
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, f"{shlex.join(argv)}: exit {code}\n{out}\n{err}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``digitnet serve`` as the README starts it, on a free port, until stopped."""

    def __init__(self, argv):
        self.port = free_port()
        self.log = Path(f"serve-{self.port}.log")  # in the workspace
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "digitnet", *argv[1:], "--port", str(self.port)],
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/api/model", timeout=2) as answer:
                    assert answer.status == 200
                    return
            except OSError:
                assert self.process.poll() is None, f"digitnet serve stopped: {self.log.read_text()}"
                time.sleep(0.2)
        self.stop()
        raise AssertionError("digitnet serve did not answer within 60 s")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def run_curl(argv, server):
    assert server is not None, f"{shlex.join(argv)}: no `digitnet serve` before it in its block"
    argv = [a.replace("http://127.0.0.1:8000", server.url) for a in argv]
    done = subprocess.run([*argv, "--silent", "--show-error", "--fail"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr}"
    assert "error" not in json.loads(done.stdout)


# --- the tests ------------------------------------------------------------------------

def test_the_readme_is_short_and_has_no_dates_or_development_paths():
    text = readme()
    assert len(text.splitlines()) <= MAX_LINES
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "dates belong in CHANGELOG.md or docs/"
    assert "../" not in text, "a path of the development workspace"


def test_the_readme_shows_commands_and_this_test_finds_them():
    names = {argv[1] for block in shell_blocks() for argv in block if argv[0] == "digitnet"}
    assert {"train", "predict", "read", "serve", "evaluate", "info", "export"} <= names
    assert len(blocks("python")) >= 2 and len(table_commands()) >= 5


def test_every_shell_block_of_the_readme_runs(workspace, tiny_mnist, capsys):
    if any(argv[0] == "curl" for block in shell_blocks() for argv in block):
        if subprocess.run(["sh", "-c", "command -v curl"], capture_output=True).returncode:
            pytest.skip("curl is not installed")
    for block in shell_blocks():
        server = None
        try:
            for argv in block:
                if argv[0] in NOT_RUN:
                    continue
                if argv[:2] == ["digitnet", "serve"]:
                    server = Server(argv[:-1] if argv[-1] == "&" else argv)
                elif argv[0] == "digitnet":
                    run_digitnet(argv, tiny_mnist, capsys)
                elif argv[0] == "curl":
                    run_curl(argv, server)
                else:
                    pytest.fail(f"the README shows `{shlex.join(argv)}`: teach test_readme.py to run it")
        finally:
            if server is not None:
                server.stop()


@pytest.mark.slow  # the results table trains CNNs: one epoch each, still half a minute
def test_every_digitnet_command_of_the_readme_tables_runs(workspace, tiny_mnist, capsys):
    for argv in table_commands():
        if argv[0] == "digitnet":
            run_digitnet(argv, tiny_mnist, capsys)


@pytest.mark.slow
def test_every_benchmark_command_of_the_readme_tables_runs(workspace):
    """``python -m benchmarks...`` on fewer digits and numbers; they read MNIST's test set."""
    if not os.environ.get("DIGITNET_DATA"):
        pytest.skip("set DIGITNET_DATA to the MNIST folder")
    commands = [argv for argv in table_commands() if argv[0] == "python"]
    assert commands
    for argv in commands:
        argv = [*(a if a != "5000" else "4" for a in argv), "--digits", "20"]
        if "--numbers" not in argv:
            argv += ["--numbers", "4"]
        done = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr}"


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_every_python_block_of_the_readme_runs(workspace, tiny_mnist, index):
    source = re.sub(r"\bepochs=\d+", "epochs=1", blocks("python")[index])
    done = subprocess.run([sys.executable, "-c", source], cwd=workspace, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "DIGITNET_DATA": str(tiny_mnist),
                               "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, f"README python block {index}:\n{source}\n{done.stderr}"
