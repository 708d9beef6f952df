"""`digitnet serve` under bad and heavy traffic on 127.0.0.1 (slow: `pytest -m slow`):
10,000 requests in a row with resident memory growing less than 10%; oversized bodies
cut off; a client that never finishes its request does not stop others being served.
Bounded in count and time; the server is stopped at the end."""

import http.client
import io
import socket
import time

import pytest

pytest.importorskip("fastapi")
from PIL import Image, ImageDraw  # noqa: E402

from test_web import free_port, start_server  # noqa: E402

pytestmark = pytest.mark.slow


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def digit():
    image = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(image).line([(35, 30), (100, 30), (60, 115)], fill=0, width=10)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = start_server(port)
    yield port, process
    process.terminate()
    process.wait(timeout=10)


def post(connection, body, path="/api/predict"):
    connection.request("POST", path, body=body, headers={"Content-Type": "image/png"})
    response = connection.getresponse()
    response.read()
    return response.status


def test_ten_thousand_requests_without_memory_growth(server):
    port, process = server
    body = digit()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(500):  # warm-up: allocator pools, caches
        assert post(connection, body) == 200
    before = rss_kb(process.pid)
    deadline = time.monotonic() + 600
    statuses = [post(connection, body) for _ in range(10_000) if time.monotonic() < deadline]
    after = rss_kb(process.pid)
    connection.close()
    assert len(statuses) == 10_000 and set(statuses) == {200}
    print(f"\n10,000 requests: resident memory {before} kB -> {after} kB "
          f"({100 * (after - before) / before:+.1f}%)")
    assert after < 1.10 * before


def test_oversized_and_slow_requests(server):
    port, _ = server
    # a body announced as 1 GB is refused from its header, before it is read
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/api/predict")
    connection.putheader("Content-Length", str(1 << 30))
    connection.endheaders()
    connection.send(b"x" * 1000)
    response = connection.getresponse()
    assert response.status == 413 and b"error" in response.read()
    connection.close()
    # a client that sends half a request and stalls does not block the others
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    stalled.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc")
    start = time.monotonic()
    other = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    assert post(other, digit()) == 200
    assert time.monotonic() - start < 5
    other.close()
    stalled.close()
