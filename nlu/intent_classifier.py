"""The intent classifier: a logistic regression over n-grams and the message's e5 vector.

Why not DIET's own intent head: with a few dozen examples per intent and language, DIET read
short replies ("иә", "не то", "thanks, helpful") no better than 0.72–0.83 accuracy per language
on `bench/nlu.py`, and giving it the e5 sentence feature did not help. The same recipe that
decides facts (``knowledge/classifier.py``: character and word n-grams plus the multilingual
embedding, one multinomial logistic regression) learns from these examples what tells intents
apart. DIET stays in the pipeline for entities only.

Runs inside Rasa (``.venv-rasa``, Python 3.10), like ``nlu/featurizer.py``; it reads the e5
vector that featurizer adds, and works on n-grams alone when it is absent. Confidences are the
model's probabilities, so the FallbackClassifier threshold keeps its meaning.
"""

from __future__ import annotations

import logging
import pickle
import re
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)

FILE = "intent_classifier.pkl"
WORD = r"(?u)\b\w+\b"  # one-letter words count: "а", "и", "y"
INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
RANKING_LENGTH = 10  # as DIET reports


def normalise(text: str) -> str:
    return INVISIBLE.sub("", text).lower().replace("ё", "е")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NgramIntentClassifier(GraphComponent, IntentClassifier):
    """Sets ``intent`` and ``intent_ranking`` from a logistic regression."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # C: the examples are clean and few, so the fit may follow them closely.
        # vector_weight: the e5 vector's scale against the unit-norm n-gram blocks.
        return {"C": 30.0, "vector_weight": 2.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        fitted: dict[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._fitted = fitted

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NgramIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NgramIntentClassifier:
        """A model trained without intents stores nothing: it then classifies nothing."""
        try:
            with model_storage.read_from(resource) as directory:
                fitted = pickle.loads((directory / FILE).read_bytes())  # noqa: S301 - written by train()
        except (ValueError, FileNotFoundError):
            fitted = None
        return cls(config, model_storage, resource, fitted)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("NgramIntentClassifier: fewer than two intents to learn; it will classify nothing")
            return self._resource
        texts = [normalise(m.get(TEXT)) for m in examples]
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=WORD, sublinear_tf=True)
        chars.fit(texts)
        words.fit(texts)
        fitted = {"chars": chars, "words": words, "model": None}
        model = LogisticRegression(C=float(self._config["C"]), max_iter=2000)
        model.fit(self._features(fitted, examples), [m.get(INTENT) for m in examples])
        fitted["model"] = model
        self._fitted = fitted
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE).write_bytes(pickle.dumps(fitted))
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """An empty message is classified too (its features are zeros, so it gets the priors and
        falls back): with no intent at all Rasa would predict nothing and the user get no reply."""
        for message in messages:
            if self._fitted is None:
                message.set(
                    INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True
                )
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            model = self._fitted["model"]
            probabilities = model.predict_proba(self._features(self._fitted, [message]))[0]
            order = np.argsort(-probabilities)[:RANKING_LENGTH]
            ranking = [
                {INTENT_NAME_KEY: str(model.classes_[i]), PREDICTED_CONFIDENCE_KEY: float(probabilities[i])}
                for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def _features(self, fitted: dict[str, Any], messages: list[Message]) -> sparse.csr_matrix:
        """N-grams, then the e5 vector when the model was trained with one (zeros for a message
        that lacks it); ``fitted["dimension"]`` is set on the first call, at training."""
        texts = [normalise(m.get(TEXT) or "") for m in messages]
        blocks = [fitted["chars"].transform(texts), fitted["words"].transform(texts)]
        vectors = [self._vector(m) for m in messages]
        if "dimension" not in fitted:
            present = all(v is not None for v in vectors)
            fitted["dimension"] = int(vectors[0].shape[0]) if present and vectors else 0
        dimension = fitted["dimension"]
        if dimension:
            weight = float(self._config["vector_weight"])
            rows = [
                v * weight if v is not None and v.shape[0] == dimension else np.zeros(dimension)
                for v in vectors
            ]
            blocks.append(sparse.csr_matrix(np.vstack(rows)))
        return sparse.hstack(blocks).tocsr()

    @staticmethod
    def _vector(message: Message) -> np.ndarray | None:
        _, sentence = message.get_dense_features(TEXT)
        return None if sentence is None else np.asarray(sentence.features).reshape(-1)
