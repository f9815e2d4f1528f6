"""Train the dispatch suggester now (the beat does it every night at 01:30)."""

from django.core.management.base import BaseCommand, CommandError

from tickets import suggest
from tickets.services.dispatch import dispatch_model_train


class Command(BaseCommand):
    help = "从已办结工单学习派单建议模型并保存（每晚 01:30 自动执行），打印回测准确率。"

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=None, help="学习最近多少个有办结工单的月份（默认按派单建议设置，12）")
        parser.add_argument("--half-life", type=float, default=None, help="权重半衰期（月，默认按派单建议设置，3）")

    def handle(self, *args, months, half_life, **options):
        if months is not None and months < 1:
            raise CommandError("--months 必须是正整数。")
        if half_life is not None and half_life <= 0:
            raise CommandError("--half-life 必须大于 0。")
        try:
            model = dispatch_model_train(months=months, half_life=half_life)
        except suggest.NotEnoughHistory as exc:
            raise CommandError(f"未训练：{exc}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"已训练派单建议模型：{model.first_month} 至 {model.last_month}（{model.months} 个月），"
            f"{model.samples} 件工单，{model.classes} 个类别。"))
        if model.top1_accuracy is not None:
            self.stdout.write(f"回测 {model.test_month}（{model.test_samples} 件）：第一建议准确率 {model.top1_accuracy:.1%}，"
                              f"前三命中率 {model.top3_accuracy:.1%}")
        elif model.note:
            self.stdout.write(model.note)
