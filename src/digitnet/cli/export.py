"""digitnet export: a model as an ONNX file."""


def add_parser(sub):
    from . import path

    p = sub.add_parser("export", help="export a model (MLP, CNN or ensemble) to ONNX",
                       description="Write MODEL as an ONNX graph: input float32 (batch, 784) "
                       "pixels in [0, 1], output (batch, 10) probabilities. Needs digitnet[onnx].")
    p.add_argument("model", type=path)
    p.add_argument("out", type=path, help="the .onnx file to write")
    return p


def run(args):
    from ..io import load_model
    from . import check_output, fail

    try:
        import onnx  # noqa: F401

        from ..onnx import export
    except ImportError:
        fail('ONNX export needs its extra: pip install "digitnet[onnx]"')
    check_output(None, args.out, [args.model], clash="the model being exported")
    export(load_model(args.model), args.out)
    print(f"Saved {args.out}")
