"""Aqparat's knowledge layer: curated, source-cited facts and retrieval over them.

A plain library (no Rasa, no Telegram) so the action server, the CLI and the tests share it.
Typical use::

    service = LiveKnowledge.open()          # loads the model and the index once
    decision = service.decide("старлинк заңды ма", "kk")
    decision.kind                               # "answer" | "clarify" | "unknown"
    decision.hits[0].statement("kk")            # the fact, in the asker's language
    decision.hits[0].label("kk")                # its short title, for a clarify button

The names below load on first use: importing one light module (``knowledge.settings``,
``knowledge.usage``) must not pull in faiss, scikit-learn and the embedding model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.loader import KnowledgeBase, KnowledgeBaseError, Problem, load_knowledge_base
    from knowledge.logs import ConversationLog
    from knowledge.retriever import Decision, Hit, Retriever
    from knowledge.service import LiveKnowledge, ReloadResult
    from knowledge.settings import KnowledgeSettings

_HOMES = {
    "ConversationLog": "knowledge.logs",
    "Decision": "knowledge.retriever",
    "Hit": "knowledge.retriever",
    "KnowledgeBase": "knowledge.loader",
    "KnowledgeBaseError": "knowledge.loader",
    "LiveKnowledge": "knowledge.service",
    "KnowledgeSettings": "knowledge.settings",
    "Problem": "knowledge.loader",
    "ReloadResult": "knowledge.service",
    "Retriever": "knowledge.retriever",
    "load_knowledge_base": "knowledge.loader",
}

__all__ = [
    "ConversationLog",
    "Decision",
    "Hit",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeSettings",
    "LiveKnowledge",
    "Problem",
    "ReloadResult",
    "Retriever",
    "load_knowledge_base",
]


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
