"""``digitnet serve --workers N``: N server processes, dealt the connections one process accepts.

Why not uvicorn's own ``--workers`` or gunicorn: see ``serve_workers`` and docs/serving.md.
"""

import asyncio
import socket

import uvicorn


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


def serve_workers(sock, workers, model_path, shortcut=None, prepare=None):
    """Run ``workers`` server processes and deal them the connections accepted on
    ``sock``: each new one goes to the worker with the fewest open.

    Left to themselves, workers sharing one socket take connections unevenly: with
    uvicorn's own ``--workers`` whichever wakes first accepts a whole burst (16 clients
    connecting at once all landed on one of two workers), and with one SO_REUSEPORT
    socket each the kernel's hash split 16 connections 10/6 or 11/5 as often as 8/8;
    with keep-alive they stay where they land, and the busier worker's queue sets the
    slowest answers. Here this process accepts, and passes each connection's descriptor
    to its worker over a Unix socket; the workers count the connections they close.
    Each worker first calls ``prepare()`` (a module-level function, given by name to a
    new process), if given. Stops all workers when one ends, on Ctrl-C, or on SIGTERM;
    returns the exit code of a worker that ended on its own (negative: killed by that signal), else None."""
    import multiprocessing
    import signal
    import socket
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    closed = context.RawArray("q", workers)  # connections each worker has closed
    handed = [0] * workers  # and each has been given
    channels = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    processes = [context.Process(target=_worker, args=(theirs, i, closed, model_path, shortcut, prepare),
                                 name=f"digitnet-serve-{i}")
                 for i, (_, theirs) in enumerate(channels)]

    def terminate(signum, frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, terminate)
    code = None
    try:
        for process in processes:
            process.start()
        for _, theirs in channels:
            theirs.close()
        sock.listen(1024)
        sock.setblocking(False)
        sentinels = [process.sentinel for process in processes]
        while True:
            ended = [s for s in wait([sock, *sentinels]) if s in sentinels]
            if ended:
                stopped = processes[sentinels.index(ended[0])]
                stopped.join()  # its exit code is None until it is reaped
                code = stopped.exitcode
                break
            _deal(sock, [ours for ours, _ in channels], handed, closed)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(processes)
        for ours, _ in channels:
            ours.close()
    return code


def _stop(processes, grace: float = 10.0) -> None:
    """Ask the workers to stop (SIGTERM: uvicorn's graceful shutdown), wait up to
    ``grace`` seconds for all of them together, then kill any still running: a worker
    whose shutdown hangs must not keep the server from stopping (Python would wait for it
    at exit, forever)."""
    import time

    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()


def _deal(sock, channels, handed, closed):
    """Accept every connection waiting on ``sock`` and pass each to the worker with the
    fewest open (``handed[i] - closed[i]``), over its channel."""
    import errno
    import socket
    import time

    while True:
        try:
            connection, _ = sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                time.sleep(0.1)  # out of descriptors or memory: let some close first
                return
            continue  # the client's connection failed before it was accepted
        with connection:
            i = min(range(len(channels)), key=lambda i: handed[i] - closed[i])
            try:
                socket.send_fds(channels[i], [b"c"], [connection.fileno()])
            except OSError:  # that worker has ended: its sentinel says so next
                return
        handed[i] += 1


def _worker(channel, index, closed, model_path, shortcut=None, prepare=None):
    from .app import create_app
    from .server import config, freeze_heap, pin_blas_to_one_thread

    if prepare:
        prepare()  # a new process: e.g. cli.memory.keep_freed_memory, as cli.main calls it

    server = DealtServer(config(create_app(model_path, shortcut=shortcut)), channel, index, closed)
    pin_blas_to_one_thread()
    freeze_heap()
    try:
        server.run(sockets=[])
    except KeyboardInterrupt:
        pass
