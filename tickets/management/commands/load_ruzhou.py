from django.core.management.base import BaseCommand

from tickets.services.directory import directory_load_ruzhou
from tickets.workcalendar import load_from_chinese_calendar


class Command(BaseCommand):
    help = ("载入汝州市目录（乡镇街道、市直单位、问题分类、上级平台），并补齐2004年以来的工作日历。可重复执行。"
            "全国通用的诉求类型、来源渠道、时限规则和工作日历由 migrate 载入，其他县市无需执行本命令。")

    def handle(self, *args, **options):
        created = directory_load_ruzhou()
        years, days = load_from_chinese_calendar()
        self.stdout.write(self.style.SUCCESS(
            f"目录已载入：新增单位{created['units']}个，问题分类{created['categories']}个；"
            f"日历新增{years}个年份、{days}个节假日/调休日。"
        ))
