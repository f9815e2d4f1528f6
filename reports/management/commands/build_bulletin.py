import json

from django.core.management.base import BaseCommand, CommandError

from reports import selectors, services
from tickets.exceptions import ApplicationError


class Command(BaseCommand):
    help = "生成（或重新生成）某月工作简报草稿：build_bulletin YYYY-MM [--json]"

    def add_arguments(self, parser):
        parser.add_argument("period", help="YYYY-MM")
        parser.add_argument("--json", action="store_true", help="把简报数据（JSON）打印到标准输出")

    def handle(self, *args, period, **options):
        try:
            month = selectors.period_parse(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            bulletin = services.bulletin_build(month=month)
        except services.BulletinPublished:
            from reports.models import Bulletin

            bulletin = Bulletin.objects.get(period=period)
            self.stderr.write(f"{period} 简报已发布，未重新生成。")
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(bulletin.as_json(), ensure_ascii=False, indent=2))
        else:
            data = bulletin.data
            self.stdout.write(
                f"{bulletin.period} 简报草稿已生成：话务量 {data['calls']['total']}，工单 {data['tickets']['total']}。"
            )
