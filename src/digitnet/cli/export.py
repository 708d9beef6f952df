"""digitnet export: a model as an ONNX file."""


def add_parser(sub):
    p = sub.add_parser("export", help="export a model (MLP, CNN or ensemble) to ONNX",
                       description="Write MODEL as an ONNX graph: input float32 (batch, 784) "
                       "pixels in [0, 1], output (batch, 10) probabilities. Needs digitnet[onnx].")
    p.add_argument("model")
    p.add_argument("out", help="the .onnx file to write")
    return p


def run(args):
    import os

    from ..io import load_model
    from . import fail

    try:
        import onnx  # noqa: F401

        from ..onnx import export
    except ImportError:
        fail('ONNX export needs its extra: pip install "digitnet[onnx]"')
    folder = os.path.dirname(args.out) or "."
    if not os.path.isdir(folder):
        fail(f"{args.out}: folder {folder} does not exist")
    export(load_model(args.model), args.out)
    print(f"Saved {args.out}")
