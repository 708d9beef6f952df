"""Dask as the engine: on a LocalCluster of two worker processes (on 127.0.0.1), the
same rows and the same bits as one local job."""

import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

import pytest

from digitnet.batch import predict_many
from digitnet.batch.dask import local_cluster
from test_batch import MODEL, pictures
from test_cli import run

distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def client():
    environment, ctrl_c = dict(os.environ), signal.getsignal(signal.SIGINT)
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as patch:
        # the workers are copies of this process (an idle thread of an earlier test's fsspec
        # would make them start afresh): with pytest's warnings as errors, a deprecation
        # inside dask's Parquet writer (pandas's, not ours) failed the bag test
        warnings.simplefilter("default")
        patch.setattr(threading, "active_count", lambda: 1)
        cluster = local_cluster(2)
    # distributed sets OMP_NUM_THREADS=1 and the like here for its workers, and left them
    # for every process started after: a resumed training run gave other bits (regression)
    assert dict(os.environ) == environment
    assert signal.getsignal(signal.SIGINT) is ctrl_c
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def environment():
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def test_the_cli_on_a_local_cluster_writes_what_one_job_writes(tmp_path, capsys):
    pictures(tmp_path / "scans", 30)
    (tmp_path / "scans" / "broken.png").write_bytes(b"\x89PNG broken")
    argv = ["predict", "--model", MODEL, tmp_path / "scans", "--quiet"]
    code, alone, _ = run(capsys, *argv, "--jobs", 1)
    assert code == 2
    before = environment()
    code, on_dask, err = run(capsys, *argv, "--scheduler", "local", "--jobs", 2)
    assert code == 2 and err == "" and on_dask == alone
    assert environment() == before  # regression: OPENBLAS_NUM_THREADS=1 was left for later processes
    assert len(alone.splitlines()) == 31 and "not a readable image" in alone


def test_same_bits_on_dask_as_in_one_job(tmp_path, client):
    paths = pictures(tmp_path, 40, seed=1)
    here = list(predict_many(paths, MODEL, batch_size=4))
    there = list(predict_many(paths, MODEL, batch_size=4, scheduler=client))  # a task of 4 chunks, 6 of 1
    assert [r.row() for r in here] == [r.row() for r in there]
    assert all(a.probabilities.tobytes() == b.probabilities.tobytes() for a, b in zip(here, there))


def test_chunks_go_several_to_a_task_but_the_last_ones():
    from digitnet.batch.dask import grouped

    pieces = [[i] for i in range(11)]
    assert [len(g) for g in grouped(pieces, 4, 3)] == [4, 4, 1, 1, 1]
    assert [p for g in grouped(pieces, 4, 3) for p in g] == pieces
    assert [len(g) for g in grouped(pieces[:5], 4, 3)] == [1] * 5


def test_map_partitions_over_a_bag_and_a_dataframe(tmp_path, client):
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    from digitnet.batch.dask import predict_partition

    paths = pictures(tmp_path, 6, seed=2)
    expected = [r.answer for r in predict_many(paths, MODEL, shortcut=None)]
    items = paths[:3] + [Path(p).read_bytes() for p in paths[3:]]
    bag = db.from_sequence(items, npartitions=3).map_partitions(predict_partition, model=MODEL)
    bag.to_dataframe().to_parquet(tmp_path / "out.parquet")
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert len(list((tmp_path / "out.parquet").glob("*.parquet"))) == 3
    assert got["answer"].tolist() == expected
    assert got["path"].tolist()[:3] == paths[:3]
    frame = dd.from_pandas(pd.DataFrame({"path": paths}), npartitions=2)
    answers = frame.map_partitions(predict_partition, model=MODEL,
                                   meta={"path": str, "answer": str, "confidence": float, "error": str})
    assert answers.compute()["answer"].tolist() == expected


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("digitnet.batch.dask.CONNECT_TIMEOUT", 1)
    pictures(tmp_path / "scans", 1)
    code, out, err = run(capsys, "predict", tmp_path / "scans", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("digitnet: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def test_rows_are_json(tmp_path, capsys, client):
    pictures(tmp_path / "scans", 3)
    code, out, _ = run(capsys, "read", "--model", MODEL, tmp_path / "scans", "--scheduler",
                       client.scheduler.address, "--quiet")
    assert code == 0 and all(set(json.loads(line)) == {"path", "answer", "confidence", "error"}
                             for line in out.splitlines())


@pytest.mark.skipif(sys.platform != "linux", reason="copies of a process on Linux only")
def test_a_local_cluster_s_workers_are_copies_of_this_process(client, monkeypatch):
    # (so they start with distributed imported and the model built: a second of CPU each)
    from digitnet.batch.dask import start_method

    assert set(client.run(lambda: "pytest" in sys.modules).values()) == {True}
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # fsspec's, say
    assert start_method() == "spawn"


def test_a_local_cluster_s_workers_leave_ctrl_c_to_the_command(client):
    # regression: Ctrl-C (sent to every process of the command) printed a traceback from each worker
    assert set(client.run(lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN).values()) == {True}


def test_a_local_cluster_keeps_freed_memory_as_digitnet_does(client):
    # regression: with Dask's MALLOC_TRIM_THRESHOLD_ of 64 kB a worker spent twice the CPU a digit
    found = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(found.values()) == {str(1 << 30)}


def test_read_partition_takes_a_pattern_and_a_check_as_read_many_does(tmp_path):
    from digitnet.batch import read_many
    from digitnet.batch.dask import read_partition
    from test_read import ONE_AT, SEVEN_AT, ZERO_AT, handwritten

    path = tmp_path / "710.png"
    handwritten([SEVEN_AT(20), ONE_AT(140), ZERO_AT(180)], size=(300, 200)).save(path)
    for options in ({"check": "luhn"}, {"pattern": "d-dd"}):
        [row] = read_partition([str(path)], **options)
        assert row == next(iter(read_many([str(path)], **options))).row()
        assert row["answer"] != "710"  # mended, or written in the pattern
