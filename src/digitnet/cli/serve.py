"""digitnet serve: the drawing page and the JSON API, on a local web server."""


def add_parser(sub):
    from . import positive_int

    p = sub.add_parser("serve", help="web page to draw digits, and a JSON API (needs digitnet[web])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=positive_int, default=8000)
    p.add_argument("--model", help="model file (.npz); default: the best model shipped with digitnet")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="server processes (default 1; use the number of cores under load)")
    return p


def run(args):
    from . import fail

    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError:
        fail('the web server needs its extra: pip install "digitnet[web]"')
    import os

    create_app(args.model)  # fail here, with one line, if the model is unusable
    print(f"digitnet: serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    if args.workers == 1:
        uvicorn.run(create_app(args.model), host=args.host, port=args.port, log_level="warning")
        return
    if args.model:
        os.environ["DIGITNET_SERVE_MODEL"] = os.path.abspath(args.model)
    from uvicorn.supervisors import Multiprocess

    try:
        sock = listening_socket(args.host, args.port)
    except OSError as e:
        fail(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}")
    config = uvicorn.Config("digitnet.web.app:app_from_environment", factory=True, host=args.host,
                            port=args.port, workers=args.workers, log_level="warning")
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass


def listening_socket(host, port):
    """The socket the worker processes share, bound to (host, port).

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
    sock.set_inheritable(True)
    return sock
