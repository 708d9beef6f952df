"""uvicorn's settings for ``digitnet serve``: limits on slow and stalled clients.

A client can hold a connection, and the memory of its request, by sending it slowly or
not at all. Each way has its bound:

- request headers: at most 16 kB (h11's default), complete within HEADER_TIMEOUT of
  the connection or of the previous answer on it, else the connection is closed after a
  408 (uvicorn itself waits for headers forever);
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
        self._start_header_timer()

    def on_response_complete(self):
        super().on_response_complete()
        self._start_header_timer()  # for the next request on this connection

    def connection_lost(self, exc):
        if self.header_timer:
            self.header_timer.cancel()
        super().connection_lost(exc)

    def _start_header_timer(self):
        if self.header_timer:
            self.header_timer.cancel()
        self.header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self):
        # IDLE: no complete request yet (an idle kept-alive one is closed sooner, at 5 s)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(TIMED_OUT)
            self.transport.close()


def config(app, header_timeout=HEADER_TIMEOUT):
    """The uvicorn.Config to serve ``app`` with."""
    protocol = type("Protocol", (Protocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(app, http=protocol, log_level="warning", limit_concurrency=MAX_CONNECTIONS)
