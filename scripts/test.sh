#!/usr/bin/env bash
# The whole test suite (README: `make test`). Fails on the first failing stage.
#  1. pytest: components, knowledge/data files, data layer, actions (SQLite + PostgreSQL),
#     channels, console (everything that needs no trained model)
#  2. rasa data validate (no errors, no story conflicts)
#  3. rasa train (fixed random seeds) into var/test-models
#  4. rasa test core: the end-to-end test stories (dialogue predictions)
#  5. pytest -m needs_model, against one real bot (rasa run + action server, started once):
#     NLU accuracy (frozen test set >= the claim in bench/claims.json minus 1 point, dev set as
#     a regression check), the story texts' answers,
#     `make shell` in a pseudo-terminal beside the bot, browser tests of the chat page and
#     console, the mini-program page (miniprogram-simulate) and the stock rasa-webchat widget,
#     fault tests against a real cluster (tests/cluster/test_faults.py, ~4 min)
#  (The JavaScript test tools are installed by the tests with `npm ci` in tests/web/js.)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RASA=".venv/bin/rasa"
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONHASHSEED=0
OUT=var/test-results
rm -rf "$OUT" && mkdir -p "$OUT" var/test-models
# Separate databases and ports, so a running `make run` is not disturbed (the real-bot tests
# start their own servers on free ports with fresh databases).
export DATABASE_URL="sqlite:///$PWD/$OUT/app.db"
export TRACKER_DATABASE_URL="sqlite:///$PWD/$OUT/tracker.db"
export ACTIONS_PORT=5155 ACTION_ENDPOINT_URL=http://127.0.0.1:5155/webhook
export LOCK_STORE_TYPE=in_memory REDIS_HOST=127.0.0.1
export ACTION_SERVER_TOKEN="test-$(head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9)"

stage() { printf '\n==== %s ====\n' "$*"; }

stage "1/5 pytest (no model needed)"
$PY -m pytest -m "not needs_model" -q --durations=10

stage "2/5 rasa data validate"
$RASA data validate --config config.yml --domain domain.yml --data data --max-history 5

stage "3/5 rasa train"
start=$(date +%s)
$RASA train --config config.yml --domain domain.yml --data data \
  --out var/test-models --fixed-model-name test-model --augmentation 0 --quiet
echo "training took $(( $(date +%s) - start )) s"
export TEST_MODEL="$PWD/var/test-models/test-model.tar.gz"

stage "4/5 rasa test core (end-to-end test stories)"
# Dialogue predictions only (rasa test core runs no actions); which answer a retrieval action
# picks is checked on the parsed story texts in stage 5 (tests/model/test_story_texts.py).
$RASA test core --model "$TEST_MODEL" --stories tests/stories \
  --fail-on-prediction-errors --no-plot --out "$OUT/core"

stage "5/5 pytest (trained model: NLU accuracy, rasa shell, browser)"
$PY -m pytest -m needs_model -q --durations=10
