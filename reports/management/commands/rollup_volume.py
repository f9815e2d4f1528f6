from datetime import date

from django.core.management.base import BaseCommand, CommandError

from reports import rollup


class Command(BaseCommand):
    help = ("重新汇总领导看板的每日话务量与工单数（reports/rollup.py）：rollup_volume（自首张工单起的每一天）"
            "或 rollup_volume --from YYYY-MM-DD --to YYYY-MM-DD。恢复备份或批量导入数据后运行；平时由定时任务完成。")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="起始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="截止日期 YYYY-MM-DD（不含今天：当天结束后才汇总）")

    def handle(self, *args, first=None, last=None, **options):
        if (first is None) != (last is None):
            raise CommandError("--from 与 --to 须同时给出。")
        if first is None:
            days = rollup.rollup_all()
        else:
            try:
                first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
            except ValueError as exc:
                raise CommandError(f"日期格式应为 YYYY-MM-DD：{exc}") from exc
            if first_day > last_day:
                raise CommandError("起始日期晚于截止日期。")
            days = rollup.rollup_days(first_day, last_day)
        self.stdout.write(f"已汇总 {days} 天。")
