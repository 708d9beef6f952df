"""digitnet info: what a model is, how it was trained, and its metrics."""

import json


def add_parser(sub):
    from .common import path

    p = sub.add_parser("info", help="what a model is, how it was trained, its metrics")
    p.add_argument("model", type=path,
                   help="model file (.npz), or a shipped model by name: ensemble, cnn")
    p.add_argument("--json", action="store_true", help="print the model's whole config")
    return p


def _dict(value):
    """A metadata field that should be an object: {} when it is absent or malformed."""
    return value if isinstance(value, dict) else {}


def _dicts(value):
    """A metadata field that should be a list of objects: its objects, if it is a list."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _describe_layer(layer):
    if layer.get("type") == "Linear":
        return f"Linear({layer.get('in_features', '?')}->{layer.get('out_features', '?')})"
    return str(layer.get("type", "?"))


def _command(command):
    """A command as the shell would take it back: a list of arguments quoted, a string as stored."""
    import shlex

    if isinstance(command, list):
        return shlex.join(map(str, command))
    return str(command)


def run(args):
    """What the model file says of itself; a malformed field of its metadata (edited by
    hand, or from another program) is shown as unknown instead of stopping the rest."""
    from ..io import read_config, trained_on_validation
    from ..pretrained import shipped_by_name
    from .common import shown

    config = read_config(shipped_by_name(args.model))
    if args.json:
        print(json.dumps(config, indent=2))
        return
    members = _dicts(config.get("ensemble"))
    net = _dict(config.get("network")) or (members[0] if members else {})
    loss = _dict(net.get("loss"))
    output = {"SoftmaxCrossEntropy": "softmax", "BinaryCrossEntropy": "sigmoid"}.get(
        loss.get("type"), loss.get("activation", "?"))
    print(f"Model:        {shown(args.model)}")
    print(f"Format:       {config.get('format')} v{config.get('format_version')}, "
          f"written by digitnet {config.get('digitnet_version')}")
    layers = [", ".join(_describe_layer(x) for x in _dicts(m.get("layers"))) for m in members or [net]]
    alike = len(set(layers)) == 1
    if members:
        print(f"Ensemble:     {len(members)} networks, their probabilities averaged"
              + ("; each:" if alike else ""))
    print(f"Input:        {net.get('input_shape')} {net.get('dtype')}")
    if alike:
        print(f"Layers:       {layers[0]}")
    else:
        for i, described in enumerate(layers):
            print(f"Layers {i}:     {described}")
    print(f"Cost:         {loss.get('type')} ({output} outputs)")
    pre = _dict(config.get("preprocessing"))
    if pre:
        print(f"Expects:      {pre.get('input')}; {pre.get('scale')}")
    training = _dict(config.get("training"))
    apart = ("command", "resumed", "environment", "data_sha256", "member_training")
    if training:
        print("Training:     " + ", ".join(f"{k}={v}" for k, v in training.items()
                                           if k not in apart))
        if "data_sha256" in training:
            print(f"Data:         {training.get('train_images')} training images, "
                  f"SHA-256 {training['data_sha256']}")
        environment = _dict(training.get("environment"))
        if environment:
            print("Environment:  " + ", ".join(f"{k} {v}" for k, v in environment.items()))
        for member in _dicts(training.get("member_training")):
            print(f"Member:       seed {member.get('seed')}, {_command(member.get('command'))}")
        if "command" in training:
            print(f"Reproduce:    {_command(training['command'])}")
        resumed = training.get("resumed")
        for command in resumed if isinstance(resumed, list) else ():
            print(f"Resumed with: {_command(command)}")
    metrics = _dict(config.get("metrics"))
    if metrics:
        full = trained_on_validation({"training": {**training, "member_training":
                                                   _dicts(training.get("member_training"))}})
        print("Metrics:      " + ", ".join(
            f"{k}={100 * v:.2f}%" if "accuracy" in k and isinstance(v, float)
            else f"{k}=none (trained on it, --full)" if k == "validation_accuracy" and v is None and full
            else f"{k}={v}" for k, v in metrics.items()))
