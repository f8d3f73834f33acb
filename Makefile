# Casework: `make run` starts the app with its scheduler and a local chain; `make test` runs the suite.
# Both set everything up first (virtualenv, pinned packages, npm tools, system packages, translations).

PYTHON ?= python3
PORT ?= 5000
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup lint translations extract-messages clean-instance

run: setup
	@$(PY) -m casework.devrun --port $(PORT)

test: setup
	@scripts/system-packages.sh test
	@# pytest exits 5 when it collects nothing: that is a failure here, with a clear word.
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "make test: no tests were collected." >&2; fi; exit $$status

setup: $(VENV)/.installed node_modules/.installed casework/translations/.compiled
	@scripts/system-packages.sh run

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; this is " + sys.version.split()[0])'
	@test -x $(PY) || { scripts/system-packages.sh run && $(PYTHON) -m venv $(VENV); }
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "Node.js is missing: install it (apt-get install nodejs npm), then run make again." >&2; exit 1; }
	@# Not `npm ci`: npm records only this platform's anvil binary in the lock file, and ci then
	@# refuses the other platforms' optional packages. `npm install` keeps the locked versions.
	@npm install --no-audit --no-fund --silent
	@touch $@

casework/translations/.compiled: $(VENV)/.installed $(wildcard casework/translations/*/LC_MESSAGES/messages.po)
	@$(VENV)/bin/pybabel compile -d casework/translations
	@touch $@

lint: setup
	@$(VENV)/bin/ruff check .

# Refresh the message catalogue after changing user-facing strings, then translate the new entries.
extract-messages: setup
	@$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o casework/translations/messages.pot .
	@$(VENV)/bin/pybabel update -i casework/translations/messages.pot -d casework/translations

translations: extract-messages casework/translations/.compiled

clean-instance:
	rm -rf instance/
