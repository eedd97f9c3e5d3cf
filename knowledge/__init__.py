"""Aqparat's knowledge layer: curated, source-cited facts and retrieval over them.

A plain library (no Rasa, no Telegram) so the action server, the CLI and the tests share it.
Typical use::

    service = KnowledgeService.open()          # loads the model and the index once
    decision = service.decide("старлинк заңды ма", "kk")
    decision.kind                               # "answer" | "clarify" | "unknown"
    decision.hits[0].statement("kk")            # the fact, in the asker's language
    decision.hits[0].label("kk")                # its short title, for a clarify button
"""

from knowledge.loader import KnowledgeBase, KnowledgeBaseError, Problem, load_knowledge_base
from knowledge.logs import ConversationLog
from knowledge.retriever import Decision, Hit, Retriever
from knowledge.service import KnowledgeService, ReloadResult
from knowledge.settings import Settings

__all__ = [
    "ConversationLog",
    "Decision",
    "Hit",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeService",
    "Problem",
    "ReloadResult",
    "Retriever",
    "Settings",
    "load_knowledge_base",
]
