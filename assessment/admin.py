"""Admin of the assessment app. Edits go through the services, so the same rules apply as in the
pages: a rule version already used for results is read-only, stationing is an upsert."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

from tickets.admin import ReadOnlyAdmin
from tickets.exceptions import ApplicationError
from tickets.permissions import ASSESS_ROLES, has_role

from . import services
from .models import Adjustment, AssessmentRun, ChangeRecord, RuleSet, Stationing, UnitScore
from .services import RULE_FIELDS


class AssessorAdmin(admin.ModelAdmin):
    """Only assessors and administrators change assessment data; other staff read it."""

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, ASSESS_ROLES) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return has_role(request.user, ASSESS_ROLES) and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleSet)
class RuleSetAdmin(AssessorAdmin):
    list_display = ("valid_from", "name", "weight_sign", "weight_close", "weight_resolved", "weight_satisfied",
                    "basic_weight", "min_tickets", "stationing_deduction")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.pk and obj.runs.exists():
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in RULE_FIELDS if f in form.cleaned_data}
        try:
            if change:
                saved = services.ruleset_update(rule_set=obj, actor=request.user,
                                                valid_from=form.cleaned_data["valid_from"], **values)
            else:
                saved = services.ruleset_create(valid_from=form.cleaned_data["valid_from"], actor=request.user,
                                                **values)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            raise DjangoPermissionDenied(exc.message) from exc
        obj.pk = saved.pk


@admin.register(Stationing)
class StationingAdmin(AssessorAdmin):
    list_display = ("month", "unit", "complete", "updated_by", "updated_at")
    list_filter = ("month", "complete")
    readonly_fields = ("updated_by", "updated_at")

    def save_model(self, request, obj, form, change):
        saved = services.stationing_set(unit=obj.unit, month=obj.month, complete=obj.complete, actor=request.user)
        obj.pk = saved.pk


@admin.register(Adjustment)
class AdjustmentAdmin(AssessorAdmin):
    list_display = ("month", "unit", "points", "reason", "created_by", "created_at")
    list_filter = ("month",)
    readonly_fields = ("created_by", "created_at")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # never deleted: reversed on the adjustments page (a new, opposite record)

    def save_model(self, request, obj, form, change):
        saved = services.adjustment_create(unit=obj.unit, month=obj.month, points=obj.points, reason=obj.reason,
                                           actor=request.user)
        obj.pk = saved.pk


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdmin):
    """The change trail: read only (append-only in the database)."""

    list_display = ("at", "month", "kind", "target", "actor", "reason")
    list_filter = ("kind", "month")
    readonly_fields = [f.name for f in ChangeRecord._meta.fields]


class UnitScoreInline(admin.TabularInline):
    model = UnitScore
    extra = 0
    can_delete = False
    fields = ("unit_short_name", "group", "tickets", "score", "rank", "position", "excluded", "good", "poor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AssessmentRun)
class AssessmentRunAdmin(ReadOnlyAdmin):
    list_display = ("month", "rule_set", "evaluated_at", "computed_at", "ticket_count", "duration_ms")
    inlines = [UnitScoreInline]
    actions = ["recompute"]

    @admin.action(description="重新计算所选月份")
    def recompute(self, request, queryset):
        if not has_role(request.user, ASSESS_ROLES):
            raise DjangoPermissionDenied()
        for run in queryset:
            services.assessment_compute(month=run.month, actor=request.user)
        self.message_user(request, f"已重新计算{queryset.count()}个月份。")
