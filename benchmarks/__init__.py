"""Side-by-side benchmarks: ``python -m benchmarks`` (see run.py)."""


def recorded_command(module: str, argv=None) -> str:
    """The command that made a model, as its metadata keeps it: ``python -m
    benchmarks.MODULE`` and its arguments, each path cut to its file name (a model
    carries no folder of the machine that trained it)."""
    import os
    import sys

    given = sys.argv[1:] if argv is None else argv
    kept = [os.path.basename(a) if os.sep in a and not a.startswith("-") else a for a in given]
    return " ".join(["python -m", f"benchmarks.{module}", *kept]).strip()
