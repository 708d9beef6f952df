"""Models shipped inside the package (see README, "Accuracy", for how each was trained).

- ``models/ensemble.npz``: the best ensemble of CNNs;
- ``models/cnn.npz``: one batch-normalised CNN (a member of the ensemble).

Everything that recognises digits uses the best of them when no model is given.
"""

from pathlib import Path

MODELS_DIR = Path(__file__).parent / "models"
PREFERENCE = ("ensemble.npz", "cnn.npz")


def default_model_path():
    """The best shipped model, or None if none is shipped."""
    for name in PREFERENCE:
        path = MODELS_DIR / name
        if path.is_file():
            return path
    return None
