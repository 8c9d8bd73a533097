# The two commands: `make run` (the portal with demo data, worker and beat, no servers needed)
# and `make test` (lint, migrations check, the whole pytest suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: run test install lint migrate demo bench clean lock backup restore

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[$(EXTRAS)]"
	touch $@

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: export DJANGO_DEBUG ?= true
run: export C_FORCE_ROOT = 1
run: demo
	@echo "入口網站：http://127.0.0.1:8000 （Ctrl-C 全部停止）"
	$(VENV)/bin/honcho -f Procfile.dev start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: export DJANGO_DEBUG ?= false
test: PYTEST_ARGS ?= -n auto
test: install lint
	DJANGO_SECRET_KEY=check-only $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install  # BEFORE=<commit>: the load benchmark measures that commit beside this one
	$(PY) -m bench.run_all $(if $(BEFORE),--before $(BEFORE))

# One file with the database and the uploaded files: `make backup` (FILE= to name it),
# `make restore FILE=var/backups/portal-….tar.gz` (stop web, workers and beat first).
backup: install
	$(PY) manage.py backup $(FILE)

restore: install
	@test -n "$(FILE)" || { echo "用法：make restore FILE=備份檔.tar.gz"; exit 2; }
	$(PY) manage.py restore "$(FILE)" --yes

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v -i '^libvirt-python' > requirements.lock

clean:
	rm -rf $(VENV) var staticfiles
