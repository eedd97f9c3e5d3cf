"""The maintainer routes' contract: the paths and the reload reply, written once for both sides.

The action server serves these routes (actions/admin.py) and the bot calls them (bot/admin.py);
with the paths and the reply shape written on each side, a field renamed on one side would only
show up as "unavailable" in a maintainer's chat. This module is where both may meet without
breaking the data flow: the bot runs without rasa-sdk, so it must not import ``actions/``, and
both already depend on ``knowledge/``. It imports only pydantic, so it stays a leaf inside
``knowledge/`` (which imports nothing of ours but the leaves ``texts/`` and ``config/``). The
statistics reply needs no entry here: it is ``knowledge.usage.UsageStats``, which both sides
already share, with its own ``to_json``/``from_json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool, TypeAdapter
from pydantic.dataclasses import dataclass

RELOAD_PATH = "/admin/reload"
STATS_PATH = "/admin/stats"

# The client has always read text fields with str(); keep that leniency for older servers.
_Text = Annotated[str, BeforeValidator(str)]


@dataclass(frozen=True)
class ReloadReply:
    """The JSON body of ``POST /admin/reload``: whether the new facts serve now, whether the
    index was rebuilt, a one-line message, the problems (errors first), and how many facts serve
    now (on failure, the previous index's). A pydantic dataclass, so that the server builds it
    positionally like any dataclass and the client gets the same checks when reading it back."""

    ok: StrictBool
    rebuilt: StrictBool
    message: _Text
    problems: tuple[_Text, ...] = ()
    facts: int = 0

    def to_json(self) -> dict[str, Any]:
        return _RELOAD_REPLY.dump_python(self, mode="json")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReloadReply:
        """Read a reply; pydantic's ValidationError (a ValueError) for anything else."""
        return _RELOAD_REPLY.validate_python(dict(data))


_RELOAD_REPLY: TypeAdapter[ReloadReply] = TypeAdapter(ReloadReply)
