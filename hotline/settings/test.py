"""Test settings: the base settings, only made faster. Services come from the environment."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0f7c1d6a9b2e4c8d")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# Callers' names and numbers are encrypted at rest; tests use this fixed, test-only Fernet key.
os.environ.setdefault("HOTLINE_FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5ISE=")

from .base import *  # noqa: E402,F403
from .base import DATABASES  # noqa: E402

# Argon2 is the production hasher (asserted by a test); tests hash with MD5 only for speed.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Serve static files from the apps (finders), never from a STATIC_ROOT that a benchmark may be rewriting.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# The dashboard counts live in tests unless a test turns the daily roll-up on (tests/reports/test_rollup.py):
# with a broker (CI), an import would otherwise queue roll-up jobs that no test waits for.
HOTLINE_DAILY_ROLLUP = False
