"""digitnet serve: the drawing page and the JSON API, on a local web server."""


def add_parser(sub):
    from . import positive_int

    p = sub.add_parser("serve", help="web page to draw digits, and a JSON API (needs digitnet[web])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--model", help="model file (.npz); default: the best model shipped with digitnet")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="server processes (default 1; use the number of cores under load)")
    return p


def port_number(text):
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text}")
    return port


def run(args):
    from . import fail

    try:
        import uvicorn

        from ..web.app import create_app
        from ..web.server import config
    except ImportError:
        fail('the web server needs its extra: pip install "digitnet[web]"')
    import os

    app = create_app(args.model)  # fail here, with one line, if the model is unusable
    try:  # and if the address is taken or not this machine's
        lock = claim_port(args.host, args.port) if args.workers > 1 else None
        sock = listening_socket(args.host, args.port, reuse_port=args.workers > 1)
    except OSError as e:
        fail(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}")
    print(f"digitnet: serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    if args.workers == 1:
        server = uvicorn.Server(config(app))
        _freeze_heap()
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        return
    with sock:  # held, never listening, so the port stays ours while workers come and go
        code = serve_workers(args.host, args.port, args.workers,
                             args.model and os.path.abspath(args.model))
    if lock:
        lock.close()
    if code is not None:
        how = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
        fail(f"a server worker stopped on its own ({how}); all workers were stopped")


def claim_port(host, port):
    """Make sure no other server listens on ``port``, where the workers' SO_REUSEPORT
    sockets would otherwise join it and share its requests; returns a lock to hold.

    A socket without SO_REUSEPORT cannot be bound beside a listening one, whoever owns
    it; and on Linux an abstract Unix socket named after the port keeps a second
    ``serve --workers`` out while the first one's workers are still starting."""
    import errno
    import socket
    import sys

    listening_socket(host, port).close()
    if sys.platform != "linux":
        return None
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"\0digitnet-serve-port-{port}")
    except OSError:
        lock.close()
        raise OSError(errno.EADDRINUSE, "Address already in use (by another digitnet serve)") from None
    return lock


def serve_workers(host, port, workers, model_path):
    """Run ``workers`` server processes, each with its own listening socket on the same
    port (SO_REUSEPORT), so that the kernel spreads new connections over them.

    uvicorn's own ``--workers`` shares one socket: whichever worker wakes first accepts
    a whole burst of connections, and with keep-alive they stay on it (16 clients
    connecting at once all landed on one worker of two, halving the throughput). Stops
    all workers when one ends, on Ctrl-C, or on SIGTERM; returns the exit code of a
    worker that ended on its own (negative: killed by that signal), else None."""
    import multiprocessing
    import signal
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(host, port, model_path),
                                 name=f"digitnet-serve-{i}") for i in range(workers)]

    def terminate(signum, frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, terminate)
    code = None
    try:
        for process in processes:
            process.start()
        ended = wait([process.sentinel for process in processes])
        stopped = next(p for p in processes if p.sentinel in ended)
        stopped.join()  # its exit code is None until it is reaped
        code = stopped.exitcode
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(10)
    return code


def _worker(host, port, model_path):
    import uvicorn

    from ..web.app import create_app
    from ..web.server import config

    sock = listening_socket(host, port, reuse_port=True)
    server = uvicorn.Server(config(create_app(model_path)))
    _freeze_heap()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass


def _freeze_heap():
    """Keep the objects made at start-up (the model, the app, the libraries) out of
    Python's garbage collections from now on: each full collection would otherwise walk
    them all again, a pause of several milliseconds in the middle of requests."""
    import gc

    gc.collect()
    gc.freeze()


def listening_socket(host, port, reuse_port=False):
    """A TCP socket bound to (host, port); with ``reuse_port``, one of several that
    share the port, each worker listening on its own.

    Made here rather than by uvicorn, whose own leaves the protocol number at 0:
    connections accepted on it inherit that, asyncio then never sets TCP_NODELAY on
    them, and every keep-alive response waits about 40 ms for the client's delayed ACK
    (uvicorn issue #3149; measured in BENCHMARKS.md)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
