"""Batch mode: inputs of every kind, rows for what cannot be read, the same answers
for any number of jobs, and outputs that survive a crash."""

import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet.batch import predict_many, read_many
from digitnet.batch.sources import expand
from test_calibration import seventy_one_png
from test_cli import run

MODEL = "cnn"  # the small shipped model: fast


def picture(rng):
    """A 28x28 PNG of a random thick stroke, dark ink on white paper."""
    grey = np.full((28, 28), 255, np.uint8)
    top, left = rng.integers(4, 10, 2)
    kind = rng.integers(0, 3)
    if kind == 0:
        grey[top:top + 16, left + 6:left + 9] = 0
    elif kind == 1:
        grey[top:top + 3, left:left + 12] = 0
        grey[top:top + 16, left + 9:left + 12] = 0
    else:
        grey[top:top + 14, left:left + 3] = 0
        grey[top:top + 14, left + 9:left + 12] = 0
        grey[top:top + 3, left:left + 12] = 0
        grey[top + 11:top + 14, left:left + 12] = 0
    buffer = io.BytesIO()
    Image.fromarray(grey, "L").save(buffer, format="PNG")
    return buffer.getvalue()


def pictures(folder, n, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{i:04d}.png"
        path.write_bytes(picture(rng))
        paths.append(str(path))
    return paths


def rows(text):
    return [json.loads(line) for line in text.splitlines()]


def test_every_kind_of_input_is_expanded(tmp_path):
    paths = pictures(tmp_path / "scans" / "sub", 3)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.write(paths[0], "in/x.png")
        z.writestr("notes.txt", "not a picture")
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as t:
        t.add(paths[1], "y.png")
    (tmp_path / "list.txt").write_text(f"{paths[2]}\n\n{tmp_path}/a.zip/in/x.png\n")
    names = [i.name for i in expand([str(tmp_path / "scans"), str(tmp_path / "a.zip"),
                                     str(tmp_path / "b.tar.gz"), str(tmp_path / "scans/*/0001.png")],
                                    files_from=str(tmp_path / "list.txt"))]
    assert names == paths + [f"{tmp_path}/a.zip/in/x.png", f"{tmp_path}/b.tar.gz/y.png", paths[1],
                             paths[2], f"{tmp_path}/a.zip/in/x.png"]


def test_fsspec_urls_local_and_memory(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    paths = pictures(tmp_path / "scans", 2)
    memory = fsspec.filesystem("memory")
    memory.pipe("/volume-test/one.png", Path(paths[0]).read_bytes())
    inputs = list(expand([f"file://{tmp_path}/scans", "memory://volume-test/*.png",
                          "memory://volume-test/missing.png"]))
    assert [i.name for i in inputs[:3]] == [f"file://{paths[0]}", f"file://{paths[1]}",
                                            "memory:///volume-test/one.png"]
    assert inputs[2].data == Path(paths[0]).read_bytes()
    results = list(predict_many(inputs, MODEL))
    assert [r.error is None for r in results] == [True, True, True, False]
    # the same picture, at two rows of one batch: BLAS may round the rows differently
    np.testing.assert_allclose(results[0].probabilities, results[2].probabilities, rtol=1e-4, atol=1e-7)
    assert "no such file" in results[3].error


def test_paths_bytes_and_arrays_give_the_same_answers(tmp_path):
    import digitnet

    paths = pictures(tmp_path, 5)
    arrays = [digitnet.to_mnist(p) for p in paths]
    by_path = list(predict_many(paths, MODEL, shortcut=None))
    by_bytes = list(predict_many([Path(p).read_bytes() for p in paths], MODEL, shortcut=None))
    by_array = list(predict_many(arrays, MODEL, shortcut=None))
    assert [r.answer for r in by_path] == [r.answer for r in by_bytes] == [r.answer for r in by_array]
    assert [r.path for r in by_bytes] == [f"<bytes {i}>" for i in range(5)]
    model = digitnet.load_model("src/digitnet/models/cnn.npz")
    assert [r.answer for r in by_path] == [str(digitnet.predict(p, model).digit) for p in paths]
    assert by_path[0].probabilities.tolist() == by_bytes[0].probabilities.tolist()


@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_same_bits_from_one_job_and_two(tmp_path, monkeypatch, start):
    import multiprocessing

    from digitnet.batch import runner

    paths = pictures(tmp_path, 40)
    paths.insert(7, str(tmp_path / "missing.png"))
    one = list(predict_many(paths, MODEL, jobs=1, batch_size=16))
    monkeypatch.setattr(runner, "start_method", lambda: multiprocessing.get_context(start))
    two = list(predict_many(paths, MODEL, jobs=2, batch_size=16))
    assert [r.row() for r in one] == [r.row() for r in two]
    assert all(a.probabilities.tobytes() == b.probabilities.tobytes() for a, b in zip(one, two)
               if a.error is None)
    assert one[7].error.endswith("no such file") and one[7].answer is None


@pytest.mark.skipif(sys.platform != "linux", reason="workers are copies of the process on Linux only")
def test_workers_are_copies_of_the_process_only_without_other_threads(monkeypatch):
    import threading

    from digitnet.batch import runner

    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert runner.start_method().get_start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # a progress bar's, fsspec's
    assert runner.start_method().get_start_method() == "forkserver"


def test_bad_inputs_are_rows_and_the_run_goes_on(tmp_path, capsys):
    paths = pictures(tmp_path / "scans", 2)
    (tmp_path / "scans" / "broken.png").write_bytes(b"not a png")
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.write(paths[0], "x.png")
    Image.new("L", (28, 28), 255).save(tmp_path / "blank.png")
    code, out, err = run(capsys, "predict", "--model", MODEL, "--jobs", 1, tmp_path / "scans",
                         tmp_path / "a.zip/missing.png", "nosuchprotocol://bucket/x.png",
                         tmp_path / "blank.png")
    got = {r["path"]: r for r in rows(out)}
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "5 inputs" not in err and "6 inputs" in err and "2 answered, 1 with no digit, 3 unreadable" in err
    assert "not a readable image" in got[str(tmp_path / "scans" / "broken.png")]["error"]
    assert got[f"{tmp_path}/a.zip/missing.png"]["error"] == f"{tmp_path}/a.zip: no member missing.png"
    assert "nosuchprotocol" in got["nosuchprotocol://bucket/x.png"]["error"]
    assert got[str(tmp_path / "blank.png")]["error"].startswith("no digit found")
    assert got[paths[0]]["answer"] in list("0123456789") and got[paths[0]]["error"] is None


def test_one_line_errors(tmp_path, capsys):
    pictures(tmp_path / "scans", 1)
    for argv, message in [
        (["--resume"], "--resume needs --out FILE"),
        (["--json", "--jobs", "1"], "--json does not go with batch mode"),
        (["--format", "parquet"], "Parquet is written to a folder"),
    ]:
        code, out, err = run(capsys, "predict", "--model", MODEL, tmp_path / "scans", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err


def test_an_existing_output_is_resumed_not_overwritten(tmp_path, capsys):
    paths = pictures(tmp_path / "scans", 6)
    out = tmp_path / "rows.jsonl"
    first = rows(run(capsys, "predict", "--model", MODEL, "--jobs", 1, *paths[:4], "--format", "jsonl")[1])
    # two rows written, the third torn by a crash mid-write
    out.write_text("".join(json.dumps(r) + "\n" for r in first[:2]) + json.dumps(first[2])[:30])
    code, _, err = run(capsys, "predict", "--model", MODEL, tmp_path / "scans", "--out", out, "--jobs", 1)
    assert code == 2 and "--resume goes on with it" in err
    code, _, err = run(capsys, "predict", "--model", MODEL, tmp_path / "scans", "--out", out, "--resume")
    assert code == 0 and "2 skipped" in err
    assert [r["path"] for r in rows(out.read_text())] == paths[:2] + paths[2:]
    assert rows(out.read_text())[:4] == first


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_resume(tmp_path, capsys, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    paths = pictures(tmp_path / "scans", 5)
    out = tmp_path / f"rows{suffix}"
    assert run(capsys, "predict", "--model", MODEL, *paths[:2], "--out", out, "--jobs", 1)[0] == 0
    assert run(capsys, "predict", "--model", MODEL, *paths, "--out", out, "--resume")[0] == 0
    if suffix == ".csv":
        import csv

        got = list(csv.DictReader(io.StringIO(out.read_text())))
    else:
        import pyarrow.parquet as pq

        got = pq.read_table(out).to_pylist()
        assert sorted(p.name for p in out.iterdir()) == ["part-000000.parquet", "part-000001.parquet"]
    assert sorted(r["path"] for r in got) == paths


def test_read_in_batch_mode(tmp_path, capsys):
    paths = pictures(tmp_path, 3)
    code, out, err = run(capsys, "read", "--model", MODEL, *paths, "--jobs", 1, "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "path,answer,confidence,error"
    results = list(read_many(paths, MODEL))
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == [r.answer for r in results]
    assert all(r.answer and r.answer.isdigit() for r in results)


@pytest.mark.parametrize("kind", ["predict", "read"])
def test_results_sent_back_as_columns_are_the_results(tmp_path, kind):
    from digitnet.batch import Task, as_inputs
    from digitnet.batch.runner import packed_chunk, unpacked
    from digitnet.batch.work import run_chunk

    paths = pictures(tmp_path, 4) + [seventy_one_png(tmp_path / "71.png")]
    paths.insert(1, str(tmp_path / "missing.png"))
    piece = list(as_inputs(paths))
    task = Task(kind, MODEL)
    here, sent = run_chunk(task, piece), unpacked(piece, packed_chunk(task, piece))
    assert [r.row() for r in sent] == [r.row() for r in here] and sent[1].error
    assert [r.several for r in sent] == [r.several for r in here] == [False] * 5 + [kind == "predict"]
    assert [None if r.probabilities is None else r.probabilities.tobytes() for r in sent] == [
        None if r.probabilities is None else r.probabilities.tobytes() for r in here]
    assert (kind == "predict") == (here[0].probabilities is not None)


def test_a_number_given_to_predict_in_batch_mode_is_told(tmp_path, capsys):
    # `digitnet predict number.png` says the picture looks like several digits; batch mode
    # answered such pictures with one digit and said nothing
    paths = pictures(tmp_path, 2)
    number = seventy_one_png(tmp_path / "71.png")
    code, out, err = run(capsys, "predict", "--model", MODEL, *paths, number, "--out", tmp_path / "a.jsonl")
    assert code == 0
    assert f"digitnet: 1 look like several digits side by side (the first: {number}); " in err
    assert [r.several for r in predict_many([*paths, number], MODEL)] == [False, False, True]
    code, out, err = run(capsys, "predict", "--model", MODEL, *paths, "--out", tmp_path / "b.jsonl")
    assert code == 0 and "several" not in err
    digits = np.stack([np.asarray(Image.open(p), np.float32).reshape(784) for p in paths])
    assert not any(r.several for r in predict_many(list(255 - digits), MODEL))  # arrays: digits


def test_a_handful_of_files_print_as_before(tmp_path, capsys):
    paths = pictures(tmp_path, 2)
    code, out, err = run(capsys, "predict", "--model", MODEL, *paths)
    assert code == 0 and err == ""
    assert all(line.startswith(p + ": ") for line, p in zip(out.splitlines(), paths))


def test_kill_9_in_the_middle_then_resume_answers_every_input_once(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    paths = pictures(tmp_path / "scans", 120)
    out = tmp_path / "rows.jsonl"
    argv = [sys.executable, "-m", "digitnet", "read", "--model", MODEL, str(tmp_path / "scans"),
            "--out", str(out), "--jobs", "2", "--quiet"]
    process = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
    while process.poll() is None and (not out.exists() or out.read_bytes().count(b"\n") < 8):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = out.read_bytes().count(b"\n")
    assert 8 <= before < len(paths), "killed too late to test anything"
    done = subprocess.run(argv + ["--resume"], stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(r["path"] for r in rows(out.read_text())) == paths
    assert f"{before:,} skipped" in done.stderr or before < out.read_text().count("\n")


def test_an_unforeseen_failure_is_that_input_s_row(tmp_path, monkeypatch):
    from digitnet.batch import work

    paths = pictures(tmp_path, 3)

    def prepare_seen(data):
        if data == paths[1]:
            raise ZeroDivisionError("division by zero")
        return real(data)

    real = work.prepare_seen
    monkeypatch.setattr(work, "prepare_seen", prepare_seen)
    monkeypatch.setattr(work.clean, "decode", lambda data: None)  # each the usual way
    results = list(predict_many(paths, MODEL))
    assert [r.error is None for r in results] == [True, False, True]
    assert results[1].error == f"{paths[1]}: cannot read it: ZeroDivisionError: division by zero"


def test_a_failure_of_the_cheap_path_costs_no_answer(tmp_path, monkeypatch):
    from digitnet.batch import clean

    paths = pictures(tmp_path, 3)
    expected = list(predict_many(paths, MODEL))

    def broken(grey):
        raise IndexError("a flaw")

    monkeypatch.setattr(clean, "soft_ink", broken)
    assert list(predict_many(paths, MODEL)) == expected
    assert all(r.error is None for r in expected)


def test_names_from_standard_input_and_a_tar_member(tmp_path, capsys, monkeypatch):
    paths = pictures(tmp_path / "scans", 2)
    with tarfile.open(tmp_path / "b.tar", "w") as t:
        t.add(paths[0], "in/y.png")
    names = [paths[1], f"{tmp_path}/b.tar/in/y.png", f"{tmp_path}/b.tar/no.png"]
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(n + "\n" for n in names)))
    code, out, err = run(capsys, "predict", "--model", MODEL, "--files-from", "-", "--jobs", 1)
    got = rows(out)
    assert code == 2 and [r["path"] for r in got] == names
    assert got[1]["answer"] is not None and got[2]["error"] == f"{tmp_path}/b.tar: no member no.png"


def test_dask_pyarrow_and_fsspec_are_imported_only_when_used(tmp_path):
    import subprocess
    import sys

    paths = pictures(tmp_path, 2)
    code = ("import sys; from digitnet.batch import predict_many; from digitnet.cli import main; "
            f"list(predict_many({paths!r}, 'cnn')); main(['predict', '--model', 'cnn', '--jobs', '1', "
            f"'--quiet', '--out', {str(tmp_path / 'r.csv')!r}, *{paths!r}]); "
            "print(sorted({'dask', 'distributed', 'pyarrow', 'fsspec', 'pandas'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_a_streamed_tar_keeps_no_list_of_its_members(tmp_path, monkeypatch):
    import tarfile

    from digitnet.batch.sources import archive_members

    with tarfile.open(tmp_path / "a.tar", "w") as archive:
        for i, path in enumerate(pictures(tmp_path / "scans", 5)):
            archive.add(path, f"{i}.png")
    held = []
    original = tarfile.TarFile.next
    monkeypatch.setattr(tarfile.TarFile, "next", lambda tar: held.append(len(tar.members)) or original(tar))
    assert len(list(archive_members(str(tmp_path / "a.tar")))) == 5
    assert max(held) <= 1  # regression: tarfile listed all 100,000 members of a tar (45 MB)


def digit_stack(path, n=4, seed=3):
    """``n`` MNIST-style digits (a white stroke on black) saved as a (n, 28, 28) uint8 stack."""
    rng = np.random.default_rng(seed)
    stack = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):
        top, left = rng.integers(4, 8, 2)
        stack[k, top:top + 16, left + 5:left + 8] = 255  # a 1's stem
        stack[k, top:top + 3, left:left + 12] = 255 * (k % 2)  # and a 7's bar, every other one
    np.save(path, stack)
    return stack


def test_stacks_of_digits_are_a_row_an_input_in_predict_only(tmp_path):
    stack = digit_stack(tmp_path / "rows.npy")
    np.save(tmp_path / "one.npy", stack[0])
    np.savetxt(tmp_path / "rows.csv", stack.reshape(len(stack), 784), fmt="%d", delimiter=",")
    np.save(tmp_path / "bad.npy", np.full((2, 784), 300.0))
    names = [str(tmp_path / f) for f in ("rows.npy", "one.npy", "rows.csv", "bad.npy")]
    got = list(expand(names, stacks=True))
    assert [i.name for i in got] == ([f"{names[0]}:{k}" for k in (1, 2, 3, 4)] + [names[1]]
                                     + [f"{names[2]}:{k}" for k in (1, 2, 3, 4)] + [names[3]])
    assert np.array_equal(got[1].data, stack[1].reshape(784) / np.float32(255))
    assert got[-1].data.message == f"{names[3]}: values must lie in [0, 1] or [0, 255]"
    assert [i.name for i in expand(names)] == names  # read: a file is one input, as before
    assert [i.name for i in expand([str(tmp_path / "*.npy")], stacks=True)][-4:] == [
        f"{names[0]}:{k}" for k in (1, 2, 3, 4)]


def test_a_stack_in_batch_mode_answers_as_predict_does_one_at_a_time(tmp_path, capsys):
    digit_stack(tmp_path / "rows.npy")
    code, out, err = run(capsys, "predict", "--model", MODEL, tmp_path / "rows.npy")
    one_at_a_time = [line.split(": ")[1].split()[0] for line in out.splitlines()]
    code, out, err = run(capsys, "predict", "--model", MODEL, "--jobs", 1, tmp_path / "rows.npy")
    got = rows(out)
    assert code == 0 and "4 inputs" in err and "4 answered" in err
    assert [r["path"] for r in got] == [f"{tmp_path / 'rows.npy'}:{k}" for k in (1, 2, 3, 4)]
    assert [r["answer"] for r in got] == one_at_a_time and len(set(one_at_a_time)) == 2
