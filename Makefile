# Everyday tasks. `make run` and `make test` are the README's two commands.
LANGUAGES := de fr ar fa tr ru uk ka hy ro sq sr mk
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup run train test test-unit lint messages clean coach-messages bench bench-coach test-browser eval fuzz chaos

setup:  ## create or update .venv and .venv-rasa from the lock files
	@bash scripts/setup.sh

run: setup  ## migrate, train if needed, start Rasa + actions + bot (terminal chat without a token)
	@$(PY) -m core.run

train: setup  ## train the Rasa model if the training data changed
	@$(PY) -m core.train

eval: train  ## NLU on held-out data per language (Rasa), country mentions, language-ID benchmark
	@$(PY) scripts/eval_nlu.py --check

test:  ## the whole suite: unit, storage (SQLite + PostgreSQL), deployment files, end to end
	@bash scripts/test.sh

test-unit: setup
	@$(PY) -m pytest tests/unit

fuzz: setup  ## the properties of tests/fuzz with a large budget (FUZZ_ARGS="--total 100000 --seed 7")
	@$(PY) scripts/fuzz.py $(FUZZ_ARGS)

lint: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy bot actions storage core
	@.venv/bin/hadolint Dockerfile

messages: setup  ## extract source strings and update every language's catalog
	@$(PY) -m babel.messages.frontend extract -F babel.cfg -k _ -k gettext_noop -k reply:3 -k Option:2 \
		--no-location --sort-output -w 100 -o bot/locale/messages.pot .
	@for lang in $(LANGUAGES); do \
		if [ -f bot/locale/$$lang/LC_MESSAGES/messages.po ]; then \
			$(PY) -m babel.messages.frontend update -i bot/locale/messages.pot -d bot/locale -l $$lang -w 100 --no-fuzzy-matching; \
		else \
			$(PY) -m babel.messages.frontend init -i bot/locale/messages.pot -d bot/locale -l $$lang -w 100; \
		fi; \
	done

coach-messages: setup  ## extract the coach pages' texts (_c, N_c) and update their German catalog
	@$(PY) -m babel.messages.frontend extract -F bot/coach/babel.cfg --no-default-keywords -k _c -k N_c \
		--no-location --sort-output -w 100 -o bot/coach/locale/coach.pot .
	@$(PY) -m babel.messages.frontend update -i bot/coach/locale/coach.pot -d bot/coach/locale -D coach -l de \
		-w 100 --no-fuzzy-matching --ignore-obsolete

BENCH_ARGS ?= --max-throughput
bench: setup  ## load: 200 people at 10 s think time via the bot and straight to Rasa, max throughput (BENCH_ARGS="--smoke")
	@$(PY) scripts/bench.py $(BENCH_ARGS)

bench-coach: setup  ## server time of the coach pages with 10,000 invented profiles (SQLite and PostgreSQL)
	@$(PY) scripts/bench_coach.py

test-browser: setup  ## the coach pages in headless Chromium (Playwright); screenshots in test-output/
	@$(PY) -m pytest tests/browser

clean:
	rm -rf data models .pytest_cache test-output

chaos: train  ## 100 people do whole intakes while every process is killed >= 30 times (CHAOS_ARGS="--users 20")
	@$(PY) scripts/chaos.py $(CHAOS_ARGS)
