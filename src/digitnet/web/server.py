"""uvicorn's settings for ``digitnet serve``: limits on slow and stalled clients.

A client can hold a connection, and the memory of its request, by sending it slowly or
not at all. Each way has its bound:

- request headers: at most 16 kB (h11's default), complete within HEADER_TIMEOUT of
  the connection (its first request) or of the request's first byte (the next ones on
  a kept-alive connection), else the connection is closed after a 408 (uvicorn itself
  waits for headers for ever);
- request body: at most 5 MB, complete within ``app.BODY_TIMEOUT``, else a JSON 408
  (``app.create_app``);
- between requests on a kept-alive connection: 5 s (uvicorn's ``timeout_keep_alive``);
- at most MAX_CONNECTIONS open connections per worker: beyond, uvicorn answers 503.
"""

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a request's headers.
HEADER_TIMEOUT = 10
#: Open connections per worker, each holding at most a 5 MB body.
MAX_CONNECTIONS = 128

_LATE = b'{"error": "the request headers did not arrive in time"}'
TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
             b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_LATE), _LATE))


class Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request headers are late."""

    header_timeout = HEADER_TIMEOUT
    header_timer = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self._start_header_timer()  # a connection that never sends anything is late too

    def data_received(self, data):
        if self.header_timer is None and self.conn.their_state is h11.IDLE:
            self._start_header_timer()  # the first bytes of the next request
        super().data_received(data)

    def on_response_complete(self):
        super().on_response_complete()
        self._stop_header_timer()  # waiting for the next request is keep-alive's (5 s)

    def connection_lost(self, exc):
        self._stop_header_timer()
        super().connection_lost(exc)

    def _start_header_timer(self):
        self._stop_header_timer()
        self.header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _stop_header_timer(self):
        if self.header_timer:
            self.header_timer.cancel()
        self.header_timer = None

    def _headers_late(self):
        self.header_timer = None
        # IDLE: no complete request yet; past it, the body has its own limit (BODY_TIMEOUT)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(TIMED_OUT)
            self.transport.close()


def config(app, header_timeout=HEADER_TIMEOUT):
    """The uvicorn.Config to serve ``app`` with."""
    protocol = type("Protocol", (Protocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(app, http=protocol, log_level="warning", limit_concurrency=MAX_CONNECTIONS)


def freeze_heap():
    """Keep the objects made at start-up (the model, the app, the libraries) out of
    Python's garbage collections from now on: each full collection would otherwise walk
    them all again, a pause of several milliseconds in the middle of requests."""
    import gc

    gc.collect()
    gc.freeze()


def pin_blas_to_one_thread():
    """Let this serving process's BLAS use one thread: one image at a time, a second
    thread only adds synchronisation (10x slower on a busy machine); parallelism comes
    from server workers instead. Called by the process that serves (``digitnet serve``
    and each of its workers), never by ``create_app``: an app built inside someone
    else's program (a test, their own service) leaves that program's BLAS alone."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1, user_api="blas")


def listening_socket(host, port):
    """A TCP socket bound to (host, port).

    Made here rather than by uvicorn, whose own leaves the protocol number at 0:
    connections accepted on it inherit that, asyncio then never sets TCP_NODELAY on
    them, and every keep-alive response waits about 40 ms for the client's delayed ACK
    (uvicorn issue #3149; measured in BENCHMARKS.md)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
