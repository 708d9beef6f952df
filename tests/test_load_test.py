"""The load test's two ways of sending: flat out, and on a fixed schedule that charges a
slow server for the requests it delayed (no coordinated omission)."""

import asyncio
import threading

from benchmarks.load_test import run

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"


class StubServer:
    """HTTP on 127.0.0.1 answering every request with 200, after ``first_delay`` seconds
    for the very first request it receives and at once for the others."""

    def __init__(self, first_delay=0.0):
        self.first_delay, self.requests, self.handlers = first_delay, 0, set()
        self.lengths = []  # of the bodies received, in order
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _serve(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        self.handlers.add(asyncio.current_task())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                await reader.readexactly(length)
                self.lengths.append(length)
                self.requests += 1
                if self.requests == 1:
                    await asyncio.sleep(self.first_delay)
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    async def _shutdown(self):
        self.server.close()
        for handler in self.handlers:
            handler.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()

    def close(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def test_a_fixed_rate_sends_that_many_requests():
    server = StubServer()
    try:
        result = run(server.port, 4, 1.0, b"x" * 100, rate=60)
    finally:
        server.close()
    assert result["errors"] == 0
    assert 45 <= result["requests"] <= 62  # 60 due in the second, less the first 0.1 s
    assert result["p99_ms"] < 500  # a stub answering at once: only a stalled machine is slower


def test_a_stall_counts_against_every_request_it_delayed():
    # one connection; the first answer takes 0.4 s. Flat out, only that request is slow;
    # on a schedule of 20 a second, the seven due during the stall waited too
    for rate, slow_expected in ((None, 1), (20, 8)):
        server = StubServer(first_delay=0.4)
        try:
            result = run(server.port, 1, 1.0, b"x" * 100, rate=rate)
        finally:
            server.close()
        slow = sum(latency > 0.05 for latency in result["latencies"])
        assert abs(slow - slow_expected) <= 1, (rate, slow, result["requests"])


def test_several_bodies_are_sent_in_turn_each_client_from_its_own_first():
    # --digits: the clients go through the drawn digits in turn, not all on the first
    server = StubServer()
    try:
        result = run(server.port, 2, 0.3, [b"a" * 10, b"b" * 11, b"c" * 12, b"d" * 13], rate=40)
    finally:
        server.close()
    assert result["errors"] == 0 and result["requests"] >= 6
    assert sorted(server.lengths[:4]) == [10, 11, 12, 13]  # clients 0 and 1 start at a, c
    assert set(server.lengths) == {10, 11, 12, 13}
