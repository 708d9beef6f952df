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

import asyncio
import socket

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


class DealtServer(uvicorn.Server):
    """A uvicorn server with no listening socket of its own, for ``serve --workers``:
    it serves the connections whose descriptors arrive on ``channel`` (a Unix socket
    from the process that accepts them), and counts in ``closed[index]`` those that
    have ended, so that process can give each new connection to the least busy worker."""

    def __init__(self, config, channel, index, closed):
        super().__init__(config)
        self.channel, self.index, self.closed = channel, index, closed

    async def startup(self, sockets=None):
        await super().startup(sockets=[])
        if self.should_exit:
            return
        server = self

        class Counted(self.config.http_protocol_class):
            def connection_lost(self, exc):
                super().connection_lost(exc)
                server.closed[server.index] += 1

        self.protocol = Counted
        self.channel.setblocking(False)
        asyncio.get_running_loop().add_reader(self.channel.fileno(), self.take)

    def take(self):
        """Serve every connection waiting on the channel."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.channel, 1, 1)  # one message each
            except (BlockingIOError, InterruptedError):
                return
            if not data:  # the process that deals them has gone: stop
                loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            if not fds:  # dropped on the way (this worker out of descriptors): closed
                self.closed[self.index] += 1
            for fd in fds:
                loop.create_task(self.attach(socket.socket(fileno=fd)))

    async def attach(self, sock):
        if not self.should_exit:
            protocol = lambda: self.protocol(config=self.config,  # noqa: E731
                                             server_state=self.server_state,
                                             app_state=self.lifespan.state)
            try:
                await asyncio.get_running_loop().connect_accepted_socket(protocol, sock)
                return
            except OSError:
                pass
        sock.close()
        self.closed[self.index] += 1

    async def shutdown(self, sockets=None):
        asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets=sockets)
