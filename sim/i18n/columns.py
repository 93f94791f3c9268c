"""The words for the columns of GridLoop's tables (league tables, summaries), in the glossary's
terms: a table keeps its English column codes (``on_time_handling_rate``) in files, and a
person reads `column_label` of them in the language in force."""

from __future__ import annotations

from sim.i18n.catalogue import N_, gettext

__all__ = ["COLUMN_LABELS", "column_label"]

COLUMN_LABELS: dict[str, str] = {
    "rank": N_("rank"), "name": N_("name"), "unit": N_("unit"), "score": N_("score"),
    "grade": N_("grade"), "period": N_("period"),
    "closure_rate": N_("closure rate"), "on_time_handling_rate": N_("on-time handling rate"),
    "rework_rate": N_("rework rate"), "public_report_rate": N_("public report rate"),
    "on_time_closure_rate": N_("on-time closure rate"), "extension_rate": N_("extension rate"),
    "valid_report_rate": N_("valid report rate"), "missed_report_rate": N_("missed report rate"),
    "on_time_verification_rate": N_("on-time verification rate"),
    "on_time_check_rate": N_("on-time check rate"),
    "on_time_verify_send_rate": N_("on-time sending to verify"),
    "on_time_check_send_rate": N_("on-time sending to check"),
    "on_time_filing_rate": N_("on-time filing rate"), "filing_accuracy": N_("filing accuracy"),
    "on_time_closing_rate": N_("on-time closing rate"),
    "on_time_dispatch_rate": N_("on-time dispatch rate"),
    "dispatch_accuracy": N_("dispatch accuracy"), "volume_score": N_("volume score"),
    "case_count_score": N_("case count score"), "filed_count_score": N_("filed count score"),
    "handling_rate": N_("daily handling rate"), "overdue_backlog_rate": N_("overdue backlog rate"),
    "urgent_on_time_rate": N_("urgent on-time rate"),
    "response_rate": N_("response rate"), "resolution_rate": N_("resolution rate"),
    "satisfaction_rate": N_("satisfaction rate"),
}


def column_label(column: str) -> str:
    """What a person reads for a table's column (its code with spaces when it has no label)."""
    label = COLUMN_LABELS.get(column)
    return gettext(label) if label is not None else column.replace("_", " ")
