"""Load test of `digitnet serve` on 127.0.0.1, from a second process, bounded in time.

    python -m benchmarks.load_test [--seconds 10] [--clients 1 16] [--workers 2]

Starts the server, sends POST /api/predict with a drawn digit (a 280x280 PNG, as the
page sends) from N concurrent clients for a fixed time each, then stops the server.
Prints predictions per second and the p50 / p99 latency for each N.
"""

import argparse
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


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def exchange(sock, request):
    """Send one keep-alive request in a single write (as browsers do; http.client's
    separate writes of headers and body cost 40 ms of delayed ACK each) and read the
    response; returns its status."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(lines[0].split()[1])


def client(port, body, stop, latencies, errors):
    request = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    sock = connect(port)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            status = exchange(sock, request)
        except (OSError, ValueError, StopIteration):
            errors.append("connection")
            sock.close()
            sock = connect(port)
            continue
        if status != 200:
            errors.append(status)
            continue
        latencies.append(time.perf_counter() - start)
    sock.close()


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
