"""Re-encrypt callers' names and numbers with the newest key of HOTLINE_FIELD_ENCRYPTION_KEYS.

Key rotation (docs/operations.md): put the new key first, keep the old ones after it, restart, run
this command, then remove the old keys. Batched, one transaction per batch, safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from tickets.encryption import DecryptionError, reencrypt_all


class Command(BaseCommand):
    help = "用 HOTLINE_FIELD_ENCRYPTION_KEYS 的第一个（最新）密钥重新加密全部来电人姓名和号码（更换密钥后运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="每批（每个事务）处理的行数，默认 1000")

    def handle(self, *args, batch_size: int, **options):
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size 应在 1 到 100000 之间。")
        try:
            results = reencrypt_all(batch_size=batch_size)
        except DecryptionError as exc:
            raise CommandError(f"{exc} 已完成的批次保持新密钥加密，修正密钥后可重新运行。") from None
        for table, counts in results.items():
            self.stdout.write(f"{table}：检查 {counts['rows']} 行，重新加密 {counts['rewritten']} 行"
                              f"（{counts['values']} 个值），其余已是最新密钥。")
        total = sum(c["rewritten"] for c in results.values())
        self.stdout.write(self.style.SUCCESS(f"完成：共重新加密 {total} 行。"))
