"""digitnet serve: the drawing page and the JSON API, on a local web server."""


def add_parser(sub):
    from ..pretrained import SHORTCUT
    from . import positive_int

    p = sub.add_parser("serve", help="web page to draw digits, and a JSON API (needs digitnet[web])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--model", help="model file (.npz), or a shipped model by name: ensemble (the "
                   "default: five CNNs averaged) or cnn (one CNN); `digitnet info NAME` prints its "
                   "accuracy")
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
        from ..web.server import config, freeze_heap, listening_socket, pin_blas_to_one_thread
        from ..web.workers import serve_workers
    except ImportError:
        fail('the web server needs its extra: pip install "digitnet[web]"')
    import os
    import socket

    from .memory import keep_freed_memory

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
        pin_blas_to_one_thread()
        freeze_heap()
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        return
    del app  # each worker loads its own
    with sock:
        model = args.model and os.path.abspath(shipped_by_name(args.model))
        code = serve_workers(sock, args.workers, model, args.shortcut, keep_freed_memory)
    if code is not None:
        how = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
        fail(f"a server worker stopped on its own ({how}); all workers were stopped")
