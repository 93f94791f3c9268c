"""The words the sandbox shows for its fixed vocabulary, in the glossary's terms.

Codes stay English in records and URLs (``dispatch``, ``urgent``); these tables give what a
person reads, marked for the catalogue and translated where shown: card kinds, report
channels, actions, levels, roles, urgency, severities and time-limit units. Department and
subclass names come from the scenario data (``name`` / ``name_zh``).
"""

from __future__ import annotations

from typing import Any

from sim.i18n import N_, gettext, local_name

__all__ = ["KINDS", "CHANNELS", "ACTIONS", "LEVELS", "ROLES", "URGENCY", "SEVERITY", "UNITS",
           "label", "department_name", "subclass_name", "limit_text"]

KINDS = {"verify": N_("verification"), "file": N_("filing"), "check": N_("check"),
         "close": N_("closing"), "dispatch": N_("dispatch"), "return": N_("returned case"),
         "extension": N_("extension request")}
CHANNELS = {"inspector": N_("inspector's report"), "public": N_("public report (12345)")}
ACTIONS = {"verify": N_("send to verify"), "merge": N_("merge"), "void": N_("void"),
           "file": N_("file"), "send_check": N_("send to check"), "close": N_("close"),
           "rework": N_("rework"), "dispatch": N_("dispatch"), "grant": N_("grant"),
           "refuse": N_("refuse")}
LEVELS = {"beginner": N_("beginner"), "intermediate": N_("intermediate"),
          "advanced": N_("advanced")}
ROLES = {"acceptor": N_("acceptor"), "dispatcher": N_("dispatcher"),
         "both": N_("acceptor and dispatcher")}
URGENCY = {"normal": N_("normal"), "urgent": N_("urgent")}
SEVERITY = {"minor": N_("minor"), "major": N_("major"), "critical": N_("critical")}
UNITS = {"wh": N_("working hours"), "wd": N_("working days"), "h": N_("hours")}


def label(table: dict[str, str], code: Any) -> str:
    """What a person reads for ``code`` (the code itself when the table lacks it)."""
    key = str(code)
    return gettext(table[key]) if key in table else key


def department_name(spec: Any, name: str) -> str:
    """A department as the scenario names it in the language in force (``name_zh``)."""
    dept = getattr(spec, "departments", {}).get(name)
    return local_name(name, getattr(dept, "name_zh", "") if dept is not None else "")


def subclass_name(sub: Any) -> str:
    """A handbook subclass's name in the language in force (``name`` / ``name_zh``)."""
    return local_name(sub.name, sub.name_zh)


def limit_text(value: float, unit: str) -> str:
    """A handling time limit: ``4 working hours``, ``4 工作时``."""
    return f"{value:g} {label(UNITS, unit)}"
