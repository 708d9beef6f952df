"""Models shipped inside the package."""

from pathlib import Path

MODELS_DIR = Path(__file__).parent / "models"


def default_model_path():
    """The best shipped model (``models/best.npz``), or None if none is shipped."""
    path = MODELS_DIR / "best.npz"
    return path if path.is_file() else None
