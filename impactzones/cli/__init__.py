"""The ``impactzones`` command: parsing, one library call, rendering."""

from .main import build_parser, main, os_error_sentence, run_command

__all__ = ["build_parser", "main", "os_error_sentence", "run_command"]
