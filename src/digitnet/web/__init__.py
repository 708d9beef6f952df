"""The web page and JSON API of ``digitnet serve`` (needs the ``web`` extra)."""
