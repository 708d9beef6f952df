"""Batch mode: digits and numbers a second for one job, every job and a Dask
LocalCluster, with peak memory, on pictures made from MNIST validation digits.

    python -m benchmarks.bench_batch make --dir DIR [--pictures 12000] [--numbers 600] [--tar 100000]
                                                    [--pages 0] [--tiff 0]
    python -m benchmarks.bench_batch run --dir DIR [--rounds 3]
    python -m benchmarks.bench_batch tar --dir DIR
    python -m benchmarks.bench_batch profile --dir DIR
    python -m benchmarks.bench_batch reading --dir DIR [--read 60]

`make` writes DIR/digits/ (28x28 greyscale PNGs, dark ink on white, as a scanner gives
them), DIR/numbers/ (3 to 8 separated digits, synthetic.number) and DIR/digits.tar
(--tar PNGs), and with --pages N DIR/forms.pdf (a page a number, the first N of
numbers/, written on letter paper at 200 dpi) and with --tiff N DIR/forms.tif (a
scanner's multi-page TIFF of N such pages, the numbers taken again in turn when N is
more). Keep DIR out of the repository. `run` times whole commands (`digitnet
predict|read DIR/... --out FILE --quiet`, start-up included; `read forms.pdf` and `read
forms.tif` too when there), the variants interleaved round by round, and samples the
memory of the command and its workers (the sum over the process tree). `tar` reads the
archive with --jobs and prints the memory over time. `profile` times the steps per digit
in one process, interleaved, and counts the validation answers the ensemble's shortcut
changes; `reading` the steps of reading a number (``read.read_number``'s, by its public
functions), in CPU time. The load average is printed with each figure: the machine is
shared.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("make", "run", "tar", "profile", "reading"))
    parser.add_argument("--dir", required=True)
    parser.add_argument("--work", help="run, tar: where the outputs go (default: --dir)")
    parser.add_argument("--pictures", type=int, default=12_000)
    parser.add_argument("--numbers", type=int, default=600)
    parser.add_argument("--tar", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=0, help="make: also DIR/forms.pdf of N pages")
    parser.add_argument("--tiff", type=int, default=0, help="make: also DIR/forms.tif of N pages")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--read", type=int, help="run: read only the first N numbers")
    parser.add_argument("--jobs", type=int, default=2, help="'every job' on this machine")
    parser.add_argument("--only", default="", help="run: only the variants whose name holds this")
    parser.add_argument("--against", metavar="SRC",
                        help="run: also each command with the package in SRC (a src/ folder of "
                        "another version: git archive COMMIT src | tar -x -C DIR)")
    parser.add_argument("--blas", action="store_true",
                        help="run: also one job with two BLAS threads")
    parser.add_argument("--dask", action="store_true", help="tar: on a LocalCluster of --jobs workers")
    args = parser.parse_args(argv)
    {"make": make, "run": run, "tar": tar, "profile": profile, "reading": reading}[args.what](args)


def validation():
    from digitnet.data import mnist

    return mnist.load("mnist", os.environ.get("DIGITNET_DATA")).validation


def png(x):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray((255 - x.reshape(28, 28) * 255).round().astype(np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


def make(args):
    from digitnet.data.synthetic import number

    data = validation()
    digits = os.path.join(args.dir, "digits")
    os.makedirs(digits, exist_ok=True)
    for i in range(args.pictures):
        with open(os.path.join(digits, f"{i:06d}.png"), "wb") as f:
            f.write(png(data.x[i % len(data.x)]))
    numbers = os.path.join(args.dir, "numbers")
    os.makedirs(numbers, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(args.numbers):
        rows = data.x[rng.integers(0, len(data.x), rng.integers(3, 9))]
        image, _ = number(rows, rng)
        image.save(os.path.join(numbers, f"{i:05d}.png"))
    with tarfile.open(os.path.join(args.dir, "digits.tar"), "w") as archive:
        for i in range(args.tar):
            body = png(data.x[i % len(data.x)])
            info = tarfile.TarInfo(f"digits/{i:06d}.png")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    if args.pages:
        forms(numbers, args.pages, os.path.join(args.dir, "forms.pdf"))
    if args.tiff:
        forms(numbers, args.tiff, os.path.join(args.dir, "forms.tif"))
    print(f"{args.pictures} digits, {args.numbers} numbers, a tar of {args.tar}, "
          f"a PDF of {args.pages} pages, a TIFF of {args.tiff} in {args.dir}")


def forms(numbers, n, path):
    """A PDF or a TIFF (by ``path``'s extension; deflated, as scanners save them) of ``n``
    pages, each a number of ``numbers`` written on letter paper (200 dpi), a form's field
    0.6 inch high."""
    from PIL import Image

    names = sorted(os.listdir(numbers))
    pages = []
    for k in range(n):
        number = Image.open(os.path.join(numbers, names[k % len(names)])).convert("L")
        number = number.resize((round(number.width * 120 / number.height), 120), Image.Resampling.BICUBIC)
        page = Image.new("L", (1700, 2200), 255)
        page.paste(number, (300, 400))
        pages.append(page)
    if path.endswith(".pdf"):
        pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=200)
    else:
        pages[0].save(path, format="TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200),
                      compression="tiff_adobe_deflate")


#: Seconds between samples of the memory of a command's process tree: each costs a few
#: milliseconds of CPU time, taken from the command when it keeps every core busy.
SAMPLE_EVERY = 0.25


def measure(argv, out, src=None):
    """Seconds, CPU seconds and peak memory (MB) of a command, and its memory over time.

    The CPU time is the whole process tree's (workers, Dask's processes: each reaped by
    its parent), from the kernel's account once the command has ended; the end is seen
    as it happens (a thread waits for it). The memory is sampled every ``SAMPLE_EVERY``
    seconds: the sum over the tree of each process's proportional set size (its own
    pages, and its share of those it shares: workers started as copies of the main
    process share its pages, which a sum of resident sizes would count once per
    process)."""
    import resource
    import threading

    import psutil

    if os.path.isdir(out):
        import shutil

        shutil.rmtree(out)
    elif os.path.exists(out):
        os.unlink(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = installed(out)
    if src:  # another version of the package, found first
        env["PYTHONPATH"] = os.pathsep.join([os.path.abspath(src), *filter(None, [env.get("PYTHONPATH")])])
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    ended, err = threading.Event(), []
    end = [0.0]

    def wait():
        err.append(process.stderr.read())  # (to the end of the command's standard error)
        process.wait()
        end[0] = time.perf_counter()
        ended.set()

    threading.Thread(target=wait, daemon=True).start()
    tree = psutil.Process(process.pid)
    peak, samples, processes = 0, [], [tree]
    while not ended.is_set():
        if len(samples) % 4 == 0:  # (the processes of the tree, listed again every second)
            processes = [tree, *_children(tree)]
        rss = 0
        for p in processes:
            try:
                rss += _memory(p)
            except psutil.Error:
                pass
        peak = max(peak, rss)
        samples.append((time.perf_counter() - start, rss / 2**20))
        ended.wait(SAMPLE_EVERY)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if process.returncode not in (0, 2):
        sys.exit(f"{' '.join(argv)} failed: {err[0]}")
    return end[0] - start, cpu, peak / 2**20, samples


def _memory(process):
    try:
        return process.memory_full_info().pss
    except (AttributeError, OSError):  # (not on Linux)
        return process.memory_info().rss


def installed(out):
    """The environment of a command, with Python's compiled modules kept (as in an
    installed package; PYTHONDONTWRITEBYTECODE would make every process compile
    digitnet afresh), outside the repository, next to the output."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(os.path.dirname(os.path.abspath(out)), "pycache")
    return env


def _children(process):
    import psutil

    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def digitnet(*argv):
    return [sys.executable, "-m", "digitnet", *map(str, argv)]


def two_blas_threads(*argv):
    """The command, its job computing with as many BLAS threads as cores (NumPy's
    default) instead of one: for comparison only."""
    code = ("import contextlib, sys; from digitnet.batch import work; "
            "work.one_blas_thread = contextlib.nullcontext; from digitnet.cli import main; "
            f"sys.exit(main({list(map(str, argv))!r}))")
    return [sys.executable, "-c", code]


def run(args):
    out = os.path.join(args.work or args.dir, "out.jsonl")
    digits, numbers = os.path.join(args.dir, "digits"), os.path.join(args.dir, "numbers")
    n_digits = len(os.listdir(digits))
    names = sorted(os.listdir(numbers))[:args.read]
    listed = os.path.join(args.work or args.dir, "numbers.txt")
    with open(listed, "w") as f:
        f.writelines(os.path.join(numbers, name) + "\n" for name in names)
    variants = {}
    for command, folder, n in (("predict", [digits], n_digits),
                               ("read", ["--files-from", listed], len(names))):
        for name, extra in (("--jobs 1", ["--jobs", 1]), (f"--jobs {args.jobs}", ["--jobs", args.jobs]),
                            (f"--scheduler local --jobs {args.jobs}",
                             ["--scheduler", "local", "--jobs", args.jobs])):
            if args.only in f"{command} {name}":
                argv = digitnet(command, *folder, "--out", out, "--quiet", *extra)
                variants[f"{command} {name}"] = (argv, n)
        for document in ("forms.pdf", "forms.tif") if command == "read" else ():
            path = os.path.join(args.dir, document)
            if not os.path.exists(path):
                continue
            from digitnet.data.frontend.decode import pages as pages_of

            pages = len(pages_of(path))
            for name, extra in (("--jobs 1", ["--jobs", 1]), (f"--jobs {args.jobs}", ["--jobs", args.jobs])):
                if args.only in f"read {document} {name}":
                    argv = digitnet("read", path, "--out", out, "--quiet", *extra)
                    variants[f"read {document} {name}"] = (argv, pages)
        if args.blas and args.only in f"{command} --jobs 1, 2 BLAS threads":
            argv = two_blas_threads(command, *folder, "--out", out, "--quiet", "--jobs", 1)
            variants[f"{command} --jobs 1, 2 BLAS threads"] = (argv, n)
    if args.against:
        variants.update({f"{name} ({args.against})": (argv, n, args.against)
                         for name, (argv, n) in list(variants.items())})
    results = {name: [] for name in variants}
    for r in range(args.rounds):
        for name, (argv, n, *src) in variants.items():
            load = os.getloadavg()[0]
            seconds, cpu, peak, _ = measure(argv, out, src[0] if src else None)
            results[name].append((n / seconds, peak, load, n / cpu))
            print(f"round {r + 1} {name}: {n / seconds:,.0f} a second, {n / cpu:,.0f} a CPU-second, "
                  f"peak {peak:,.0f} MB, load {load:.1f}", flush=True)
    print("\n| command | inputs | a second: median (range) | a CPU-second | peak MB | load average |")
    print("|---|---|---|---|---|---|")
    for name, (_, n, *_src) in variants.items():
        got = results[name]
        rates = [r[0] for r in got]
        print(f"| `{name}` | {n:,} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) | "
              f"{statistics.median(r[3] for r in got):,.0f} | {statistics.median(r[1] for r in got):,.0f} | "
              f"{min(r[2] for r in got):.1f}-{max(r[2] for r in got):.1f} |")
    for command, version in [(c, v) for v in ("", *([f" ({args.against})"] if args.against else []))
                             for c in ("predict", "read")]:
        one, many, dask = (results.get(f"{command} {name}{version}") for name in (
            "--jobs 1", f"--jobs {args.jobs}", f"--scheduler local --jobs {args.jobs}"))
        for name, top, bottom in ((f"--jobs {args.jobs} / --jobs 1", many, one),
                                  (f"Dask / --jobs {args.jobs}", dask, many)):
            if top and bottom:
                whole = statistics.median(r[0] for r in top) / statistics.median(r[0] for r in bottom)
                rounds = ", ".join(f"{a[0] / b[0]:.2f}" for a, b in zip(top, bottom))
                print(f"{command}{version}: {name} = {whole:.2f} (by round: {rounds})")


def tar(args):
    archive = os.path.join(args.dir, "digits.tar")
    out = os.path.join(args.work or args.dir, "tar.jsonl")
    load = os.getloadavg()[0]
    where = ["--scheduler", "local"] if args.dask else []
    seconds, cpu, peak, samples = measure(digitnet("predict", archive, "--out", out, "--quiet",
                                                   "--jobs", args.jobs, *where), out)
    with open(out) as f:
        n = sum(1 for _ in f)
    print(f"{' '.join(where)} --jobs {args.jobs}: {n:,} pictures from a tar in {seconds:.0f} s "
          f"({n / seconds:,.0f} a second, "
          f"{n / cpu:,.0f} a CPU-second), peak {peak:,.0f} MB, load {load:.1f}-{os.getloadavg()[0]:.1f}")
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        t, rss = samples[min(len(samples) - 1, int(fraction * (len(samples) - 1)))]
        print(f"  at {t:5.0f} s: {rss:,.0f} MB")


def profile(args):
    """Per-digit costs of the steps, interleaved in one process, and the shortcut's
    changes to the answers on the 10,000 validation digits (as pictures)."""
    from threadpoolctl import threadpool_limits

    from digitnet.batch import clean, predict_many
    from digitnet.data.preprocess import to_mnist
    from digitnet.nn.ensemble import Ensemble
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import SHORTCUT, resolve_model

    threadpool_limits(1, user_api="blas")
    data = validation()
    pictures = [png(x) for x in data.x]
    sample = pictures[:2560]
    fast = for_inference(resolve_model(None))
    whole, early = Ensemble(fast.members), Ensemble(fast.members, shortcut=SHORTCUT)
    x = np.stack([to_mnist(p) for p in sample])
    steps = {
        "prepare: to_mnist, one picture at a time": lambda: [to_mnist(p) for p in sample],
        "prepare: the cheap path for small clean scans, 256 at a time": lambda: [
            clean.prepare([clean.decode(p) for p in sample[i:i + 256]]) for i in range(0, len(sample), 256)],
        "network: ensemble, one digit at a time": lambda: [whole.confidences(x[i:i + 1]) for i in range(256)],
        "network: ensemble, 256 at a time": lambda: [
            whole.confidences(x[i:i + 256]) for i in range(0, len(x), 256)],
        "network: ensemble with shortcut, 256 at a time (passes of 128)": lambda: [
            early.confidences(x[i:i + 256]) for i in range(0, len(x), 256)],
        "network: ensemble with shortcut, 256 at a time (passes of 32)": lambda: [
            early.confidences(x[i:i + 256], 32) for i in range(0, len(x), 256)],
    }
    steps["network: ensemble with shortcut, 256 at a time (passes of 32), 2 BLAS threads"] = steps[
        "network: ensemble with shortcut, 256 at a time (passes of 32)"]
    times = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            threads = threadpool_limits(2 if "2 BLAS" in name else 1, user_api="blas")
            start = time.perf_counter()
            step()
            threads.restore_original_limits()
            n = 256 if "one digit" in name else len(sample)
            times[name].append((time.perf_counter() - start) / n * 1e6)
    print(f"load average {os.getloadavg()[0]:.1f}")
    for name, t in times.items():
        print(f"{name}: {statistics.median(t):,.0f} us a digit ({min(t):,.0f}-{max(t):,.0f})")
    cheap = [c for i in range(0, len(pictures), 256)
             for c in clean.prepare([clean.decode(p) for p in pictures[i:i + 256]])]
    same = sum(c is not None and c.tobytes() == to_mnist(p).tobytes() for c, p in zip(cheap, pictures))
    print(f"the cheap path took {sum(c is not None for c in cheap):,} of the {len(pictures):,} validation "
          f"pictures; its input to the network was to_mnist's to the last bit for {same:,}")
    plain = [r.answer for r in predict_many(pictures, shortcut=None)]
    short = [r.answer for r in predict_many(pictures, shortcut=SHORTCUT)]
    labels = [str(y) for y in data.y]
    print(f"shortcut {SHORTCUT}: {sum(a != b for a, b in zip(plain, short))} of {len(plain):,} validation "
          f"answers changed; right: {sum(a == y for a, y in zip(plain, labels)):,} without, "
          f"{sum(a == y for a, y in zip(short, labels)):,} with")



def reading(args):
    """Where the time of reading a number goes: ``read_number``'s steps, one BLAS thread,
    CPU time over the first ``--read`` numbers (60 by default), and the candidate pieces
    classified per number."""
    from threadpoolctl import threadpool_limits

    from digitnet.batch import Task
    from digitnet.batch.work import build
    from digitnet.read import counter, decode, judge
    from digitnet.read.segment import lattice, piece_image

    threadpool_limits(1, user_api="blas")
    network, _ = build(Task("read"))
    folder = os.path.join(args.dir, "numbers")
    names = sorted(os.listdir(folder))[:args.read or 60]
    steps = {"segment (lattice)": 0.0, "piece images": 0.0, "classifier (ensemble)": 0.0,
             "judge": 0.0, "counter and pair reader": 0.0, "decode": 0.0}
    pieces = []
    for name in names:
        clock = time.process_time()

        def lap(step):
            nonlocal clock
            now = time.process_time()
            steps[step] += now - clock
            clock = now

        lat = lattice(os.path.join(folder, name))
        lap("segment (lattice)")
        keys = list(lat.pieces)
        images = np.stack([piece_image(lat.small, lat.pieces[k]) for k in keys])
        lap("piece images")
        probabilities = network.confidences(images)
        lap("classifier (ensemble)")
        whole = judge.log_whole(images, judge.features(lat, keys, probabilities))
        lap("judge")
        assessed = counter.assess(lat, keys)
        lap("counter and pair reader")
        log_count, pair = assessed if assessed is not None else (None, None)
        judged = judge.whole_digit_model() is not None
        decode.decode(lat, decode.Scores(keys, probabilities, whole, judged, log_count, pair))
        lap("decode")
        pieces.append(len(keys))
    total = sum(steps.values())
    print(f"{len(names)} numbers, {len(names) / total:.1f} a CPU-second; candidate pieces a number: median "
          f"{statistics.median(pieces):.0f} ({min(pieces)}-{max(pieces)}); load {os.getloadavg()[0]:.1f}")
    for step, seconds in steps.items():
        print(f"| {step} | {seconds / len(names) * 1e3:,.1f} ms | {seconds / total:.0%} |")
    print(f"classifier: {steps['classifier (ensemble)'] / sum(pieces) * 1e3:.2f} ms a piece (five networks)")


if __name__ == "__main__":
    main()
