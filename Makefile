# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1}

.PHONY: run test install migrate demo worker beat bench lint clean fuzz

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput

demo: migrate
	$(DEV_ENV) $(PY) manage.py load_ruzhou
	$(DEV_ENV) $(PY) manage.py seed_demo
	$(DEV_ENV) $(PY) manage.py demo_april_2024
	$(DEV_ENV) $(PY) manage.py train_dispatch_model
	$(DEV_ENV) $(PY) manage.py create_demo_users

## Serve the product with a populated demo on http://127.0.0.1:8000 (SQLite and in-process tasks by default).
run: demo
	@echo "打开 http://127.0.0.1:8000 ，用上面的演示账号登录；接口文档 http://127.0.0.1:8000/api/docs/"
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

## The whole suite. Uses DATABASE_URL / CELERY_BROKER_URL when set (CI sets both), embedded defaults otherwise.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## Longer fuzzing: schemathesis over the whole API (tests/test_fuzz.py) and hypothesis over every page's
## forms and query parameters (tests/test_page_fuzz.py). CI runs both with 3 examples per operation/page.
FUZZ_EXAMPLES ?= 50
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py tests/test_page_fuzz.py -p no:cacheprovider $(PYTEST_ARGS)

worker: install
	$(PY) -m celery -A hotline worker -l info

beat: install
	$(PY) -m celery -A hotline beat -l info

bench: install
	$(PY) -m bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
