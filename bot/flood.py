"""Flood protection: a token bucket per user, so a short burst passes and a stream does not.

The arithmetic is pure (state in, state out) so the stores can keep the state wherever they
keep it (SQLite row, Redis hash) and apply it atomically, and so the tests need no clock.
A refused user is told to wait once per streak, not once per message: answering every
message of a flood would be a flood of our own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # refused, and this is the first refusal of the streak: say "please wait"
    DROP = "drop"  # refused again: stay quiet


@dataclass(frozen=True)
class FloodRule:
    burst: int  # messages allowed at once
    interval: float  # seconds to earn one more message

    def __post_init__(self) -> None:
        if self.burst < 1 or self.interval <= 0:
            raise ValueError("flood rule needs burst >= 1 and interval > 0")


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float
    warned: bool = False

    @classmethod
    def full(cls, rule: FloodRule, now: float) -> Bucket:
        return cls(float(rule.burst), now)

    def dumps(self) -> str:
        return json.dumps([self.tokens, self.updated, self.warned])

    @classmethod
    def loads(cls, stored: str | None) -> Bucket | None:
        """A damaged or missing state starts a fresh bucket rather than blocking the user."""
        try:
            tokens, updated, warned = json.loads(stored or "")
            return cls(float(tokens), float(updated), bool(warned))
        except (ValueError, TypeError):
            return None


def take(bucket: Bucket | None, rule: FloodRule, now: float) -> tuple[Verdict, Bucket]:
    """Spend one token if there is one; the returned bucket is the state to store."""
    bucket = bucket or Bucket.full(rule, now)
    elapsed = max(0.0, now - bucket.updated)  # a clock that went back refills nothing
    tokens = min(float(rule.burst), bucket.tokens + elapsed / rule.interval)
    if tokens >= 1.0:
        return Verdict.ALLOW, Bucket(tokens - 1.0, now, warned=False)
    verdict = Verdict.DROP if bucket.warned else Verdict.WARN
    return verdict, Bucket(tokens, now, warned=True)
