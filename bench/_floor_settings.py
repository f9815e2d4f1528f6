"""Settings of the registration benchmark's server: the product's, plus the floor endpoint
(``bench/_floor_urls.py``) mounted beside the product's URLs in the same gunicorn."""

from hotline.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench._floor_urls"
