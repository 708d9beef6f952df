"""The version of digitnet, in a module of its own so that any module can import it
without importing the package (and everything it re-exports)."""

__version__ = "0.1.0"
