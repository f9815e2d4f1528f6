from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "工单"

    def ready(self):
        from .logging import install_record_factory

        install_record_factory()  # caller phone numbers never reach any log handler

        from .encryption import keys_check

        keys_check()  # a malformed HOTLINE_FIELD_ENCRYPTION_KEYS stops every process at start

        # The working calendar and time-limit rules are cached per process: any write reloads them.
        from django.db.models.signals import post_delete, post_save

        from . import workcalendar
        from .models import CalendarDay, CalendarYear, TimeLimitRule

        for model in (CalendarDay, CalendarYear, TimeLimitRule):
            post_save.connect(workcalendar.invalidate, sender=model, dispatch_uid=f"workcal-save-{model.__name__}")
            post_delete.connect(workcalendar.invalidate, sender=model, dispatch_uid=f"workcal-del-{model.__name__}")

        # The directory that registration looks up is cached per process too (tickets/directory_cache.py).
        from . import directory_cache

        for model in directory_cache.DIRECTORY_MODELS:
            post_save.connect(directory_cache.invalidate, sender=model, dispatch_uid=f"directory-save-{model.__name__}")
            post_delete.connect(directory_cache.invalidate, sender=model, dispatch_uid=f"directory-del-{model.__name__}")
