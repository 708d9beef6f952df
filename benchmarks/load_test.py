"""Load test of `digitnet serve` on 127.0.0.1, from a second process, bounded in time.

    python -m benchmarks.load_test [--seconds 10] [--clients 1 16] [--workers 2] [--model M]
                                   [--rate R] [--digits N] [--shortcut P]

Starts the server, sends POST /api/predict with a drawn digit (a 280x280 PNG) from N
concurrent clients for a fixed time each, then stops the server. Prints predictions per
second and the p50 / p99 latency for each N. With ``--digits N`` the clients send N
different validation digits drawn as a user would (``data.synthetic.drawing``, 280x280,
anywhere from 40 to 220 pixels tall), each client going through them in turn: easy and
hard ones in MNIST's proportions, for a server whose work depends on the digit (an
ensemble's shortcut). It needs the MNIST files (``DIGITNET_DATA``).

By default each client sends its next request as soon as the last is answered, so the
server runs flat out and the latency includes the queue that saturation builds. With
``--rate R`` the N clients together send R requests per second on a fixed schedule
(each client every N / R seconds, the clients staggered), and a request's latency runs
from the moment it was due, not from when it was sent: a server that falls behind is
charged for the wait of every request it delayed (no "coordinated omission").
"""

import argparse
import asyncio
import io
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def digit_png():
    from PIL import Image, ImageDraw

    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 60), (200, 60), (120, 230)], fill=0, width=18)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def drawn_digits(n, seed=1):
    """``n`` validation digits drawn as a user would, as PNG files (bytes)."""
    from digitnet.data import mnist
    from digitnet.data.synthetic import drawing

    validation = mnist.load("mnist", allow_download=False).validation  # DIGITNET_DATA, or the cache
    rng = np.random.default_rng(seed)
    pngs = []
    for row in validation.x[:n]:
        buffer = io.BytesIO()
        drawing(row, rng).save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    return pngs


async def client(port, requests, deadline, latencies, errors, interval=None, first=None):
    """One keep-alive connection sending ``requests`` in turn until the deadline: one
    after another, or, given ``interval``, one due every ``interval`` seconds from ``first``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    due = first
    turn = itertools.cycle(requests)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            if interval is not None:
                if due >= deadline:
                    break
                if due > start:
                    await asyncio.sleep(due - start)
                start, due = due, due + interval  # late or not, latency counts from when it was due
            writer.write(next(turn))  # one write, as browsers do
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next(int(line.split(b":")[1]) for line in lines
                          if line.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            status = int(lines[0].split()[1])
            if status != 200:
                errors.append(status)
                continue
            latencies.append(time.perf_counter() - start)
    except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
        errors.append("connection")
    finally:
        writer.close()


def run(port, clients, seconds, body, rate=None):
    """``clients`` concurrent connections on one event loop (light on the CPU that the
    server shares), for ``seconds``; flat out, or together ``rate`` requests a second.
    ``body``: the PNG to send, or a list of them, each client starting at another one."""
    bodies = [body] if isinstance(body, bytes) else list(body)
    requests = [(f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                 f"Content-Length: {len(b)}\r\n\r\n").encode() + b for b in bodies]
    latencies, errors = [], []

    async def all_clients():
        now = time.perf_counter()
        deadline = now + seconds
        interval = clients / rate if rate else None
        start = [requests[i * len(requests) // clients:] + requests[:i * len(requests) // clients]
                 for i in range(clients)]
        await asyncio.gather(*(client(port, start[i], deadline, latencies, errors, interval,
                                      now + 0.1 + i * interval / clients if rate else None)
                               for i in range(clients)))
    asyncio.run(all_clients())
    latencies.sort()
    p = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {"clients": clients, "requests": len(latencies), "per_second": len(latencies) / seconds,
            "p50_ms": p(0.50), "p99_ms": p(0.99), "errors": len(errors),
            "mean_ms": 1000 * statistics.mean(latencies) if latencies else float("nan"),
            "latencies": latencies}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", help="model file for the server (default: the shipped one)")
    parser.add_argument("--rate", type=float, help="requests per second from all clients together, "
                        "on a fixed schedule (default: each client flat out)")
    parser.add_argument("--digits", type=int, help="send this many different validation digits "
                        "drawn as a user would (default: one drawn 7)")
    parser.add_argument("--shortcut", help="the server's --shortcut (default: its own)")
    args = parser.parse_args(argv)
    if args.rate is not None and not args.rate > 0:
        parser.error(f"--rate must be a positive number of requests per second, not {args.rate:g}")
    if args.digits is not None and args.digits < 1:
        parser.error(f"--digits must be at least 1, not {args.digits}")
    from digitnet.errors import DigitnetError

    try:
        body = drawn_digits(args.digits) if args.digits else digit_png()
    except DigitnetError as e:
        parser.error(f"--digits needs the MNIST files: {e}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", "--port", str(port),
                               "--workers", str(args.workers),
                               *(["--model", args.model] if args.model else []),
                               *(["--shortcut", args.shortcut] if args.shortcut else [])],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        run(port, 2, 1.0, body)  # warm-up
        load = f"{args.rate:g} requests/s offered" if args.rate else "clients flat out"
        sent = f"{args.digits} validation digits drawn" if args.digits else "a drawn 7"
        print(f"digitnet serve --workers {args.workers}"
              f"{f' --shortcut {args.shortcut}' if args.shortcut else ''}, POST /api/predict "
              f"with {sent} (280x280 PNG), {args.seconds:.0f} s per row, {load}")
        print("| concurrent clients | predictions / s | p50 | p99 | errors |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for n in args.clients:
            r = run(port, n, args.seconds, body, args.rate)
            print(f"| {n} | {r['per_second']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
                  f"{r['errors']} |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
