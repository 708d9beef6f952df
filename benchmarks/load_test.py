"""Load test of `digitnet serve` on 127.0.0.1, from a second process, bounded in time.

    python -m benchmarks.load_test [--seconds 10] [--clients 1 16] [--workers 2]

Starts the server, sends POST /api/predict with a drawn digit (a 280x280 PNG, as the
page sends) from N concurrent clients for a fixed time each, then stops the server.
Prints predictions per second and the p50 / p99 latency for each N.
"""

import argparse
import http.client
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
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


def client(port, body, stop, latencies, errors):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            connection.request("POST", "/api/predict", body=body, headers={"Content-Type": "image/png"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
                continue
        except (OSError, http.client.HTTPException):
            errors.append("connection")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - start)
    connection.close()


def run(port, clients, seconds, body):
    stop, latencies, errors = threading.Event(), [], []
    threads = [threading.Thread(target=client, args=(port, body, stop, latencies, errors))
               for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    latencies.sort()
    p = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {"clients": clients, "requests": len(latencies), "per_second": len(latencies) / seconds,
            "p50_ms": p(0.50), "p99_ms": p(0.99), "errors": len(errors),
            "mean_ms": 1000 * statistics.mean(latencies) if latencies else float("nan")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", "--port", str(port),
                               "--workers", str(args.workers)],
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
        print(f"digitnet serve --workers {args.workers}, POST /api/predict with a 280x280 PNG, "
              f"{args.seconds:.0f} s per row")
        print("| concurrent clients | predictions / s | p50 | p99 | errors |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for n in args.clients:
            r = run(port, n, args.seconds, body)
            print(f"| {n} | {r['per_second']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
                  f"{r['errors']} |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
