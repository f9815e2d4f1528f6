"""Admin for the directory, the working calendar and the time-limit rules (and read-only audit)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone

from . import workcalendar
from .models import (
    AppealType,
    CalendarDay,
    CalendarYear,
    CallerDataAccess,
    Category,
    Channel,
    DispatchConfig,
    DispatchModel,
    Notification,
    TicketEvent,
    TimeLimitRule,
    Unit,
    UnitName,
    UpperPlatform,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "unit", "is_active")
    list_filter = ("role", "is_active", "unit__group")
    fieldsets = BaseUserAdmin.fieldsets + (("热线角色", {"fields": ("role", "unit", "agent_no")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("热线角色", {"fields": ("role", "unit", "agent_no")}),)
    autocomplete_fields = ("unit",)
    actions = ["revoke_api_tokens"]

    def has_revoke_api_tokens_permission(self, request):
        from .services.accounts import may_revoke_tokens

        return may_revoke_tokens(request.user)

    @admin.action(description="吊销所选用户的接口令牌", permissions=["revoke_api_tokens"])
    def revoke_api_tokens(self, request, queryset):
        from .services.accounts import token_revoke

        revoked = token_revoke(actor=request.user, users=list(queryset))
        self.message_user(request, f"已吊销 {revoked} 个接口令牌；这些用户需重新登录获取。", messages.SUCCESS)


class UnitNameInline(admin.TabularInline):
    model = UnitName
    extra = 0


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("short_name", "name", "group", "order", "needs_stationing", "active")
    list_filter = ("group", "needs_stationing", "active")
    list_editable = ("order", "needs_stationing", "active")
    search_fields = ("name", "short_name")
    inlines = [UnitNameInline]

    def save_model(self, request, obj, form, change):
        from .services.directory import unit_save

        unit_save(unit=obj, changed_fields=form.changed_data)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "full_name", "order", "active", "retired_at")
    list_filter = ("active", "parent")
    search_fields = ("code", "name", "keywords", "parent__name")
    actions = ["retire", "reactivate"]

    @admin.action(description="停用所选分类（保留历史）")
    def retire(self, request, queryset):
        n = queryset.filter(active=True).update(active=False, retired_at=timezone.now())
        self.message_user(request, f"已停用{n}个分类。", messages.SUCCESS)

    @admin.action(description="重新启用所选分类")
    def reactivate(self, request, queryset):
        n = queryset.update(active=True, retired_at=None)
        self.message_user(request, f"已启用{n}个分类。", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AppealType)
class AppealTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "handling_days", "order")
    list_editable = ("handling_days",)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order")


@admin.register(UpperPlatform)
class UpperPlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "reply_url", "active")


@admin.register(TimeLimitRule)
class TimeLimitRuleAdmin(admin.ModelAdmin):
    list_display = ("valid_from", "dispatch_hours", "sign_working_hours", "urgent_sign_hours",
                    "urgent_feedback_hours", "yellow_percent")


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "loaded_at")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        workcalendar.invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        workcalendar.invalidate()


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)

    def changelist_view(self, request, extra_context=None):
        year = timezone.localdate().year
        known = set(CalendarYear.objects.values_list("year", flat=True))
        missing = [y for y in (year, year + 1) if y not in known]
        if missing:
            self.message_user(
                request,
                "、".join(f"{y}年" for y in missing) + "没有节假日数据：这些年份的时限只按周末计算，请补充节假日与调休。",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        workcalendar.invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        workcalendar.invalidate()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        workcalendar.invalidate()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "ticket", "type", "actor", "from_status", "to_status")
    list_filter = ("type",)
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "actor")


@admin.register(CallerDataAccess)
class CallerDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "action", "ticket", "detail", "ip_address")
    list_filter = ("action",)
    list_select_related = ("ticket", "user")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """短信通知: what was sent to which unit, what is pending, failed, or skipped and why."""

    list_display = ("created_at", "ticket", "unit", "kind", "recipient", "status", "attempts", "sent_at",
                    "last_error")
    list_filter = ("status", "kind", "unit__group")
    search_fields = ("ticket__number", "unit__short_name", "unit__name")
    list_select_related = ("ticket", "unit")
    actions = ["resend"]

    @admin.action(description="重发所选短信（发往单位当前的值班手机）")
    def resend(self, request, queryset):
        from .exceptions import ApplicationError
        from .exchange.notifications import notification_resend

        done, refused = 0, []
        for notification in queryset.select_related("ticket"):
            try:
                notification_resend(notification=notification, actor=request.user)
                done += 1
            except ApplicationError as exc:
                refused.append(f"{notification.ticket.number}：{exc.message}")
        if done:
            self.message_user(request, f"已重新发送{done}条短信。", messages.SUCCESS)
        for line in refused[:10]:
            self.message_user(request, line, messages.WARNING)


@admin.register(DispatchConfig)
class DispatchConfigAdmin(admin.ModelAdmin):
    """派单建议设置: the pre-selection threshold and the learning window (one row)."""

    list_display = ("__str__", "preselect_confidence", "history_months", "half_life_months")

    def has_add_permission(self, request):
        return not DispatchConfig.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DispatchModel)
class DispatchModelAdmin(ReadOnlyAdmin):
    """Trained dispatch suggesters (newest in use) and their back-tested accuracy."""

    list_display = ("trained_at", "first_month", "last_month", "months", "samples", "classes", "test_month",
                    "test_samples", "top1_accuracy", "top3_accuracy", "note")
    exclude = ("blob",)
