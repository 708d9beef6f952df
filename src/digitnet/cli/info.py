"""digitnet info: what a model is, how it was trained, and its metrics."""

import json


def add_parser(sub):
    from . import path

    p = sub.add_parser("info", help="what a model is, how it was trained, its metrics")
    p.add_argument("model", type=path)
    p.add_argument("--json", action="store_true", help="print the model's whole config")
    return p


def _describe_layer(layer):
    if layer.get("type") == "Linear":
        return f"Linear({layer['in_features']}->{layer['out_features']})"
    return layer.get("type", "?")


def run(args):
    from ..io import read_config, trained_on_validation

    config = read_config(args.model)
    if args.json:
        print(json.dumps(config, indent=2))
        return
    members = config.get("ensemble") or []
    net = config.get("network") or (members[0] if members else {})
    loss = net.get("loss", {})
    output = {"SoftmaxCrossEntropy": "softmax", "BinaryCrossEntropy": "sigmoid"}.get(
        loss.get("type"), loss.get("activation", "?"))
    print(f"Model:        {args.model}")
    print(f"Format:       {config.get('format')} v{config.get('format_version')}, "
          f"written by digitnet {config.get('digitnet_version')}")
    layers = [", ".join(_describe_layer(x) for x in m.get("layers", [])) for m in members or [net]]
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
    pre = config.get("preprocessing") or {}
    if pre:
        print(f"Expects:      {pre.get('input')}; {pre.get('scale')}")
    training = config.get("training") or {}
    apart = ("command", "resumed", "environment", "data_sha256", "member_training")
    if training:
        print("Training:     " + ", ".join(f"{k}={v}" for k, v in training.items()
                                           if k not in apart))
        if "data_sha256" in training:
            print(f"Data:         {training.get('train_images')} training images, "
                  f"SHA-256 {training['data_sha256']}")
        if "environment" in training:
            environment = training["environment"].items()
            print("Environment:  " + ", ".join(f"{k} {v}" for k, v in environment))
        for member in training.get("member_training") or ():
            print(f"Member:       seed {member.get('seed')}, {member.get('command')}")
        if "command" in training:
            print(f"Reproduce:    {training['command']}")
        for command in training.get("resumed") or ():
            print(f"Resumed with: {command}")
    metrics = config.get("metrics") or {}
    if metrics:
        print("Metrics:      " + ", ".join(
            f"{k}={100 * v:.2f}%" if "accuracy" in k and isinstance(v, float)
            else f"{k}=none (trained on it, --full)" if k == "validation_accuracy" and v is None
            and trained_on_validation(config)
            else f"{k}={v}" for k, v in metrics.items()))
