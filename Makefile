# The two commands of the README: `make run` and `make test`. Everything else is their set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The portal's address, which every link of an e-mail starts with: given to web, worker and beat alike
# (honcho gives each process a PORT of its own, so none of them may derive it from PORT).
SITE_URL ?= http://127.0.0.1:$(PORT)
APT_PACKAGES := chromium libharfbuzz-subset0 poppler-utils

.PHONY: help run test deps system-deps database lint migrations-check deploy-check pytest bench clean

help:
	@echo "make run   — installe, prépare la base et les données de démonstration, lance le portail"
	@echo "make test  — installe ce qui manque et lance toutes les vérifications"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# The virtual environment, installed from the lock file (exact versions), redone when it changes.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON)
	@touch $@

deps: $(VENV)/.synced

# Debian packages: Chromium for the browser tests, HarfBuzz's subsetter for WeasyPrint's
# speed, poppler-utils for pdftotext. Installed when absent and we are root.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installation des paquets Debian :$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Paquets Debian manquants :$$missing — lancez : sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

database: deps
	$(PY) manage.py ensure_database
	$(PY) manage.py migrate --noinput

run: deps database
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "Portail : http://127.0.0.1:$(PORT)   (Ctrl-C arrête le web, le worker et beat)"
	@echo "Liens des e-mails : $(SITE_URL)"
	@echo ""
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PORT=$(PORT) SITE_URL="$(SITE_URL)" $(VENV)/bin/honcho start --port $(PORT)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

migrations-check: deps
	$(PY) manage.py makemigrations --check --dry-run

# The production settings pass Django's deployment checklist without a single warning.
deploy-check: deps
	DEBUG=0 SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  ALLOWED_HOSTS=example.org SITE_URL=https://example.org $(PY) manage.py check --deploy --fail-level WARNING

pytest: deps system-deps
	$(VENV)/bin/pytest --create-db -n 2 --dist loadfile --no-loadscope-reorder

test: deps system-deps lint migrations-check deploy-check pytest

bench: deps database
	$(PY) bench/seed_world.py

clean:
	rm -rf $(VENV) $(TOOLS) staticfiles
