"""The booking and lookup test stories follow from the rules (RulePolicy only, no model).

A RulePolicy is trained in-process on ``data/rules`` and ``data/stories`` (seconds, no NLU, no
``rasa train``) and every test story of ``tests/stories/test_booking.yml`` and
``test_lookups.yml`` is replayed: each action of the story must be the policy's prediction,
with the form rejection emulated the way ``rasa test`` does it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
STORIES = [
    ROOT / "tests" / "stories" / "test_booking.yml",
    ROOT / "tests" / "stories" / "test_lookups.yml",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.core.training_data.structures import StoryGraph

    responses = [str(p) for p in sorted((ROOT / "data" / "responses").glob("*.yml"))]
    domain = Domain.load([str(ROOT / "domain.yml"), *responses]).merge(
        # retrieval actions come from the NLU data at training time
        Domain.from_dict({"actions": ["utter_faq", "utter_out_of_scope"]})
    )
    steps = []
    for folder in ("rules", "stories"):
        for path in sorted((ROOT / "data" / folder).glob("*.yml")):
            steps += YAMLStoryReader(domain).read_from_file(str(path))
    trackers = TrainingDataGenerator(
        StoryGraph(steps), domain, augmentation_factor=0, remove_duplicates=True
    ).generate()
    policy = RulePolicy.create(
        {**RulePolicy.get_default_config(), "restrict_rules": True},
        LocalModelStorage(tmp_path_factory.mktemp("rules")),
        Resource("rule_policy"),
        ExecutionContext(GraphSchema({}), "booking-rules"),
    )
    policy.train(trackers, domain)
    return policy, domain


def _stories() -> list[tuple[Path, str]]:
    import yaml

    return [
        (path, story["story"])
        for path in STORIES
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    ]


@pytest.mark.parametrize(("path", "name"), _stories(), ids=[n for _p, n in _stories()])
def test_story_follows_from_the_rules(trained: tuple[Any, Any], path: Path, name: str) -> None:
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    policy, domain = trained
    (story,) = [
        s for s in YAMLStoryReader(domain).read_from_file(str(path)) if s.block_name == name
    ]

    def predict(tracker: DialogueStateTracker) -> tuple[str, float]:
        probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return domain.action_names_or_texts[best], probabilities[best]

    tracker = DialogueStateTracker.from_events(
        name, [ActionExecuted("action_listen")], domain.slots
    )
    for event in story.events:
        if isinstance(event, UserUttered) and tracker.latest_action_name != "action_listen":
            assert predict(tracker)[0] == "action_listen"
            tracker.update(ActionExecuted("action_listen"), domain)
        if isinstance(event, ActionExecuted):
            expected = event.action_name.split("/")[0]  # utter_faq/<key> is run as utter_faq
            predicted, confidence = predict(tracker)
            if predicted != expected and predicted == tracker.active_loop_name:
                tracker.update(ActionExecutionRejected(predicted))  # the form found nothing
                predicted, confidence = predict(tracker)
            assert (predicted, confidence >= 0.5) == (expected, True), tracker.events
            event = ActionExecuted(expected)
        tracker.update(event, domain)
