"""digitnet serve: the drawing page and the JSON API, on a local web server."""


def add_parser(sub):
    from ..pretrained import SHORTCUT
    from . import positive_int

    p = sub.add_parser("serve", help="web page to draw digits, and a JSON API (needs digitnet[web])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--model", help="model file (.npz); default: the best model shipped with digitnet "
                   "(the ensemble of five CNNs, 99.74%% on MNIST's test set); `--model cnn`: the "
                   "shipped single CNN (99.67%%)")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="server processes (default 1; use the number of cores under load)")
    p.add_argument("--shortcut", type=shortcut, default=SHORTCUT, metavar="P",
                   help="an ensemble's first network answers alone for a digit it is at least "
                   f"P sure of, the others run on the rest (default {SHORTCUT}: chosen on validation, "
                   "it changed none of the shipped ensemble's answers there); `off`: all of "
                   "them on every digit")
    return p


def shortcut(text):
    """A probability in (0, 1], or ``off`` (None)."""
    import argparse

    if text.strip().lower() == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a probability or `off`, not {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a probability in (0, 1] or `off`, not {text}")
    return value


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

        from ..pretrained import shipped_by_name
        from ..web.app import create_app
        from ..web.server import config
    except ImportError:
        fail('the web server needs its extra: pip install "digitnet[web]"')
    import os
    import socket

    if args.workers > 1 and not hasattr(socket, "send_fds"):  # Windows
        fail("--workers needs Linux or another Unix (the workers are handed connections "
             "over Unix sockets); run one worker here")
    app = create_app(args.model, shortcut=args.shortcut)  # fail here, with one line, if the model is unusable
    try:  # and if the address is taken or not this machine's
        sock = listening_socket(args.host, args.port)
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
    del app  # each worker loads its own
    with sock:
        model = args.model and os.path.abspath(shipped_by_name(args.model))
        code = serve_workers(sock, args.workers, model, args.shortcut)
    if code is not None:
        how = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
        fail(f"a server worker stopped on its own ({how}); all workers were stopped")


def serve_workers(sock, workers, model_path, shortcut=None):
    """Run ``workers`` server processes and deal them the connections accepted on
    ``sock``: each new one goes to the worker with the fewest open.

    Left to themselves, workers sharing one socket take connections unevenly: with
    uvicorn's own ``--workers`` whichever wakes first accepts a whole burst (16 clients
    connecting at once all landed on one of two workers), and with one SO_REUSEPORT
    socket each the kernel's hash split 16 connections 10/6 or 11/5 as often as 8/8;
    with keep-alive they stay where they land, and the busier worker's queue sets the
    slowest answers. Here this process accepts, and passes each connection's descriptor
    to its worker over a Unix socket; the workers count the connections they close.
    Stops all workers when one ends, on Ctrl-C, or on SIGTERM; returns the exit code of
    a worker that ended on its own (negative: killed by that signal), else None."""
    import multiprocessing
    import signal
    import socket
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    closed = context.RawArray("q", workers)  # connections each worker has closed
    handed = [0] * workers  # and each has been given
    channels = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    processes = [context.Process(target=_worker, args=(theirs, i, closed, model_path, shortcut),
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
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(10)
        for ours, _ in channels:
            ours.close()
    return code


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


def _worker(channel, index, closed, model_path, shortcut=None):
    from ..web.app import create_app
    from ..web.server import DealtServer, config
    from .memory import keep_freed_memory

    keep_freed_memory()  # a new process: see cli.main

    server = DealtServer(config(create_app(model_path, shortcut=shortcut)), channel, index, closed)
    _freeze_heap()
    try:
        server.run(sockets=[])
    except KeyboardInterrupt:
        pass


def _freeze_heap():
    """Keep the objects made at start-up (the model, the app, the libraries) out of
    Python's garbage collections from now on: each full collection would otherwise walk
    them all again, a pause of several milliseconds in the middle of requests."""
    import gc

    gc.collect()
    gc.freeze()


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
