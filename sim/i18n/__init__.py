"""The languages GridLoop speaks: English and Simplified Chinese (zh-CN).

Messages are written in English in the code (the gettext msgids) and translated through
gettext catalogues managed with Babel (``sim/i18n/locale/zh_CN/LC_MESSAGES/gridloop.po``,
compiled in memory the first time a language is used, so no compile step is needed). The
language in force is a context variable: `use` sets it for a block (a console request, a
trainee's session, a CLI command), `gettext` reads it. A message missing from a catalogue is
shown in English and logged once; nothing here raises on a missing translation.

    from sim.i18n import _, use
    with use("zh-CN"):
        print(_("Dispatch to a department"))      # 派遣至专业部门
"""

from __future__ import annotations

from sim.i18n.catalogue import (
    DEFAULT,
    DOMAIN,
    ENV,
    LANGUAGES,
    N_,
    LanguageError,
    Message,
    _,
    check_language,
    current,
    gettext,
    js_catalogue,
    local_name,
    negotiate,
    ngettext,
    translate,
    use,
)
from sim.i18n.formats import (
    babel_locale,
    format_date,
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    format_weekday_time,
)

__all__ = ["LANGUAGES", "DEFAULT", "DOMAIN", "ENV", "LanguageError", "Message", "N_", "_",
           "gettext", "ngettext", "translate", "check_language", "negotiate", "current", "use",
           "js_catalogue", "local_name", "babel_locale", "format_number", "format_decimal",
           "format_percent", "format_date", "format_datetime", "format_weekday_time"]
