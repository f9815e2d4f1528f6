# One image for every process of the product: web (gunicorn), Celery worker and Celery beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=hotline.settings.base

# Chinese fonts for PDF bulletins, and the Pango libraries WeasyPrint renders them with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (from pyproject.toml, cached while it does not change), then the project.
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *deps])"
COPY . .
RUN pip install --no-deps -e . \
    && groupadd --system hotline \
    && useradd --system --gid hotline --home-dir /app --shell /usr/sbin/nologin hotline \
    && mkdir -p /app/staticfiles /app/media \
    && chown -R hotline:hotline /app/staticfiles /app/media

USER hotline

EXPOSE 8000

# The web command; docker-compose.yml runs migrations and collectstatic first, and overrides the
# command for the worker and beat.
CMD ["gunicorn", "hotline.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
