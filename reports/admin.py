from django.contrib import admin

from .models import Bulletin, BulletinOverride


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    list_display = ["period", "title", "status", "number_total", "issue_date", "published_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Bulletin._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(BulletinOverride)
class BulletinOverrideAdmin(admin.ModelAdmin):
    list_display = ["bulletin", "kind", "after", "reason", "author", "created_at"]
    readonly_fields = [f.name for f in BulletinOverride._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
