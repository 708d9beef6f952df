"""`digitnet serve --workers 2` (its own connection dealer) against uvicorn's `--workers 2`
and gunicorn with uvicorn workers, alternately, on 127.0.0.1.

    python -m benchmarks.serve_workers [--rounds 3] [--seconds 8] [--clients 16]

Each round starts each server in turn (in the order reversed every other round), sends a
drawn 7 from N keep-alive clients flat out (``load_test.run``), and prints predictions per
second, p50 / p99, and how the connections are split between the worker processes
(``ss``, half-way through).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from benchmarks.load_test import ROOT, digit_png, run


def commands(port):
    py = sys.executable
    return {
        "digitnet serve --workers 2 (dealer)": [py, "-m", "digitnet", "serve", "--port", str(port),
                                                "--workers", "2"],
        "uvicorn --workers 2": [py, "-m", "uvicorn", "--factory", "digitnet.web.app:create_app",
                                "--port", str(port), "--workers", "2", "--log-level", "warning",
                                "--http", "digitnet.web.server:Protocol", "--limit-concurrency", "128"],
        "gunicorn -w 2 -k uvicorn.workers.UvicornWorker": [
            py, "-m", "gunicorn", "-w", "2", "-k", "uvicorn.workers.UvicornWorker",
            "-b", f"127.0.0.1:{port}", "--log-level", "warning", "digitnet.web.app:create_app()"],
    }


def split(port):
    """How many established connections to ``port`` each process holds, sorted."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    held = {}
    for line in out.splitlines():
        if "pid=" in line:
            pid = line.split("pid=")[1].split(",")[0]
            held[pid] = held.get(pid, 0) + 1
    return sorted(held.values())


def wait_for(port, seconds=90):
    """Return once something accepts connections on 127.0.0.1:``port`` (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)


def one(name, body, seconds, clients):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # one BLAS thread a process, as `digitnet serve` sets for itself (create_app does not)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen(commands(port)[name], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(port)
        time.sleep(5)  # every worker up, not only the first
        run(port, 2, 2.0, body)  # warm-up
        seen = []
        timer = threading.Timer(seconds / 2, lambda: seen.append(split(port)))
        timer.start()
        result = run(port, clients, seconds, body)
        timer.join()
        return result, seen[0] if seen else None
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    body = digit_png()
    names = list(commands(0))
    print("| server | predictions / s | p50 | p99 | connections per worker |")
    print("| --- | ---: | ---: | ---: | --- |")
    for i in range(args.rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            r, held = one(name, body, args.seconds, args.clients)
            print(f"| {name} | {r['per_second']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
                  f"{'/'.join(map(str, held or []))} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
