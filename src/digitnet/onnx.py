"""Export digitnet models to ONNX (needs the ``onnx`` package).

The graph takes ``input``, float32 (batch, 784) rows of pixels in [0, 1] as digitnet
does, and gives ``probabilities`` (batch, classes): what ``model.confidences`` returns,
the average over members for an ensemble.
"""

import numpy as np

from .errors import DigitnetError

OPSET = 17


def to_onnx(model):
    """An ``onnx.ModelProto`` computing ``model.confidences``."""
    import onnx
    from onnx import TensorProto, helper

    nodes, initializers = [], []
    counter = iter(range(1_000_000))

    def name(prefix):
        return f"{prefix}_{next(counter)}"

    def constant(value, prefix):
        n = name(prefix)
        initializers.append(onnx.numpy_helper.from_array(np.asarray(value), n))
        return n

    def node(op, inputs, **attributes):
        out = name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    def network(net, x):
        for layer in net.layers:
            kind, cfg = type(layer).__name__, layer.config()
            if kind == "Linear":
                x = node("Gemm", [x, constant(layer.params["weight"].astype(np.float32), "W"),
                                  constant(layer.params["bias"].astype(np.float32), "b")])
            elif kind in ("ReLU", "Sigmoid", "Tanh"):
                x = node({"ReLU": "Relu"}.get(kind, kind), [x])
            elif kind == "Softmax":
                x = node("Softmax", [x], axis=-1)
            elif kind == "Identity" or kind == "Dropout":
                continue
            elif kind == "Reshape":
                x = node("Reshape", [x, constant(np.array([-1, *cfg["shape"]], np.int64), "shape")])
            elif kind == "Flatten":
                x = node("Flatten", [x], axis=1)
            elif kind == "Conv2D":
                k, s, p = cfg["kernel_size"], cfg["stride"], cfg["padding"]
                x = node("Conv", [x, constant(layer.params["weight"].astype(np.float32), "W"),
                                  constant(layer.params["bias"].astype(np.float32), "b")],
                         kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p])
            elif kind == "MaxPool2D":
                x = node("MaxPool", [x], kernel_shape=[cfg["size"]] * 2, strides=[cfg["size"]] * 2)
            elif kind == "BatchNorm":
                params = [layer.params["weight"], layer.params["bias"], layer.running_mean,
                          layer.running_var]
                x = node("BatchNormalization",
                         [x, *(constant(a.astype(np.float32), "bn") for a in params)],
                         epsilon=cfg["eps"])
            else:
                raise DigitnetError(f"ONNX export does not know the layer {kind}")
        activation = net.loss.activation
        if activation == "softmax":
            return node("Softmax", [x], axis=-1)
        x = node({"sigmoid": "Sigmoid", "tanh": "Tanh"}.get(activation, "Identity"), [x])
        x = node("Relu", [x])  # confidences: clipped at 0, then divided by their sum
        total = node("ReduceSum", [x, constant(np.array([1], np.int64), "axes")], keepdims=1)
        total = node("Max", [total, constant(np.array(np.finfo(np.float32).tiny, np.float32), "tiny")])
        return node("Div", [x, total])

    members = getattr(model, "members", [model])
    outputs = [network(member, "input") for member in members]
    out = outputs[0] if len(outputs) == 1 else node(
        "Mul", [node("Sum", outputs), constant(np.array(1 / len(outputs), np.float32), "scale")])
    nodes.append(helper.make_node("Identity", [out], ["probabilities"]))
    graph = helper.make_graph(
        nodes, "digitnet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *members[0].input_shape])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", members[0].n_outputs])],
        initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="digitnet")
    proto.ir_version = min(proto.ir_version, 9)
    onnx.checker.check_model(proto)
    return proto


def export(model, path):
    """Write ``model`` as an ONNX file at ``path``, atomically."""
    from pathlib import Path

    from .io import atomic_write

    proto = to_onnx(model)
    with atomic_write(path, suffix=".onnx") as tmp:
        Path(tmp).write_bytes(proto.SerializeToString())
    return path
