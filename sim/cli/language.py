"""The command line in its user's language: which language a command line asks for (read
before its parser is built, so the help and argparse's errors speak it too), and argparse's
own words (``usage:``, ``options``, its error messages) through the catalogue.

The commands' help texts are marked with ``_()`` where each parser is built; argparse's own
messages are English text formatted inside argparse, so `argparse_message` puts a formatted
one back into its template, translates the template and keeps the names, values and choices
it holds verbatim.
"""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from collections.abc import Sequence

from sim.i18n import DEFAULT, ENV, N_, _, check_language

__all__ = ["language_of", "Formatter", "localise", "argparse_message"]


def language_of(argv: Sequence[str]) -> str:
    """The language ``argv`` asks for: its ``--lang`` (``--lang X`` or ``--lang=X``), else
    ``$GRIDLOOP_LANG``, else English.

    Raises:
        LanguageError: a language GridLoop does not have, naming ``--lang`` or the variable.
    """
    given = None
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and i + 1 < len(argv):
            given = argv[i + 1]
        elif word.startswith("--lang="):
            given = word.split("=", 1)[1]
    if given is not None:
        return check_language(given, "--lang")
    env = os.environ.get(ENV, "")
    return check_language(env, ENV) if env else DEFAULT


_CLOSING = "）)，。；：、！？」"
_OPENING = "（(「"


def _cells(text: str) -> int:
    """Columns ``text`` takes on a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class Formatter(argparse.HelpFormatter):
    """argparse's help with its own headings (``usage:``) in the language in force, and
    Chinese help wrapped by the columns it takes (argparse wraps at spaces, which Chinese
    does not have, and counts a character as one column)."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)

    def _format_usage(self, usage, actions, groups, prefix):  # type: ignore[no-untyped-def]
        extra = _cells(prefix or "") - len(prefix or "")
        if extra <= 0:
            return super()._format_usage(usage, actions, groups, prefix)
        self._width -= extra          # argparse counts the prefix's characters, not columns
        try:
            text = super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += extra
        first, *rest = text.split("\n")    # continuation lines line up under the first
        return "\n".join([first, *(" " * extra + line if line.startswith(" ") else line
                                    for line in rest)])

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if _cells(text) == len(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in self._split_lines(text, width - len(indent)))

    def _split_lines(self, text: str, width: int) -> list[str]:
        if _cells(text) == len(text):
            return super()._split_lines(text, width)
        lines: list[list[str]] = [[]]
        for word in re.findall(r"[\x21-\x7e]+|\s+|.", " ".join(text.split())):
            line = lines[-1]
            if line and _cells("".join(line) + word.rstrip()) > width:
                # closing punctuation never starts a line, opening never ends one: the word
                # before it (or the bracket) goes down with it
                carry = [line.pop()] if word in _CLOSING and len(line) > 1 else []
                while len(line) > 1 and (line[-1] in _OPENING or line[-1].isspace()):
                    carry.insert(0, line.pop())
                lines.append([w for w in carry if not w.isspace()] if not word.isspace()
                             else [])
            if not (word.isspace() and not lines[-1]):
                lines[-1].append(word)
        return [t for t in ("".join(line).strip() for line in lines) if t]


def localise(parser: argparse.ArgumentParser) -> None:
    """Put argparse's own words of a new parser (its section titles, ``-h``'s help) in the
    language in force."""
    parser._positionals.title = _("positional arguments")
    parser._optionals.title = _("options")
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = _("show this help message and exit")


# argparse's messages (Python 3.12) as patterns of what they hold -> the same message, marked
# for the catalogue with the held parts as {fields}
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), text) for pattern, text in (
        (r"argument (?P<argument>[^:]+): (?P<message>.*)", N_("argument {argument}: {message}")),
        (r"invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)",
         N_("invalid choice: {value} (choose from {choices})")),
        (r"invalid (?P<type>\S+) value: (?P<value>.*)", N_("invalid {type} value: {value}")),
        (r"the following arguments are required: (?P<names>.*)",
         N_("the following arguments are required: {names}")),
        (r"one of the arguments (?P<names>.*) is required",
         N_("one of the arguments {names} is required")),
        (r"not allowed with argument (?P<name>.*)", N_("not allowed with argument {name}")),
        (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)",
         N_("ambiguous option: {option} could match {matches}")),
        (r"expected one argument", N_("expected one argument")),
        (r"expected at most one argument", N_("expected at most one argument")),
        (r"expected at least one argument", N_("expected at least one argument")),
    ))


def argparse_message(message: str) -> str:
    """An argparse error message in the language in force (itself in English, or when it
    matches none of argparse's templates: then it is one of ours, already translated)."""
    for pattern, text in _MESSAGES:
        if m := pattern.fullmatch(message):
            fields = m.groupdict()
            if "message" in fields:
                fields["message"] = argparse_message(fields["message"])
            return _(text).format(**fields)
    return message
