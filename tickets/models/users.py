"""Users and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .directory import Unit


class Role(models.TextChoices):
    OPERATOR = "operator", "话务员"
    DISPATCHER = "dispatcher", "派单员"
    UNIT_HANDLER = "unit_handler", "承办单位经办人"
    ASSESSOR = "assessor", "考核员"
    EDITOR = "editor", "简报编辑"
    LEADER = "leader", "领导"
    ADMIN = "admin", "系统管理员"


class User(AbstractUser):
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.OPERATOR)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="handlers", verbose_name="所属单位"
    )
    agent_no = models.CharField("坐席工号", max_length=20, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(role="unit_handler", unit__isnull=False) | ~Q(role="unit_handler"),
                name="user_unit_handler_has_unit",
            ),
        ]

    def clean(self):
        super().clean()
        if self.role == Role.UNIT_HANDLER and not self.unit_id:
            raise ValidationError({"unit": "承办单位经办人必须绑定一个单位。"})

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


# --------------------------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------------------------
