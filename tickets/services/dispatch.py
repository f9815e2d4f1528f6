"""Training the dispatch suggester and storing it (tickets/suggest.py does the learning)."""

from __future__ import annotations

import logging

from django.db import transaction

from .. import suggest
from ..models import DispatchConfig, DispatchModel

logger = logging.getLogger(__name__)


def dispatch_model_train(*, months: int | None = None, half_life: float | None = None) -> DispatchModel:
    """Fit on the latest ``months`` data-months of handled tickets and store the model with its
    measured accuracy: a back-test on the latest of those months by a model fitted on the months
    before it (the month it did not learn from). Raises ``suggest.NotEnoughHistory`` when there is
    nothing to learn; the suggestions then stay on the previous model, or the rule without one."""
    config = DispatchConfig.current()
    months = months or config.history_months
    half_life = float(half_life or config.half_life_months)
    samples = suggest.window(suggest.history_samples(), months=months)
    trained = suggest.fit(samples, half_life=half_life)
    measured = None
    note = ""
    if len(trained.months) >= 2:
        try:
            measured = suggest.backtest(samples, month=trained.months[-1], months=months, half_life=half_life)
        except suggest.NotEnoughHistory as exc:
            note = f"未能回测：{exc}"
    else:
        note = "只有一个月的办结工单，无法回测准确率。"
    with transaction.atomic():
        model = DispatchModel.objects.create(
            first_month=trained.months[0], last_month=trained.months[-1], months=len(trained.months),
            samples=trained.samples, classes=len(trained.classifier.classes_),
            test_month=measured.month if measured else "", test_samples=measured.test_samples if measured else 0,
            top1_accuracy=measured.top1 if measured else None, top3_accuracy=measured.top3 if measured else None,
            note=note, blob=trained.dumps())
        # Older models are of no further use; keep the last few for comparison.
        stale = DispatchModel.objects.order_by("-trained_at", "-id").values_list("pk", flat=True)[5:]
        DispatchModel.objects.filter(pk__in=list(stale)).delete()
    logger.info("dispatch model trained: %s tickets, %s months, top1=%s top3=%s", trained.samples,
                len(trained.months), measured and round(measured.top1, 3), measured and round(measured.top3, 3))
    return model
