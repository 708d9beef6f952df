"""Exceptions for problems a user can fix. The CLI turns each into one line and exit 2."""


class DigitnetError(Exception):
    """Base class: a user mistake or bad input, explained in one line."""


class DataError(DigitnetError):
    """A data file is missing, corrupt, or not what it claims to be."""


class ModelFileError(DigitnetError):
    """A model file is missing, truncated, foreign, or does not match its config."""


class ImageError(DigitnetError):
    """An image cannot be read or is not usable as a digit."""


class TrainingDiverged(DigitnetError):
    """The loss or the weights became NaN or infinite during training."""


class NoDigitError(ImageError):
    """A readable picture in which no digit was found (blank, or nothing but paper)."""


class SeveralDigitsWarning(UserWarning):
    """``digitnet.predict`` was given a picture that looks like several digits side by
    side (a number): it answers one of them; ``digitnet.read_number`` reads numbers."""
