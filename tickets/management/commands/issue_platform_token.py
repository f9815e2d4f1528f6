"""Issue (or replace) an upper platform's push token; it is printed once and only its digest kept."""

from django.core.management.base import BaseCommand, CommandError

from tickets.exchange.platforms import platform_token_issue
from tickets.models import UpperPlatform


class Command(BaseCommand):
    help = "为上级平台签发接入令牌（只显示一次，系统只保存摘要）；可同时设置结果回传地址。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="上级平台编码，例如 pds")
        parser.add_argument("--reply-url", help="结果回传地址（http/https）")

    def handle(self, *args, code, reply_url=None, **options):
        platform = UpperPlatform.objects.filter(code=code).first()
        if platform is None:
            raise CommandError(f"上级平台不存在：{code}")
        if reply_url is not None:
            platform.reply_url = reply_url
            try:
                platform.full_clean(validate_unique=False)
            except Exception as exc:
                raise CommandError(f"结果回传地址无效：{reply_url}") from exc
            platform.save(update_fields=["reply_url"])
        token = platform_token_issue(platform=platform)
        self.stdout.write(f"{platform.name}（{platform.code}）的接入令牌（请立即保存，之后无法再次查看）：")
        self.stdout.write(token)
