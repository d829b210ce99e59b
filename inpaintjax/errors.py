"""The project's own error types: bad input that the command lines end with one line.

`main`, `sweep`, `evaluate` and `inpaint` print `error: MESSAGE` and exit with status 2 for
these (and for a missing file); anything else is a bug and keeps its traceback. Both derive
from the built-in type a caller would expect, so `except ValueError` still catches a
`ConfigError`.
"""


class ConfigError(ValueError):
  """A config field (or a command-line flag) has a value the project cannot use."""


class RunError(RuntimeError):
  """A run folder cannot be used: unwritable, another config's run, no usable checkpoint."""


class DataError(ValueError):
  """A dataset cannot be read or used: a corrupt file, wrong dtype or shape, an unknown name."""
