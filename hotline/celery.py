"""Celery application: the standard Django recipe.

With no ``CELERY_BROKER_URL`` the settings turn on ``task_always_eager`` so that every task runs
in-process (the embedded default); with a broker, a real worker and beat do the work.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings.base")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
