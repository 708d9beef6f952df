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
    uvicorn.run("digitnet.web.app:app_from_environment", factory=True, host=args.host,
                port=args.port, workers=args.workers, log_level="warning")
