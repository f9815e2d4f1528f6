"""National reference data every county starts with, loaded by ``migrate`` (migration
``0013_national_reference_data``): the five appeal types with their handling limits (domain.md),
the local channels, the default time-limit rule and the working calendar from ``chinesecalendar``.

A county's own directory (units, categories, upper platforms) is not here: it comes from its files
(``import_units``; categories and platforms are created by ``import_tickets`` from the names in the
ticket file) or, for Ruzhou, from ``load_ruzhou``. Loading is idempotent: existing rows (and an
administrator's edits to them) are kept, only what is missing is added.
"""

from __future__ import annotations

from datetime import date

from django.apps import apps as global_apps

# 诉求类型 (code, name, handling limit in working days from dispatch — domain.md), in bulletin order.
APPEAL_TYPES = [
    ("consult", "咨询", 3),
    ("problem", "问题处理", 5),
    ("complaint", "投诉举报", 10),
    ("suggestion", "建议", 5),
    ("other", "其他", 5),
]

# 来源渠道 of tickets registered by the centre itself (本级登记).
CHANNELS = [
    ("phone", "电话"),
    ("wechat", "微信"),
    ("web", "网站"),
    ("app", "APP"),
    ("110", "110转入"),
    ("other", "其他"),
]

# The default time-limit rule (dispatch 24 h, sign 24 working hours, urgent 2 h + 2 h): the model's defaults.
DEFAULT_RULE_FROM = date(2000, 1, 1)
DEFAULT_RULE_NOTE = "12345热线办理时限（默认）"


def reference_data_load(apps=None, *, calendar: bool = True) -> dict[str, int]:
    """Add whatever national reference data is missing; returns how many rows of each were added.
    ``apps`` is a migration's app registry (the historical models) or ``None`` for the live ones;
    ``calendar=False`` leaves the working calendar to the caller."""
    apps = apps or global_apps
    AppealType = apps.get_model("tickets", "AppealType")
    Channel = apps.get_model("tickets", "Channel")
    TimeLimitRule = apps.get_model("tickets", "TimeLimitRule")
    added = {"appeal_types": 0, "channels": 0, "time_limit_rules": 0}
    for order, (code, name, days) in enumerate(APPEAL_TYPES, start=1):
        if not AppealType.objects.filter(code=code).exists() and not AppealType.objects.filter(name=name).exists():
            AppealType.objects.create(code=code, name=name, handling_days=days, order=order)
            added["appeal_types"] += 1
    for order, (code, name) in enumerate(CHANNELS, start=1):
        if not Channel.objects.filter(code=code).exists() and not Channel.objects.filter(name=name).exists():
            Channel.objects.create(code=code, name=name, order=order)
            added["channels"] += 1
    if not TimeLimitRule.objects.exists():
        TimeLimitRule.objects.create(valid_from=DEFAULT_RULE_FROM, note=DEFAULT_RULE_NOTE)
        added["time_limit_rules"] += 1
    if calendar:
        from .workcalendar import load_from_chinese_calendar

        added["calendar_years"], added["calendar_days"] = load_from_chinese_calendar(apps=apps)
    return added
