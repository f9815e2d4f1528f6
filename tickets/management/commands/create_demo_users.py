"""One demo account per role, printed so that a new user can sign in (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.models import Role, Unit, User

# (username, the person's name as shown in the header, role, unit short name)
DEMO_USERS = [
    ("operator", "王芳", Role.OPERATOR, None),
    ("dispatcher", "李建军", Role.DISPATCHER, None),
    ("unit", "赵磊", Role.UNIT_HANDLER, "纸坊镇"),
    ("unit2", "钱伟", Role.UNIT_HANDLER, "国网汝州市供电公司"),
    ("assessor", "孙丽", Role.ASSESSOR, None),
    ("editor", "周静", Role.EDITOR, None),
    ("leader", "吴国强", Role.LEADER, None),
    ("admin", "郑涛", Role.ADMIN, None),
]


class Command(BaseCommand):
    help = "创建每个角色一个演示账号并打印（仅用于开发和演示，DEBUG 关闭时拒绝执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default="hotline12345", help="演示账号的统一密码")

    def handle(self, *args, password, **options):
        if not settings.DEBUG:
            raise CommandError("演示账号只能在开发环境（DJANGO_DEBUG=1）中创建。")
        rows = []
        for username, name, role, unit_name in DEMO_USERS:
            unit = Unit.objects.filter(short_name=unit_name).first() if unit_name else None
            if unit_name and unit is None:
                raise CommandError(f"找不到单位“{unit_name}”，请先执行 load_ruzhou。")
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={"first_name": name, "last_name": "", "role": role, "unit": unit,
                          "is_staff": role == Role.ADMIN, "is_superuser": role == Role.ADMIN},
            )
            user.set_password(password)
            user.save()
            rows.append((username, role.label, unit.short_name if unit else ""))
        self.stdout.write(f"演示账号（密码均为 {password}）：")
        for username, label, unit in rows:
            self.stdout.write(f"  {username:<12} {label}{('·' + unit) if unit else ''}")
