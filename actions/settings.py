"""The action server's settings: the knowledge layer's, the shared dialogue ones and its own.

One object, so ``ActionResources`` hands it to ``LiveKnowledge.open`` as it is.
"""

from __future__ import annotations

from config import DialogueSettings, env
from knowledge.settings import KnowledgeSettings


class ActionSettings(KnowledgeSettings, DialogueSettings):
    """Read by ``python -m actions.server`` (and, through ``stack.settings``, the supervisor)."""

    index_follow_seconds: float = env(
        "AQPARAT_INDEX_FOLLOW_SECONDS",
        10.0,
        "how often the action server looks for a build another replica published in "
        "`AQPARAT_INDEX_DIR` (a `/reload` reaches one replica; the others follow); `0`: never",
    )
    retention_days: int = env(
        "AQPARAT_RETENTION_DAYS",
        0,
        "conversations idle longer than this many days, and older conversation-log lines, are "
        "deleted: at start and daily by `make serve`/`make run`, once by "
        "`python -m stack prune [--days N]`; `0` keeps everything",
    )
