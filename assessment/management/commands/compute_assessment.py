"""``manage.py compute_assessment YYYY-MM``: score a month by the rule version in force for it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from assessment.scoring import format_score
from assessment.selectors import group_tables
from assessment.services import assessment_compute, month_first
from tickets.exceptions import ApplicationError


class Command(BaseCommand):
    help = "计算某月的考核结果（按该月生效的规则版本；可重复运行，结果覆盖）。"

    def add_arguments(self, parser):
        parser.add_argument("month", help="月份，格式 YYYY-MM")
        parser.add_argument("--quiet-table", action="store_true", help="不打印排名表")

    def handle(self, *args, month: str, quiet_table: bool = False, **options):
        try:
            target = month_first(month)
            run = assessment_compute(month=target)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(
            f"{target:%Y-%m} 考核完成：规则版本 {run.rule_set.valid_from:%Y-%m}起，计入工单 {run.ticket_count} 件，"
            f"评价时间 {run.evaluated_at:%Y-%m-%d %H:%M}，耗时 {run.duration_ms} 毫秒。"
        ))
        if quiet_table:
            return
        for group in group_tables(month=target)["groups"]:
            self.stdout.write(f"\n{group['name']}")
            for row in group["rows"]:
                mark = "（较好）" if row.good else "（较差）" if row.poor else ""
                self.stdout.write(f"  {row.rank:>3}  {row.unit_short_name}  {format_score(row.score)}"
                                  f"  工单{row.tickets}件{mark}")
            if group["not_assessed"]:
                names = "、".join(f"{r.unit_short_name}（{r.tickets}件）" for r in group["not_assessed"])
                self.stdout.write(f"  未计入考核：{names}")
