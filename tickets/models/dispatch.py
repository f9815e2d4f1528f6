"""The dispatch suggester's settings and its trained models."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class DispatchConfig(models.Model):
    """The centre's settings for dispatch suggestions: one row (``DispatchConfig.current()``)."""

    preselect_confidence = models.DecimalField(
        "预选把握阈值", max_digits=3, decimal_places=2, default=Decimal("0.60"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="第一建议的把握（模型概率）达到这个值时才在派单表单中预先选中；1 表示从不预选。")
    history_months = models.PositiveSmallIntegerField(
        "学习月数", default=12, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="每晚训练时学习最近多少个有办结工单的月份。")
    half_life_months = models.DecimalField(
        "权重半衰期（月）", max_digits=4, decimal_places=1, default=Decimal("3.0"),
        validators=[MinValueValidator(Decimal("0.5"))],
        help_text="越早的月份权重越低：每早这么多个月，权重减半。")

    class Meta:
        verbose_name = verbose_name_plural = "派单建议设置"

    def __str__(self) -> str:
        return "派单建议设置"

    @classmethod
    def current(cls) -> DispatchConfig:
        """The saved settings, or the defaults (unsaved) until someone saves them."""
        return cls.objects.order_by("id").first() or cls()


class DispatchModel(models.Model):
    """One trained suggester: the fitted model (joblib, written by ``dispatch_model_train``), what it
    learned from and its back-tested accuracy. The newest row is the one in use."""

    trained_at = models.DateTimeField("训练时间", default=timezone.now, db_index=True)
    first_month = models.CharField("最早月份", max_length=7)
    last_month = models.CharField("最近月份", max_length=7)
    months = models.PositiveSmallIntegerField("学习月数")
    samples = models.PositiveIntegerField("学习工单数")
    classes = models.PositiveSmallIntegerField("承办单位数")
    test_month = models.CharField("回测月份", max_length=7, blank=True)
    test_samples = models.PositiveIntegerField("回测工单数", default=0)
    top1_accuracy = models.FloatField("回测第一建议准确率", null=True, blank=True)
    top3_accuracy = models.FloatField("回测前三建议命中率", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    blob = models.BinaryField("模型", editable=False)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = verbose_name_plural = "派单建议模型"

    def __str__(self) -> str:
        return f"派单建议模型（{timezone.localtime(self.trained_at):%Y-%m-%d %H:%M}）"
