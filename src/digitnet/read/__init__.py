"""Read a written number, such as "504192", from one image.

As tutorial 1 suggests: split the image into candidate digits, and let the
classifier judge the splits.

- ``segment``: the ink, its connected components, and the candidate digits (each
  component whole, cut at its thinnest places, joined with close neighbours), as the
  edges of a lattice from left to right;
- ``judge``: small networks that say whether a candidate is one whole digit;
- ``counter``: the pair reader, a small CNN that says how many digits a candidate holds
  and, when two, which two;
- ``decode``: the chain of candidates with the best score (dynamic programming);
- ``lines``: every line of writing in a picture, one under the other.
"""

from .decode import CUT_COST, DIGIT_BONUS, Digit, Mark, Reading, not_a_digit_reader, read_number
from .judge import features, whole_digit_model
from .lines import read_lines
from .segment import CUT_MARGIN, LINE_HEIGHT, SPLIT_ASPECT, Lattice, Piece, label, lattice, piece_image

__all__ = ["CUT_COST", "CUT_MARGIN", "DIGIT_BONUS", "LINE_HEIGHT", "SPLIT_ASPECT", "Digit",
           "Lattice", "Mark", "Piece", "Reading", "features", "label", "lattice", "not_a_digit_reader",
           "piece_image", "read_lines", "read_number", "whole_digit_model"]
