"""Exceptions the package raises for bad input; the CLI turns them into one-line messages."""


class CoronaError(Exception):
    """Base class for errors caused by user input (configs, data files, arguments)."""


class ConfigError(CoronaError, ValueError):
    """A configuration key, value or combination of values is not allowed.

    The message names the key, the value given and what is allowed.
    """


class DataFileError(CoronaError, FileNotFoundError):
    """A data file the calculation needs is missing or unreadable; the message names it."""


class ArgumentError(CoronaError, ValueError):
    """A function or command-line argument is not allowed (unknown name, energy outside the
    tables, negative density or distance, wrong shape); the message names the argument, the
    value given and what is allowed."""
