"""Shared body of the four import commands (exchange.md): a progress bar on stderr, every row
error printed, non-zero exit on bad input, nothing written unless the whole file is good."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.imports import IMPORTERS, ImportFailed, import_file
from tickets.imports.progress import ProgressBar


class ImportCommand(BaseCommand):
    kind = ""

    @property
    def help(self):
        importer = IMPORTERS[self.kind]
        return f"导入{importer.label}（CSV或XLSX，表头：{'、'.join(importer.columns)}）；全部成功才写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV（UTF-8）或XLSX文件")
        parser.add_argument("--user", help="记录为导入人的用户名（默认不记录）")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, file, user=None, no_progress=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        actor = None
        if user:
            from tickets.models import User

            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"用户不存在：{user}")
        label = IMPORTERS[self.kind].label
        progress = None if no_progress else ProgressBar(f"导入{label}", stream=self.stderr._out)
        try:
            summary = import_file(kind=self.kind, data=path.read_bytes(), name=path.name, actor=actor,
                                  progress=progress)
        except ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(exc.message) from exc
        parts = "，".join(f"{k}={v}" for k, v in summary.items())
        self.stdout.write(self.style.SUCCESS(f"导入{label}完成：{parts}"))
