"""Whole training runs from settings, as ``digitnet train`` runs them (the command line
only parses and prints): ``settings`` is the schema and its checks, ``session`` one
run with checkpoints and a model file, ``ensemble`` several runs averaged.
``digitnet.train.fit`` is the training loop they all use.
"""

from .ensemble import EnsembleResult
from .session import Result, RunSpec, Session, run
from .settings import OVERRIDES, RUN_DEFAULTS, SETTINGS, from_recipe, resolve

__all__ = ["run", "from_recipe", "resolve", "Session", "RunSpec", "Result", "EnsembleResult",
           "SETTINGS", "OVERRIDES", "RUN_DEFAULTS"]
