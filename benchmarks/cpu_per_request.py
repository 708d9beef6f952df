"""The server's CPU time per request, for two source trees alternately.

    python -m benchmarks.cpu_per_request BEFORE AFTER [--pairs 4] [--seconds 8] [--clients 16]

BEFORE and AFTER are checkouts of digitnet (e.g. ``git worktree add /tmp/before main``).
Each run starts ``digitnet serve`` (one worker) from one tree, sends a drawn 7 from N
keep-alive clients flat out (``load_test.run``), and divides the server process's CPU
time (user + system, from /proc; Linux only) by the requests answered. Prints each run
and the median and range per tree: CPU per request does not depend on how busy the
machine is as much as throughput does.
"""

import argparse
import os
import socket
import subprocess
import sys

from benchmarks.load_test import digit_png, run
from benchmarks.serve_workers import wait_for

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def one(tree, body, seconds, clients):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.path.join(tree, "src")}
    server = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", "--port", str(port)],
                              env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        run(port, 2, 2.0, body)  # warm-up
        before = cpu_seconds(server.pid)
        result = run(port, clients, seconds, body)
        return 1000 * (cpu_seconds(server.pid) - before) / max(1, result["requests"]), result
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, metavar="TREE")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    body = digit_png()
    measured = {tree: [] for tree in args.trees}
    for i in range(args.pairs):
        for tree in args.trees if i % 2 == 0 else args.trees[::-1]:
            ms, r = one(tree, body, args.seconds, args.clients)
            measured[tree].append(ms)
            print(f"{tree}: {ms:.2f} ms CPU per request ({r['per_second']:.0f}/s, p99 {r['p99_ms']:.1f} ms)",
                  flush=True)
    for tree, values in measured.items():
        values.sort()
        print(f"{tree}: median {values[len(values) // 2]:.2f} ms CPU per request, "
              f"range {values[0]:.2f}-{values[-1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
