"""The errors that mean "the user's input or environment is wrong": reported in one line, exit 2, no traceback.

Every such error derives from :class:`UserError`; this module imports nothing from the package, so any
module may raise them without an import cycle."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, config or environment: the message names the file, line, key or id at fault."""


class ConfigError(UserError, ValueError):
    """A config value is unknown or impossible; the message names the key and what is allowed."""


#: what the command-line entry points catch and report as ``error: <message>`` with exit status 2.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, FileNotFoundError)
