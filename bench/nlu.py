"""Intent quality of the Rasa NLU model per language, on a held-out split of ``nlu/``.

Why this exists: the dialogue engine routes on the intent classifier, so docs/measurements.md reports its
per-language F1, and the FallbackClassifier threshold in ``config.yml`` is chosen from the
threshold table printed here rather than guessed. Like ``bench/retrieval.py`` it prints figures
and asserts nothing.

How: every (language, intent) group of ``nlu/{kk,ru,en}.yml`` is split with a fixed seed; a
throwaway NLU-only model is trained on the training part with the project's ``config.yml``
(Rasa 3.6 in ``.venv-rasa``), and each held-out text is parsed by that model. A text held out
in one language is also removed from the training part of the others ("да", "help" occur in
several files), so every held-out text is one the model never saw. Scores are the classifier's
own (a ``nlu_fallback`` is undone, the way ``rasa test nlu`` does), and the fallback share is
reported beside them, because a fallback is not an error here: ``nlu_fallback`` goes to the
retrieval action just like ``ask_question``.

With ``--repeats N`` the split is redrawn with seeds ``seed .. seed+N-1``; the headline figures
are the mean over the repeats, the per-intent F1 and the threshold table pool every repeat's
predictions (more held-out texts per cell).

    python bench/nlu.py                       # one split, about 3 minutes on 2 cores
    python bench/nlu.py --repeats 3 --json    # three splits; JSON as the last line
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("kk", "ru", "en")
# The one intent whose false positives cost the user most: it starts the school form.
COSTLY_INTENT = "check_school"
# 0.30 .. 0.90: DIET's softmax confidences crowd near 1, so the top of the range matters most.
THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(13))
RASA_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONWARNINGS": "ignore"}
MODEL_NAME = "nlu-eval"

# `[russian]{"entity": "language", "value": "ru"}` or `[russian](language)` -> `russian`
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\([^)]*\))")

# Runs inside .venv-rasa (Python 3.10): Rasa cannot be imported from the app's Python 3.11.
# `rasa test nlu` keeps only the top intent's confidence; the ambiguity rule of the
# FallbackClassifier needs the second one too, so the full ranking is written instead.
PARSE_SCRIPT = """
import asyncio, json, sys
from rasa.core.agent import Agent

async def parse_all(agent, texts):
    rankings = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = parsed.get("intent_ranking") or [parsed["intent"]]
        rankings.append([[r["name"], r["confidence"]] for r in ranking if r["name"] != "nlu_fallback"])
    return rankings

model, texts_path, out_path = sys.argv[1:]
agent = Agent.load(model)
with open(texts_path, encoding="utf-8") as f:
    texts = json.load(f)
with open(out_path, "w", encoding="utf-8") as f:
    json.dump(asyncio.run(parse_all(agent, texts)), f)
"""


@dataclasses.dataclass(frozen=True)
class Example:
    """One training example; ``text`` keeps entity annotations, ``plain`` is what a user types."""

    language: str
    intent: str
    text: str

    @property
    def plain(self) -> str:
        return ANNOTATION.sub(r"\1", self.text)

    @property
    def key(self) -> str:
        """Identity across files: the same words in two languages' files are one text."""
        return " ".join(self.plain.lower().split())


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The classifier's raw verdict on one held-out example (FallbackClassifier undone)."""

    example: Example
    intent: str
    confidence: float
    second: float  # confidence of the runner-up; 0 when there is none

    @property
    def correct(self) -> bool:
        return self.intent == self.example.intent

    def falls_back(self, threshold: float, ambiguity: float) -> bool:
        """The FallbackClassifier's rule (rasa/nlu/classifiers/fallback_classifier.py)."""
        return self.confidence < threshold or self.confidence - self.second < ambiguity


@dataclasses.dataclass(frozen=True)
class Scores:
    """Headline figures for one language on one split."""

    held_out: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    fallback_share: float


class LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks, the way Rasa's own NLU files look."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


LiteralDumper.add_representer(str, _literal)


def read_nlu_file(path: Path, language: str) -> tuple[list[Example], list[dict]]:
    """Intent examples, and any other NLU items (synonyms, lookups, regexes) to train on as-is."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    extras: list[dict] = []
    for item in data.get("nlu", []):
        if "intent" not in item:
            extras.append(item)
            continue
        for line in item.get("examples", "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                examples.append(Example(language, item["intent"], text))
    return examples, extras


def read_nlu(nlu_dir: Path) -> tuple[list[Example], list[dict]]:
    """Every language file of ``nlu_dir``; rules and stories are not NLU data and are skipped."""
    examples: list[Example] = []
    extras: list[dict] = []
    for language in LANGUAGES:
        found, other = read_nlu_file(nlu_dir / f"{language}.yml", language)
        examples += found
        extras += other
    return examples, extras


def split(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Stratified split per (language, intent): ``round(n * fraction)`` held out, at least one.

    Each group is shuffled by its own seeded generator, so adding examples to one intent does not
    reshuffle the others. Training copies of a held-out text (in any file) are dropped.
    """
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in examples:
        groups.setdefault((example.language, example.intent), []).append(example)
    train: list[Example] = []
    test: list[Example] = []
    for (language, intent), members in groups.items():
        shuffled = list(members)
        random.Random(f"{seed}:{language}:{intent}").shuffle(shuffled)
        held = min(len(shuffled) - 1, max(1, round(len(shuffled) * fraction)))
        test += shuffled[:held]
        train += shuffled[held:]
    held_keys = {example.key for example in test}
    return [example for example in train if example.key not in held_keys], test


def write_training_data(train: Iterable[Example], extras: list[dict], directory: Path) -> None:
    """One Rasa 3.1 NLU file per language, annotations intact, intents in first-seen order."""
    directory.mkdir(parents=True, exist_ok=True)
    by_language: dict[str, dict[str, list[str]]] = {language: {} for language in LANGUAGES}
    for example in train:
        by_language[example.language].setdefault(example.intent, []).append(example.text)
    for language, intents in by_language.items():
        items: list[dict] = [
            {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
            for intent, texts in intents.items()
        ]
        if language == LANGUAGES[0]:
            items += extras
        document = {"version": "3.1", "nlu": items}
        text = yaml.dump(document, Dumper=LiteralDumper, allow_unicode=True, sort_keys=False, width=1000)
        (directory / f"{language}.yml").write_text(text, encoding="utf-8")


def rasa_env(workdir: Path) -> dict[str, str]:
    """Quiet Rasa, and keep its training cache out of the project's ``.rasa/``."""
    return {**os.environ, **RASA_ENV, "RASA_CACHE_DIRECTORY": str(workdir / "cache")}


def run_logged(command: list[str], env: dict[str, str], log: Path) -> None:
    """Run a Rasa command with its output in ``log``; on failure show the log's tail and stop."""
    with log.open("w", encoding="utf-8") as handle:
        result = subprocess.run(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        sys.exit(f"{command[0]} failed (exit {result.returncode}); last lines of {log}:\n{tail}")


def train_model(rasa: Path, config: Path, data_dir: Path, workdir: Path) -> Path:
    """Train an NLU-only model on ``data_dir`` with the project's pipeline; return its path."""
    out = workdir / "models"
    command = [str(rasa), "train", "nlu", "--config", str(config), "--nlu", str(data_dir)]
    command += ["--out", str(out), "--fixed-model-name", MODEL_NAME, "--quiet"]
    run_logged(command, rasa_env(workdir), workdir / "train.log")
    return out / f"{MODEL_NAME}.tar.gz"


def parse(rasa: Path, model: Path, examples: Sequence[Example], workdir: Path) -> list[Prediction]:
    """Parse every held-out text with ``model`` in one Rasa process (loading it takes ~20 s)."""
    texts_path, out_path = workdir / "texts.json", workdir / "rankings.json"
    texts_path.write_text(json.dumps([e.plain for e in examples], ensure_ascii=False), encoding="utf-8")
    python = rasa.parent / "python"
    command = [str(python), "-c", PARSE_SCRIPT, str(model), str(texts_path), str(out_path)]
    run_logged(command, rasa_env(workdir), workdir / "parse.log")
    rankings = json.loads(out_path.read_text(encoding="utf-8"))
    return [to_prediction(example, ranking) for example, ranking in zip(examples, rankings, strict=True)]


def to_prediction(example: Example, ranking: list[list]) -> Prediction:
    """The top intent, its confidence and the runner-up's confidence from a parse's ranking."""
    if not ranking:
        return Prediction(example, "", 0.0, 0.0)
    second = float(ranking[1][1]) if len(ranking) > 1 else 0.0
    return Prediction(example, str(ranking[0][0]), float(ranking[0][1]), second)


def fallback_settings(config: Path) -> tuple[float, float]:
    """The FallbackClassifier's ``threshold`` and ``ambiguity_threshold`` (Rasa's defaults if unset)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in data.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


def score(predictions: Sequence[Prediction], threshold: float, ambiguity: float) -> Scores:
    """Accuracy and macro/weighted F1 of the raw classifier, and the fallback share at the config."""
    targets = [p.example.intent for p in predictions]
    guesses = [p.intent for p in predictions]
    return Scores(
        held_out=len(predictions),
        accuracy=sum(p.correct for p in predictions) / len(predictions),
        macro_f1=float(f1_score(targets, guesses, average="macro", zero_division=0)),
        weighted_f1=float(f1_score(targets, guesses, average="weighted", zero_division=0)),
        fallback_share=sum(p.falls_back(threshold, ambiguity) for p in predictions) / len(predictions),
    )


def per_intent_f1(predictions: Sequence[Prediction]) -> dict[str, float]:
    """F1 of every intent that has held-out examples, worst first."""
    targets = [p.example.intent for p in predictions]
    labels = sorted(set(targets))
    values = f1_score(targets, [p.intent for p in predictions], labels=labels, average=None, zero_division=0)
    return dict(sorted(zip(labels, (float(v) for v in values), strict=True), key=lambda item: item[1]))


def threshold_row(predictions: Sequence[Prediction], threshold: float, ambiguity: float) -> dict[str, float]:
    """At one threshold: the share that falls back and the accuracy of the rest; then, as shares of
    all texts, the wrong predictions still kept and the right ones lost to the fallback."""
    kept = [p for p in predictions if not p.falls_back(threshold, ambiguity)]
    wrong = sum(not p.correct for p in kept)
    right_lost = sum(p.correct for p in predictions) - (len(kept) - wrong)
    return {
        "fallback": 1 - len(kept) / len(predictions),
        "kept_accuracy": (len(kept) - wrong) / len(kept) if kept else 1.0,
        "wrong_kept": wrong / len(predictions),
        "right_lost": right_lost / len(predictions),
    }


def false_costly(predictions: Sequence[Prediction], threshold: float, ambiguity: float) -> int:
    """Held-out texts of another intent kept as ``COSTLY_INTENT`` (each would start the form)."""
    return sum(
        p.intent == COSTLY_INTENT
        and p.example.intent != COSTLY_INTENT
        and not p.falls_back(threshold, ambiguity)
        for p in predictions
    )


def confusions(predictions: Iterable[Prediction], top: int) -> list[dict[str, object]]:
    """The most frequent (intended, predicted) pairs among wrong predictions: where data is missing."""
    pairs = Counter((p.example.intent, p.intent) for p in predictions if not p.correct)
    return [{"intent": a, "predicted": b, "count": n} for (a, b), n in pairs.most_common(top)]


def run_once(
    args: argparse.Namespace, examples: list[Example], extras: list[dict], seed: int
) -> list[Prediction]:
    """One split: write the training part, train, parse the held-out part."""
    train, test = split(examples, args.test_fraction, seed)
    with tempfile.TemporaryDirectory(prefix="aqparat-nlu-") as tmp:
        workdir = Path(tmp)
        write_training_data(train, extras, workdir / "data")
        started = time.monotonic()
        print(f"seed {seed}: training on {len(train)} examples, {len(test)} held out ...", file=sys.stderr)
        model = train_model(args.rasa, args.config, workdir / "data", workdir)
        trained = time.monotonic()
        predictions = parse(args.rasa, model, test, workdir)
        parsed = time.monotonic()
        print(
            f"seed {seed}: trained in {trained - started:.0f} s, parsed in {parsed - trained:.0f} s",
            file=sys.stderr,
        )
    return predictions


def by_language(predictions: Iterable[Prediction]) -> dict[str, list[Prediction]]:
    grouped: dict[str, list[Prediction]] = {language: [] for language in LANGUAGES}
    for prediction in predictions:
        grouped[prediction.example.language].append(prediction)
    return grouped


def summarise(
    runs: list[list[Prediction]], threshold: float, ambiguity: float, worst: int
) -> dict[str, object]:
    """Everything that is printed: per-language means, worst intents, the threshold table."""
    pooled = [p for run in runs for p in run]
    languages: dict[str, object] = {}
    for language, predictions in by_language(pooled).items():
        per_run = [score(by_language(run)[language], threshold, ambiguity) for run in runs]
        means = {
            field.name: statistics.fmean(getattr(s, field.name) for s in per_run)
            for field in dataclasses.fields(Scores)
        }
        languages[language] = {
            **means,
            "worst_intents": dict(list(per_intent_f1(predictions).items())[:worst]),
        }
    table = []
    for value in THRESHOLDS:
        row: dict[str, object] = {"threshold": value}
        for language, predictions in by_language(pooled).items():
            row[language] = threshold_row(predictions, value, ambiguity)
        row["all"] = threshold_row(pooled, value, ambiguity)
        row[f"false_{COSTLY_INTENT}"] = false_costly(pooled, value, ambiguity)
        table.append(row)
    return {
        "repeats": len(runs),
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "languages": languages,
        "confusions": confusions(pooled, worst * 2),
        "thresholds": table,
    }


def print_report(summary: dict, args: argparse.Namespace) -> None:
    """The human-readable tables (the JSON line, if asked for, comes after them)."""
    repeats, threshold = summary["repeats"], summary["threshold"]
    print(
        f"\nNLU intent quality: held-out {args.test_fraction:.0%} per (language, intent), "
        f"seed {args.seed}, {repeats} split(s); config.yml threshold {threshold}, "
        f"ambiguity {summary['ambiguity_threshold']}\n"
    )
    print("| lang | held out | accuracy | macro F1 | weighted F1 | fallback at config |")
    print("|---|---|---|---|---|---|")
    for language, s in summary["languages"].items():
        print(
            f"| {language} | {s['held_out']:.0f} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} | "
            f"{s['weighted_f1']:.3f} | {s['fallback_share']:.3f} |"
        )
    print("\nWorst intents (F1, pooled over the splits):")
    for language, s in summary["languages"].items():
        print(f"  {language}: " + ", ".join(f"{k} {v:.2f}" for k, v in s["worst_intents"].items()))
    print("\nMost frequent confusions (intended -> predicted, pooled):")
    for item in summary["confusions"]:
        print(f"  {item['intent']} -> {item['predicted']}: {item['count']}")
    print(
        "\nFallbackClassifier threshold: share that falls back / accuracy of the rest (pooled; "
        "* = config.yml); all languages: wrong predictions kept and right ones lost to the fallback "
        f"(shares of all texts); last column: texts of other intents kept as {COSTLY_INTENT}\n"
    )
    header = " | ".join(f"{language} fallback | {language} kept acc" for language in LANGUAGES)
    print(f"| threshold | {header} | all wrong kept | all right lost | false {COSTLY_INTENT} |")
    print("|---" * (3 + 2 * len(LANGUAGES) + 1) + "|")
    for row in summary["thresholds"]:
        mark = "*" if abs(row["threshold"] - threshold) < 1e-9 else ""
        cells = " | ".join(
            f"{row[language]['fallback']:.3f} | {row[language]['kept_accuracy']:.3f}"
            for language in LANGUAGES
        )
        print(
            f"| {row['threshold']:.2f}{mark} | {cells} | {row['all']['wrong_kept']:.3f} | "
            f"{row['all']['right_lost']:.3f} | {row[f'false_{COSTLY_INTENT}']} |"
        )


def print_errors(predictions: Iterable[Prediction]) -> None:
    """Each wrongly classified held-out text once, with what it was taken for (for data work)."""
    print("\nWrongly classified held-out texts:")
    seen: set[tuple[str, str]] = set()
    for p in sorted(predictions, key=lambda p: (p.example.language, p.example.intent, p.example.plain)):
        if p.correct or (p.example.language, p.example.plain) in seen:
            continue
        seen.add((p.example.language, p.example.plain))
        example = p.example
        print(f"  {example.language} {example.plain!r}: {example.intent} -> {p.intent} ({p.confidence:.2f})")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held out per group (0.2)")
    parser.add_argument("--seed", type=int, default=20261125, help="split seed of the first repeat")
    parser.add_argument("--repeats", type=int, default=1, help="splits with seeds seed..seed+N-1, averaged")
    parser.add_argument("--worst", type=int, default=5, help="worst intents listed per language")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="Rasa config to train with")
    parser.add_argument(
        "--nlu", type=Path, default=ROOT / "nlu", help="directory with kk.yml, ru.yml, en.yml"
    )
    parser.add_argument(
        "--rasa", type=Path, default=ROOT / ".venv-rasa" / "bin" / "rasa", help="rasa executable"
    )
    parser.add_argument("--show-errors", action="store_true", help="list every wrongly classified text")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    if not 0 < args.test_fraction < 1:
        parser.error("--test-fraction must be between 0 and 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not args.rasa.exists():
        parser.error(f"{args.rasa} not found (make venv-rasa)")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    examples, extras = read_nlu(args.nlu)
    threshold, ambiguity = fallback_settings(args.config)
    runs = [run_once(args, examples, extras, args.seed + i) for i in range(args.repeats)]
    summary = summarise(runs, threshold, ambiguity, args.worst)
    print_report(summary, args)
    if args.show_errors:
        print_errors([p for run in runs for p in run])
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
