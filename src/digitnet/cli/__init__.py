"""The ``digitnet`` command: argument parsing and output formatting only.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args)``; heavy imports happen inside ``run`` so that ``digitnet --help``
stays fast. Every user mistake ends as one line on stderr and exit status 2.
"""

import argparse
import importlib
import os
import signal
import sys

from ..errors import DigitnetError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Sub-command modules, in the order ``digitnet --help`` lists them.
COMMANDS = ["train", "evaluate", "ensemble", "predict", "read", "serve", "export", "plot", "info"]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line."""

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


def build_parser():
    from .. import __version__

    parser = Parser(prog="digitnet", description="Read handwritten digits with a neural "
                    "network written from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    parser.commands = {}
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        parser.commands[name] = module.add_parser(sub)
        parser.commands[name].set_defaults(run=module.run)
    return parser


def parse(parser, argv):
    """``parser.parse_args``, but arguments left over are the sub-command's error
    ("digitnet info: error: ..."), as its help is the one that says what it takes."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.commands[args.command].error(
            f"unrecognized arguments: {' '.join(extra)}")
    return args


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


def main(argv=None):
    from ..data.preprocess import quiet_pillow_size_warning
    from .memory import keep_freed_memory

    args = parse(build_parser(), argv)
    quiet_pillow_size_warning()  # our own one-line refusal comes instead
    keep_freed_memory()  # NumPy's larger arrays then cost no page faults each time
    try:
        return args.run(args) or 0
    except DigitnetError as e:
        print(f"digitnet: error: {shown(e)}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as e:
        if os.environ.get("DIGITNET_DEBUG"):
            raise
        print(f"digitnet: error: {shown(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()
        return 0


def program():
    """The ``digitnet`` program (its console script, and ``python -m digitnet``): ``main``,
    then, its command done and the process only exiting, Ctrl-C ignored. A Ctrl-C that
    late would kill it by the signal, which reads as a failure though everything was
    saved (the interrupted-run test caught one). ``main`` itself leaves signals alone."""
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code
