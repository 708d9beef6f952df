"""Load test of `digitnet serve` on 127.0.0.1, from a second process, bounded in time.

    python -m benchmarks.load_test [--seconds 10] [--clients 1 16] [--workers 2] [--model M]
                                   [--rate R]

Starts the server, sends POST /api/predict with a drawn digit (a 280x280 PNG, as the
page sends) from N concurrent clients for a fixed time each, then stops the server.
Prints predictions per second and the p50 / p99 latency for each N.

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
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def digit_png():
    from PIL import Image, ImageDraw

    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 60), (200, 60), (120, 230)], fill=0, width=18)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def client(port, request, deadline, latencies, errors, interval=None, first=None):
    """One keep-alive connection sending requests until the deadline: one after another,
    or, given ``interval``, one due every ``interval`` seconds from ``first``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    due = first
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            if interval is not None:
                if due >= deadline:
                    break
                if due > start:
                    await asyncio.sleep(due - start)
                start, due = due, due + interval  # late or not, latency counts from when it was due
            writer.write(request)  # one write, as browsers do
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
    server shares), for ``seconds``; flat out, or together ``rate`` requests a second."""
    request = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    latencies, errors = [], []

    async def all_clients():
        now = time.perf_counter()
        deadline = now + seconds
        interval = clients / rate if rate else None
        await asyncio.gather(*(client(port, request, deadline, latencies, errors, interval,
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
    args = parser.parse_args(argv)
    if args.rate is not None and not args.rate > 0:
        parser.error(f"--rate must be a positive number of requests per second, not {args.rate:g}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", "--port", str(port),
                               "--workers", str(args.workers),
                               *(["--model", args.model] if args.model else [])],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        body = digit_png()
        run(port, 2, 1.0, body)  # warm-up
        load = f"{args.rate:g} requests/s offered" if args.rate else "clients flat out"
        print(f"digitnet serve --workers {args.workers}, POST /api/predict with a 280x280 PNG, "
              f"{args.seconds:.0f} s per row, {load}")
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
