"""What the actions share: settings, the knowledge service, school data and the logs.

rasa-sdk instantiates each action class itself, without arguments, so the shared objects are
reached through ``process_resources()``, created once per process. Each part loads on first use: the
NLG endpoint needs only the region list, not the embedding model. Tests build their own
``ActionResources`` and pass it to the actions they construct.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache, cached_property

from actions.settings import ActionSettings
from knowledge.eligibility import RuleSet
from knowledge.logs import ConversationLog
from knowledge.regions import RegionMatcher
from knowledge.schools import SchoolRegistry
from knowledge.service import LiveKnowledge

log = logging.getLogger(__name__)


@dataclass
class ActionResources:
    settings: ActionSettings = field(default_factory=ActionSettings.from_env)

    @cached_property
    def knowledge(self) -> LiveKnowledge:
        return LiveKnowledge.open(self.settings)

    @cached_property
    def regions(self) -> RegionMatcher:
        return RegionMatcher.load()

    @cached_property
    def rules(self) -> RuleSet:
        return RuleSet.load()

    @cached_property
    def log(self) -> ConversationLog:
        return ConversationLog.from_settings(self.settings)

    def registry(self) -> SchoolRegistry | None:
        """The imported school registry, re-read on every check so an import needs no restart."""
        path = self.settings.schools_file
        if not path.exists():
            return None
        try:
            return SchoolRegistry.load(path)
        except (OSError, ValueError) as error:
            log.warning("school registry %s unreadable: %s", path, error)
            return None


@cache
def process_resources() -> ActionResources:
    return ActionResources()
