"""The ``digitnet`` command: argument parsing and output formatting only.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args)``; heavy imports happen inside ``run`` so that ``digitnet --help``
stays fast. Every user mistake ends as one line on stderr and exit status 2.
"""

import importlib
import os
import signal
import sys

from ..errors import DigitnetError
from .common import (  # noqa: F401  (the sub-commands' helpers, as they import them)
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Parser,
    check_output,
    fail,
    path,
    positive_float,
    positive_int,
    shown,
)

#: Sub-command modules, in the order ``digitnet --help`` lists them.
COMMANDS = ["train", "evaluate", "ensemble", "predict", "read", "serve", "export", "plot", "info"]


def build_parser():
    from .._version import __version__

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
