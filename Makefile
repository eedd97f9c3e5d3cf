# Aqparat: every command a developer or CI needs. `make help` lists them.
# Two virtual environments (see docs/architecture.md): .venv (Python 3.11, the app) and
# .venv-rasa (Python 3.10, Rasa 3.6.21). Each is rebuilt from scratch when missing or when
# its requirements change: the stamp file's name carries a hash of the requirements.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY311 ?= python3
# Python 3.10 for Rasa: PY310 from the environment, else python3.10 on PATH, pyenv's or uv's.
PY310 ?= $(shell stack/python310.sh)
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python

# The app stamp hashes what the install reads: the pins and pyproject's build-system, project and
# tool.setuptools tables, not its lint or test settings (a ruff rule must not rebuild the venv).
APP_STAMP := $(VENV)/.installed-$(shell $(PY311) -c 'import hashlib, json, tomllib; from pathlib import Path; \
	d = tomllib.loads(Path("pyproject.toml").read_text()); \
	keep = {"build-system": d.get("build-system"), "project": d.get("project"), "setuptools": d.get("tool", {}).get("setuptools")}; \
	pins = "".join(Path(f"requirements/{n}.txt").read_text() for n in ("torch", "app", "dev")); \
	print(hashlib.sha256((pins + json.dumps(keep, sort_keys=True)).encode()).hexdigest()[:12])')
RASA_STAMP := $(RASA_VENV)/.installed-$(shell sha256sum requirements/rasa.txt | cut -c1-12)

export TOKENIZERS_PARALLELISM ?= false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

RASA := $(RASA_VENV)/bin/rasa
RASA_ENV := TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore
MODEL := models/aqparat.tar.gz
# What the model is trained from; nlu/sessions.py (the tracker store) is read at run time only.
RASA_DATA := config.yml domain.yml $(filter-out nlu/sessions.py,$(wildcard nlu/*.yml nlu/*.py))
PO_FILES := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help setup venv venv-rasa lint format validate index catalogs messages model rasa-validate rasa-test \
	test test-integration bench bench-retrieval nlu-eval run serve configuration clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: venv venv-rasa ## create both environments (only what is missing or changed)

venv: $(APP_STAMP) ## the app environment (.venv, Python 3.11)

$(APP_STAMP):
	@echo "==> creating $(VENV) (Python 3.11) from requirements/ — about a minute"
	rm -rf $(VENV)
	$(PY311) -m venv $(VENV)
	@echo "==> [1/3] torch (CPU build)"
	$(VENV)/bin/pip install --progress-bar off -r requirements/torch.txt
	@echo "==> [2/3] app and dev requirements"
	$(VENV)/bin/pip install --progress-bar off -r requirements/dev.txt
	@echo "==> [3/3] the project itself (editable)"
	$(VENV)/bin/pip install --progress-bar off --no-deps -e .
	touch $@

venv-rasa: $(RASA_STAMP) ## the dialogue-engine environment (.venv-rasa, Python 3.10, Rasa 3.6.21)

$(RASA_STAMP):
	@test -n "$(PY310)" || { echo "error: Rasa 3.6 needs Python 3.10, and none was found (python3.10 on PATH, pyenv, uv)." \
		"Install it (apt-get install python3.10, pyenv install 3.10, or uv python install 3.10) or set PY310=/path/to/python3.10." >&2; exit 1; }
	@echo "==> creating $(RASA_VENV) (Python 3.10 at $(PY310), Rasa 3.6.21) — about 80 s and 2.7 GB"
	rm -rf $(RASA_VENV)
	$(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --progress-bar off -r requirements/rasa.txt
	$(RASA_VENV)/bin/pip check
	touch $@

lint: venv ## ruff lint and format check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

validate: venv ## validate the fact files
	$(PY) -m knowledge validate

index: venv ## build the retrieval index if the facts or the model changed
	$(PY) -m knowledge build

eval: index ## answer quality on tests/data: the 2023, current-facts and held-out question sets
	$(PY) -m knowledge eval --show-misses

stats: venv ## facts per topic and language, facts due for review
	$(PY) -m knowledge stats

configuration: venv ## write docs/configuration.md from the settings classes (a test fails when it is stale)
	$(PY) -m stack configuration

messages: venv ## extract marked strings into locales/messages.pot and update every .po
	$(VENV)/bin/pybabel extract -F babel.cfg --add-location=file --sort-by-file --no-wrap \
		--project=Aqparat -o locales/messages.pot .
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales --no-wrap --ignore-obsolete

catalogs: $(MO_FILES) ## compile the translation catalogs (.po -> .mo)

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po | $(APP_STAMP)
	$(VENV)/bin/pybabel compile --statistics -d locales -l $*

model: $(MODEL) ## train the Rasa model if config, domain or training data changed

$(MODEL): $(RASA_DATA) | $(RASA_STAMP)
	@echo "==> training the Rasa model (about 2 minutes)"
	$(RASA_ENV) $(RASA) train --data nlu --domain domain.yml --config config.yml \
		--out models --fixed-model-name aqparat --quiet

rasa-validate: venv-rasa ## rasa data validate (warnings fail)
	$(RASA_ENV) $(RASA) data validate --data nlu --domain domain.yml --config config.yml --fail-on-warnings

rasa-test: $(MODEL) ## dialogue test stories (tests/test_stories.yml) with --fail-on-prediction-errors
	$(RASA_ENV) $(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out var/rasa-test

test: venv lint rasa-validate ## every test but the integration tests (CI runs both: .ci/run)
	$(PY) -m knowledge validate
	$(MAKE) --no-print-directory rasa-test index catalogs
	$(PY) -m pytest

test-integration: venv index catalogs model ## PostgreSQL + Redis + 2 Rasa replicas: failover, restarts, retention (apt-installs the databases if missing)
	$(PY) -m pytest -m integration tests/integration

bench: index catalogs model ## end-to-end load benchmark: 1–200 users over REST and the bot, vs bare Rasa (~4 min; BENCH_ARGS="--json --levels 1,10")
	$(PY) bench/e2e.py $(BENCH_ARGS)

bench-retrieval: venv ## retrieval speed and memory benchmark (BENCH_ARGS="--sizes 1000,10000" for a subset)
	$(PY) bench/retrieval.py $(BENCH_ARGS)

nlu-eval: venv venv-rasa ## per-language intent F1 on a held-out split of nlu/ (trains a throwaway model, ~3 min)
	$(PY) bench/nlu.py $(BENCH_ARGS)

run: index catalogs model ## the whole bot: Telegram with TELEGRAM_BOT_TOKEN set, else a terminal chat (Ctrl-C stops all)
	$(PY) -m stack run

serve: index catalogs model ## action server + Rasa REST channel on 127.0.0.1:5005 (Ctrl-C stops both)
	$(PY) -m stack serve

clean: ## remove environments, index and caches
	rm -rf $(VENV) $(RASA_VENV) var models .rasa .pytest_cache .ruff_cache *.egg-info $(MO_FILES)
