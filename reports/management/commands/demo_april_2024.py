"""``manage.py demo_april_2024``: generate the Ruzhou April 2024 files, load them through the real
import commands, score the month, build the bulletin, enter the seed's narrative and publish.
Idempotent: a published April 2024 bulletin is left as it is unless ``--force``."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from reports import demo
from reports.models import Bulletin
from tickets.models import Unit


class Command(BaseCommand):
    help = "汝州市2024年4月演示数据：生成导入文件→导入→考核→生成简报→录入正文→发布（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--out", help="导入文件写到此目录（默认临时目录）")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument("--force", action="store_true", help="即使已发布也重新导入并重新生成")
        parser.add_argument("--files-only", action="store_true", help="只生成导入文件")

    def handle(self, *args, out=None, seed=demo.DEFAULT_SEED, force=False, files_only=False, **options):
        started = time.perf_counter()
        if not files_only and not force and Bulletin.objects.filter(period=demo.PERIOD, status="published").exists():
            self.stdout.write("2024年4月演示简报已发布，跳过（--force 重新生成）。")
            return
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(out or tmp)
            files = demo.demo_generate(target, seed=seed)
            self.stdout.write(f"已生成导入文件：{', '.join(str(p) for p in files.values())}")
            if files_only:
                return
            if not Unit.objects.exists():
                call_command("load_ruzhou", stdout=self.stdout)
            bulletin = demo.demo_load(target)
        self.stdout.write(self.style.SUCCESS(
            f"{bulletin.title}（{bulletin.period}）已发布：话务量 {bulletin.data['calls']['total']}，"
            f"工单 {bulletin.data['tickets']['total']}；用时 {time.perf_counter() - started:.1f} 秒。"
            f" 公开页面 /bulletins/{bulletin.period}/"
        ))
