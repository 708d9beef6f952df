"""Run every benchmark side by side and record the results in BENCHMARKS.md.

    python -m benchmarks            # full run (about 10 minutes on 2 cores)
    python -m benchmarks --quick    # 5,000 images per epoch, extrapolated; one repetition

Each (implementation, case) runs in its own process, one after another, so that
NumPy's and PyTorch's thread pools never fight over the cores. The machine may be
shared and noisy: compare the ratios measured in the same run, not absolute times.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- benchmarks/run.py: begin -->", "<!-- benchmarks/run.py: end -->"

TRAINING = [
    ("seed", "[784, 30, 10] sigmoid, quadratic cost, mini-batch 10, eta 3.0",
     ["tutorial", "digitnet", "torch", "sklearn", "products"]),
    ("relu32", "[784, 128, 64, 10] ReLU, softmax + cross-entropy, mini-batch 32",
     ["digitnet", "torch", "sklearn"]),
    ("relu128", "[784, 128, 64, 10] ReLU, softmax + cross-entropy, mini-batch 128",
     ["digitnet", "torch", "sklearn"]),
]
NAMES = {"tutorial": "the tutorials' algorithm (one example at a time)",
         "digitnet": "digitnet", "torch": "PyTorch (CPU, torch.optim.SGD)",
         "sklearn": "scikit-learn MLPClassifier",
         "products": "lower bound: the step's two matrix products alone (NumPy, 1 BLAS thread)"}


def available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def worker(impl, case, reps, train):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    cmd = [sys.executable, "-m", "benchmarks.worker", impl, case, "--reps", str(reps),
           "--train", str(train)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_time(module, reps=7):
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  env=env).stdout) for _ in range(reps)]
    return statistics.median(times)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    try:
        import numpy as np
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i["user_api"] == "blas"]
        if info:
            i = info[0]
            blas = (f"{i['internal_api']} {i['version']} ({i.get('architecture')}, "
                    f"{i['num_threads']} threads), NumPy {np.__version__}")
    except ImportError:
        pass
    versions = []
    for module in ("torch", "sklearn"):
        if available(module):
            versions.append(f"{module} {__import__(module).__version__}")
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; BLAS: {blas}; "
            + ", ".join(versions))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 images per epoch, 1 rep")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per case (median)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    reps, train = (1, 5000) if args.quick else (args.reps, 50_000)
    have = {"tutorial": True, "digitnet": True, "products": True, "torch": available("torch"),
            "sklearn": available("sklearn")}
    lines = []

    def out(line=""):
        print(line, flush=True)
        lines.append(line)

    out(f"Machine: {machine()}")
    out()
    out("### Training: seconds per epoch over the 50,000 training images (median of "
        f"{reps}{', extrapolated from 5,000 images' if args.quick else ''})")
    out()
    out("| network | implementation | s / epoch | digitnet is ... faster |")
    out("| --- | --- | ---: | ---: |")
    floor = []
    for case, label, impls in TRAINING:
        results = {}
        for impl in impls:
            if not have[impl]:
                results[impl] = {"skipped": f"{impl} not installed"}
                continue
            results[impl] = worker(impl, case, reps, train)
        ours = results["digitnet"].get("median")
        for impl in impls:
            r = results[impl]
            if "median" in r:
                ratio = "1x" if impl == "digitnet" else f"{r['median'] / ours:.1f}x"
                out(f"| {label} | {NAMES[impl]} | {r['median']:.3f} | {ratio} |")
            else:
                why = r.get("skipped") or r.get("error") or "no equivalent configuration"
                out(f"| {label} | {NAMES[impl]} | n/a ({why}) | |")
        if "median" in results.get("products", {}) and "median" in results.get("tutorial", {}):
            floor.append(results["tutorial"]["median"] / results["products"]["median"])
    if floor:
        out()
        out(f"At mini-batch 10 the two matrix products alone take 1/{floor[0]:.1f} of the time the "
            "tutorials' algorithm takes for the whole epoch: no implementation that makes them as "
            f"NumPy calls, step by step, can be more than {floor[0]:.1f}x faster than it.")
    out()
    out("### Inference with [784, 128, 64, 10] (softmax probabilities)")
    out()
    out("| implementation | 10,000 test images in one batch | one image at a time, per image |")
    out("| --- | ---: | ---: |")
    for impl in ("digitnet", "torch", "sklearn"):
        if not have[impl]:
            continue
        r = worker(impl, "infer", reps, train).get("inference")
        if r:
            out(f"| {NAMES[impl]} | {1000 * statistics.median(r['batch']):.2f} ms | "
                f"{1e6 * r['per_image']:.1f} us |")
    out()
    out("### Start-up and memory")
    out()
    out("| what | value |")
    out("| --- | ---: |")
    out(f"| `import digitnet` | {1000 * import_time('digitnet'):.0f} ms |")
    out(f"| `import numpy` (part of the above) | {1000 * import_time('numpy'):.0f} ms |")
    if have["torch"]:
        out(f"| `import torch` | {1000 * import_time('torch'):.0f} ms |")
    for impl in ("digitnet", "torch"):
        if have[impl]:
            r = worker(impl, "memory", 1, 50_000)
            if "peak_rss_mb" in r:
                out(f"| peak resident memory, loading MNIST and training the tutorials' network "
                    f"for an epoch ({NAMES[impl]}) | {r['peak_rss_mb']:.0f} MB |")
    if not args.no_write:
        write(lines, args.quick)
    return 0


def write(lines, quick):
    from digitnet.io import atomic_write

    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join([BEGIN, "", f"Measured {stamp} with `python -m benchmarks"
                       f"{' --quick' if quick else ''}` (DIGITNET_DATA pointing at MNIST).", "",
                       *lines, "", END])
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Side by side: training, inference, start-up\n\n" + block + "\n"
    with atomic_write(path) as tmp:
        Path(tmp).write_text(text)


if __name__ == "__main__":
    sys.exit(main())
