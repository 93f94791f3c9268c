"""The one error family GridLoop raises for problems a user can fix.

`GridLoopError` carries a message meant for a person; the CLI prints it without a traceback.
`InputError` adds where the bad input is (file, line, key path), so every complaint about a
scenario, handbook or city file reads `FILE:LINE: key.path: expected ..., got ...`.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["GridLoopError", "InputError", "reading", "did_you_mean"]


class GridLoopError(Exception):
    """Base class for errors a user can act on (bad input, missing files, bad options)."""


class InputError(GridLoopError):
    """Bad input data, located by file, line and dotted key path.

    Args:
        file: the file (or pseudo-source such as ``--set``) the value came from.
        line: 1-based line number, or None where the source has no lines.
        path: dotted key path of the offending value (``inspectors.count``).
        message: what was expected and what was got.
    """

    def __init__(self, file: str, line: int | None, path: str, message: str) -> None:
        self.file, self.line, self.path, self.message = file, line, path, message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choices closest to a mistyped ``word``, else ``""``:
    the tail of an error message about an unknown name, key or command."""
    from sim.i18n.catalogue import gettext as _  # sim.i18n's errors are built on these

    close = difflib.get_close_matches(word, list(choices), n=2, cutoff=0.6)
    if not close:
        return ""
    return _(" (did you mean {names}?)").format(names=_(" or ").join(repr(c) for c in close))


@contextmanager
def reading(file: str, what: str) -> Iterator[None]:
    """Turn the ways reading ``file`` fails (missing, not UTF-8, not CSV, unreadable) into an
    `InputError` naming the file; ``what`` is what it should have been ("a grid table (CSV)")."""
    from sim.i18n.catalogue import gettext as _

    try:
        yield
    except FileNotFoundError:
        raise InputError(file, None, "", _("expected {what}, got no such file").format(
            what=what)) from None
    except UnicodeDecodeError as e:
        raise InputError(file, None, "", _("expected UTF-8 text, got {reason}").format(
            reason=e.reason)) from None
    except csv.Error as e:
        raise InputError(file, None, "", _("expected CSV, got {error}").format(
            error=e)) from None
    except OSError as e:
        raise InputError(file, None, "", _("cannot read: {reason}").format(
            reason=e.strerror)) from None
