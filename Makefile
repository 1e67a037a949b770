# e户政 intelligent customer-service assistant.  `make run` and `make test` are all you need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/lock.txt requirements/rasa.txt | md5sum | cut -c1-8)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: install run run-cluster shell train test lint format bench browser nginx clean console-user

install: $(STAMP)

# Rasa 3.6.21 declares Requires-Python <3.11; we run it on 3.11 from a fully pinned lock file
# installed without the resolver (see ../shared/notes/rasa-3.6-on-python-3.11.md).
$(STAMP): requirements/lock.txt requirements/rasa.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python \
		-r requirements/lock.txt -r requirements/rasa.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Install, prepare the SQLite database, train if models/ is empty, start everything.
run: install
	$(PY) -m bot run

## The replicated topology on this machine: nginx in front of REPLICAS (2) Rasa replicas and
## ACTION_SERVERS (2) action servers, PostgreSQL, Redis and RabbitMQ (README, docs/deploy.md).
run-cluster: install nginx
	$(if $(REPLICAS),CLUSTER_REPLICAS=$(REPLICAS)) $(if $(ACTION_SERVERS),CLUSTER_ACTION_SERVERS=$(ACTION_SERVERS)) \
		$(PY) -m bot run-cluster

## Chat in the terminal (start `make run` first, in another terminal).
shell: install
	$(PY) -m bot shell

## Train a fresh model into models/.
train: install
	$(PY) -m bot train --force

## Debian's headless Chromium for the browser tests (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/wqy || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
		fonts-wqy-microhei fonts-noto-color-emoji >/dev/null; }

## Debian's nginx for `make run-cluster` (never started as a system service: the cluster runs
## its own instance with a generated configuration under var/cluster/).
nginx:
	@test -x /usr/sbin/nginx || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

## The whole test suite: pytest, rasa data validate, training, test stories, held-out NLU.
test: install browser nginx
	$(SHELL) scripts/test.sh

lint: install
	$(VENV)/bin/ruff check bot actions tests bench
	$(VENV)/bin/ruff format --check bot actions tests bench
	$(VENV)/bin/mypy bot actions

format: install
	$(VENV)/bin/ruff format bot actions tests bench
	$(VENV)/bin/ruff check --fix bot actions tests bench

## Benchmarks (NLU accuracy and latency, turn latency, training time, memory, actions,
## console inbox with 100,000 conversations).
bench: install nginx
	$(PY) bench/bench_nlu.py --keep
	$(PY) bench/run.py --model var/bench-nlu/models/ours.tar.gz
	$(PY) bench/bench_actions.py
	$(PY) bench/bench_console.py
	$(PY) bench/bench_console.py --postgres || \
		echo "PostgreSQL at 127.0.0.1:5432 not reachable: console benchmark on PostgreSQL skipped"
	$(PY) bench/bench_cluster.py --model var/bench-nlu/models/ours.tar.gz

## Create a console account: make console-user NAME=admin ROLE=admin
console-user: install
	$(PY) -m bot.console create-user --username $(or $(NAME),admin) --role $(or $(ROLE),officer)

clean:
	rm -rf var/test-models var/test-results tests/artifacts
