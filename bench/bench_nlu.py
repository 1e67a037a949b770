"""NLU benchmark, measured honestly: three systems trained and scored in one run.  `make bench`.

Systems (same training data, data/nlu + data/responses):
- ours: config.yml (normaliser, Jieba + domain dictionary, the linear intent classifier over
  character n-grams and pinyin, fallback), or the config given with --config;
- rasa-default: the `rasa init` pipeline (Rasa 3.6's default) with JiebaTokenizer instead of
  WhitespaceTokenizer (seeds fixed so that reruns agree);
- tfidf-lr: scikit-learn TF-IDF over character 1-3-grams + logistic regression on the full
  labels (text through the same normaliser).

Scored on the dev set (tests/nlu/dev*.yml, tuned on: dev.yml plus the fresh items written on
2026-12-07 from the label definitions, dev_fresh*.yml) and the frozen test set
(tests/nlu/test.yml, never tuned on): accuracy of the full label, in-scope accuracy,
out-of-scope rejection (an ``out_of_scope/*`` item answered with some ``out_of_scope/*``
redirect), false rejections, and accuracy on deterministic perturbations of the test set
(bench/perturb.py) against clean accuracy on the same items. Writes bench/results/nlu.md and
nlu.json; test-set errors are reported per label only (no texts), so nothing is tuned on them.

Options: --skip-baselines (ours only), --model PATH (score an existing model of ours, no
training), --config PATH (train ours from this config instead of config.yml), --dev-only
(score the dev set only, NLU-only training, print the figures, write no result files; for
tuning), --keep (keep the trained models in var/bench-nlu/).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nlu_report import flags, render  # noqa: E402
from perturb import perturbed_sets  # noqa: E402

from bot.nlu.evaluate import dev_set_paths, full_label, load_examples  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench-nlu"
DEV_SETS = tuple(dev_set_paths(ROOT))
TEST = ROOT / "tests" / "nlu" / "test.yml"

# `rasa init` (Rasa 3.6) writes this pipeline (commented out: it is the default); only the
# tokenizer is swapped for Chinese, and seeds are fixed.
RASA_DEFAULT_CONFIG = """\
recipe: default.v1
language: zh
assistant_id: bench-rasa-default
pipeline:
  - name: JiebaTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
    random_seed: 2026
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
    random_seed: 2026
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies: []
"""

Parser = Callable[[str], tuple[str, float]]


def rasa_train(config: Path, name: str, nlu_only: bool) -> tuple[Path, float]:
    """Train from scratch (component cache off); return the model and the seconds.

    Ours is trained whole (NLU and the rule policies: the model the bot serves, reused by
    bench/run.py for latency); the baseline only needs its NLU.
    """
    env = dict(os.environ, RASA_MAX_CACHE_SIZE="0", PYTHONHASHSEED="0")
    out = WORK / "models"
    data = ["nlu", "--nlu", "data"] if nlu_only else ["--data", "data", "--augmentation", "0"]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", *data, "--config", str(config)]
        + ["--domain", "domain.yml", "--out", str(out)]
        + ["--fixed-model-name", name, "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out / f"{name}.tar.gz", time.perf_counter() - start


def rasa_parser(model: Path) -> tuple[Parser, Any]:
    """Load a Rasa model in this process; returns a parse function and the event loop."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per parsed message
    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model))

    def parse(text: str) -> tuple[str, float]:
        return full_label(loop.run_until_complete(agent.parse_message(text)))

    return parse, loop


def load_dev() -> list[tuple[str, str]]:
    """(text, full label) pairs of every dev file."""
    return [pair for path in DEV_SETS for pair in load_examples(path)]


def training_examples() -> list[tuple[str, str]]:
    """(text, full label) pairs of the training data, as Rasa reads them."""
    return load_examples(ROOT / "data" / "nlu")


def tfidf_parser() -> tuple[Parser, float]:
    """Train the TF-IDF + logistic regression baseline; return its parse function and seconds."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from bot.nlu.normalize import normalize_text

    pairs = training_examples()
    start = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, preprocessor=normalize_text
        ),
        LogisticRegression(C=10.0, max_iter=3000, random_state=2026),
    )
    model.fit([t for t, _ in pairs], [label for _, label in pairs])
    seconds = time.perf_counter() - start

    def parse(text: str) -> tuple[str, float]:
        probabilities = model.predict_proba([text])[0]
        best = int(probabilities.argmax())
        return str(model.classes_[best]), float(probabilities[best])

    return parse, seconds


def data_fingerprint() -> str:
    """sha256 over what the figures depend on besides the systems: training data, dev and
    test sets, the perturbations and the normaliser."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "data" / "nlu").rglob("*.yml")) + [*DEV_SETS, TEST]
    files += [ROOT / "bench" / "perturb.py", ROOT / "bot" / "nlu" / "normalize.py"]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def is_oos(label: str) -> bool:
    return label.startswith("out_of_scope/")


def score(parse: Parser, examples: list[tuple[str, str]]) -> dict[str, Any]:
    """Every metric of one system on one evaluation set (with its predictions)."""
    predicted = [parse(text)[0] for text, _ in examples]
    gold = [label for _, label in examples]
    hits = [p == g for p, g in zip(predicted, gold, strict=True)]
    in_scope = [i for i, g in enumerate(gold) if not is_oos(g)]
    oos = [i for i, g in enumerate(gold) if is_oos(g)]
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g, hit in zip(gold, hits, strict=True):
        per_label[g][0] += int(hit)
        per_label[g][1] += 1
    return {
        "n": len(examples),
        "accuracy": sum(hits) / len(hits),
        "in_scope_accuracy": sum(hits[i] for i in in_scope) / max(len(in_scope), 1),
        "oos_rejection": sum(is_oos(predicted[i]) for i in oos) / max(len(oos), 1),
        "oos_not_answered": sum(is_oos(predicted[i]) or predicted[i] == "nlu_fallback" for i in oos)
        / max(len(oos), 1),
        "false_rejection": sum(is_oos(predicted[i]) for i in in_scope) / max(len(in_scope), 1),
        "fallback_rate": predicted.count("nlu_fallback") / len(predicted),
        "per_label": {k: v for k, v in sorted(per_label.items())},
        "predicted": predicted,
    }


def score_perturbed(
    parse: Parser, examples: list[tuple[str, str]], clean: list[str]
) -> dict[str, Any]:
    """Accuracy on each kind of perturbation against clean accuracy on the same items."""
    out: dict[str, Any] = {}
    total_hits = total_clean = total_n = 0
    for kind, items in perturbed_sets(examples).items():
        hits = sum(parse(text)[0] == label for _, text, label in items)
        clean_hits = sum(clean[i] == label for i, _, label in items)
        out[kind] = {
            "n": len(items),
            "accuracy": hits / max(len(items), 1),
            "clean_accuracy": clean_hits / max(len(items), 1),
        }
        total_hits += hits
        total_clean += clean_hits
        total_n += len(items)
    out["all"] = {
        "n": total_n,
        "accuracy": total_hits / max(total_n, 1),
        "clean_accuracy": total_clean / max(total_n, 1),
    }
    return out


def dev_summary(name: str, result: dict[str, Any], seconds: float) -> str:
    """One line of dev-set figures (for --dev-only)."""
    metrics = (
        "accuracy",
        "in_scope_accuracy",
        "oos_rejection",
        "oos_not_answered",
        "false_rejection",
        "fallback_rate",
    )
    figures = ", ".join(f"{metric} {result[metric]:.4f}" for metric in metrics)
    return f"{name}: dev {figures} (trained in {seconds:.0f} s)"


def evaluate_system(parse: Parser, test: list, dev: list) -> dict[str, Any]:
    result = {"dev": score(parse, dev), "test": score(parse, test)}
    result["perturbed"] = score_perturbed(parse, test, result["test"]["predicted"])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--model", type=Path, help="score this model of ours instead of training")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="config of ours")
    parser.add_argument("--dev-only", action="store_true", help="dev set only, for tuning")
    parser.add_argument("--keep", action="store_true", help="keep var/bench-nlu/models")
    parser.add_argument(
        "--reuse-rasa-default",
        action="store_true",
        help="take rasa-default's figures (~40 min of training) from bench/results/nlu.json "
        "when that run used exactly the same data (same data_sha256); fails otherwise",
    )
    args = parser.parse_args()
    if args.dev_only:
        return dev_only(args)
    os.chdir(ROOT)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    WORK.mkdir(parents=True, exist_ok=True)
    dev, test = load_dev(), load_examples(TEST)
    systems: dict[str, dict[str, Any]] = {}

    if args.model:
        model, seconds = args.model, float("nan")
    else:
        model, seconds = rasa_train(args.config.resolve(), "ours", nlu_only=False)
    print(f"ours: trained in {seconds:.0f} s", flush=True)
    parse, loop = rasa_parser(model)
    systems["ours"] = evaluate_system(parse, test, dev) | {"training_seconds": seconds}
    loop.close()
    errors = [
        {"text": text, "expected": label, "predicted": predicted}
        for (text, label), predicted in zip(dev, systems["ours"]["dev"]["predicted"], strict=True)
        if predicted != label
    ]
    (WORK / "dev_errors.json").write_text(json.dumps(errors, ensure_ascii=False, indent=1))

    reused: dict[str, str] = {}
    if args.reuse_rasa_default:
        previous = json.loads((RESULTS / "nlu.json").read_text(encoding="utf-8"))
        if previous["meta"].get("data_sha256") != data_fingerprint():
            print("rasa-default: the previous run used other data; train it (drop the flag)")
            return 2
        systems["rasa-default"] = previous["systems"]["rasa-default"]
        reused["rasa-default"] = previous["meta"]["date"]
        parse, seconds = tfidf_parser()
        systems["tfidf-lr"] = evaluate_system(parse, test, dev) | {"training_seconds": seconds}
    elif not args.skip_baselines:
        config = WORK / "rasa_default_config.yml"
        config.write_text(RASA_DEFAULT_CONFIG, encoding="utf-8")
        model_default, seconds = rasa_train(config, "rasa-default", nlu_only=True)
        print(f"rasa-default: trained in {seconds:.0f} s", flush=True)
        parse, loop = rasa_parser(model_default)
        systems["rasa-default"] = evaluate_system(parse, test, dev) | {"training_seconds": seconds}
        loop.close()
        parse, seconds = tfidf_parser()
        systems["tfidf-lr"] = evaluate_system(parse, test, dev) | {"training_seconds": seconds}

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "dev_n": len(dev),
        "test_n": len(test),
        "test_oos_n": sum(is_oos(label) for _, label in test),
        "data_sha256": data_fingerprint(),
    } | ({"reused": reused} if reused else {})
    for system in systems.values():
        for part in ("dev", "test"):
            system[part].pop("predicted", None)
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "meta": meta,
        "systems": systems,
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in flags(systems)],
    }
    (RESULTS / "nlu.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    (RESULTS / "nlu.md").write_text(render(systems, meta), encoding="utf-8")
    print((RESULTS / "nlu.md").read_text(encoding="utf-8"))
    if not args.keep:
        shutil.rmtree(WORK / "models", ignore_errors=True)
    return 0


def dev_only(args: argparse.Namespace) -> int:
    """Score ours (and tfidf-lr unless --skip-baselines) on the dev set; print, write nothing.

    The errors of ours go to var/bench-nlu/dev_errors.json as in a full run.
    """
    os.chdir(ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    dev = load_dev()
    if args.model:
        model, seconds = args.model, float("nan")
    else:
        model, seconds = rasa_train(args.config.resolve(), "ours-dev", nlu_only=True)
    parse, loop = rasa_parser(model)
    result = score(parse, dev)
    loop.close()
    errors = [
        {"text": text, "expected": label, "predicted": predicted}
        for (text, label), predicted in zip(dev, result["predicted"], strict=True)
        if predicted != label
    ]
    (WORK / "dev_errors.json").write_text(json.dumps(errors, ensure_ascii=False, indent=1))
    print(dev_summary("ours", result, seconds), flush=True)
    if not args.skip_baselines:
        parse, seconds = tfidf_parser()
        print(dev_summary("tfidf-lr", score(parse, dev), seconds), flush=True)
    if not args.keep and not args.model:
        shutil.rmtree(WORK / "models", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
