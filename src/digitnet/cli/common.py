"""What the commands share: the one-line failure, argument types, checks of output
files, the data they read and the classes a model expects."""

import argparse

from ..errors import DigitnetError

__all__ = ["EXIT_USAGE", "EXIT_INTERRUPTED", "Parser", "positive_int", "positive_float", "path",
           "shown", "fail", "check_output", "check_classes", "load_data"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line."""

    #: The sub-commands' parsers, by name (set by ``build_parser``).
    commands: dict[str, "Parser"]

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


positive_int, positive_float = _positive(int), _positive(float)


def path(text):
    """A file or folder argument: an empty one would mean the current folder to
    ``Path`` ("" becomes "."), so it is refused."""
    if not text:
        raise argparse.ArgumentTypeError("empty path")
    return text


def shown(text):
    """``text`` on one line: a newline or other control character in a file's name
    is written as Python would escape it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def fail(message):
    """Raise the error the CLI reports as one line with exit status 2."""
    raise DigitnetError(message)


def check_output(flag, path, inputs=(), clash="one of the inputs"):
    """Refuse, before any work, an output the command could not write safely (no such
    folder; a folder or a device in its place) or one that is among its ``inputs``
    (``clash`` says which, e.g. "the model being exported")."""
    from .. import io
    from ..errors import ModelFileError

    named = f"{flag} " if flag else ""
    try:
        io.check_output(path)
    except ModelFileError as e:
        fail(f"{named}{e}")
    if any(io.same_file(path, given) for given in inputs):
        fail(f"{named}{path} is {clash}: write it elsewhere")


def check_classes(model, data):
    """``digitnet.io.check_classes``, imported when used (``digitnet --help`` stays light)."""
    from ..io import check_classes as check

    check(model, data)


def load_data(args):
    """The data set of ``--dataset``, ``--data`` and ``--test`` (train, evaluate, ensemble, plot),
    refusing flags that the data would silently ignore."""
    from ..data import formats

    dataset, test = getattr(args, "dataset", "mnist"), getattr(args, "test", None)
    if formats.is_other_format(args.data, dataset):
        if dataset != "mnist":
            fail(f"--dataset {dataset} names IDX files; {args.data} brings its own classes "
                 f"(leave --dataset out)")
    elif test is not None:
        fail("--test is for a CSV file or class folders given as --data; IDX data sets "
             "bring their own test files (t10k-*)")
    return formats.load(dataset, args.data, test)
