"""Back-test the dispatch suggester on a month it did not learn from."""

import re

from django.core.management.base import BaseCommand, CommandError

from tickets import suggest
from tickets.models import DispatchConfig


class Command(BaseCommand):
    help = ("回测派单建议：用某月之前的办结工单训练，对该月（模型没有学过）每张已办结派单工单给出建议，"
            "统计第一建议和前三建议命中最终承办单位的比例。不修改数据库。")

    def add_arguments(self, parser):
        parser.add_argument("--month", help="回测月份 YYYY-MM（默认：有办结工单的最近一个月）")
        parser.add_argument("--months", type=int, default=None, help="用之前多少个有数据的月份训练（默认按派单建议设置）")
        parser.add_argument("--half-life", type=float, default=None, help="权重半衰期（月）")

    def handle(self, *args, month, months, half_life, **options):
        config = DispatchConfig.current()
        months = months or config.history_months
        half_life = half_life or float(config.half_life_months)
        if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise CommandError(f"月份格式应为 YYYY-MM：{month!r}")
        samples = suggest.history_samples()
        if month is None:
            available = suggest.data_months(samples)
            if not available:
                raise CommandError("没有已办结的派单工单，无法回测。")
            month = available[-1]
        try:
            result = suggest.backtest(samples, month=month, months=months, half_life=half_life)
        except suggest.NotEnoughHistory as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"回测月份 {result.month}：训练 {result.train_samples} 件（{'、'.join(result.train_months)}），"
                          f"测试 {result.test_samples} 件")
        self.stdout.write(f"top-1 accuracy 第一建议准确率 {result.top1:.1%}")
        self.stdout.write(f"top-3 accuracy 前三建议命中率 {result.top3:.1%}")
