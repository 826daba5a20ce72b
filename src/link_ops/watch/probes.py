"""Probes of the partners' endpoints, the availability side of their SLAs.

:class:`PartnerProber` GETs every endpoint of every *active* partner (its monitoring record in
``store.partners``) and records each result in ``store.sla``. A probe is OK only for a 2xx answer within
the timeout; a non-2xx answer, a timeout or a connection error is a failed probe, with what went wrong. The
response time is measured from the request to the answer's headers (the body is never read).

Made for a long-running loop (the watch service): it asks :meth:`~PartnerProber.due` on each tick and calls
:meth:`~PartnerProber.probe_once` (or awaits :meth:`~PartnerProber.aprobe_once` inside an event loop) when a
round is due. Every request has a timeout and at most :attr:`ProbeSettings.concurrency` run at once, so a
round ends within about ``ceil(endpoints / concurrency) * timeout`` however the partners behave.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from link_ops.exceptions import ConfigurationError, validation_problems
from link_ops.store import OpsStore, ProbeRecord, UnknownPartnerError
from link_ops.watch.sla import Clock, now_from, utc_clock

USER_AGENT = "link-ops-sla-probe"


class ProbeSettings(BaseModel):
    """How partners are probed. Build it with :meth:`build` to get every bad value reported at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Time between two rounds (a round probes every endpoint once).
    interval: timedelta = timedelta(seconds=60)
    #: Seconds one probe may take, connection and answer together, before it counts as failed.
    timeout_s: float = Field(default=10.0, gt=0)
    #: Most probes in flight at once.
    concurrency: int = Field(default=16, ge=1, le=1024)

    @classmethod
    def build(cls, **values: Any) -> ProbeSettings:
        """Settings from keyword values; raises :class:`ConfigurationError` naming every bad one."""
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            problems = validation_problems(exc, with_input=True)
            raise ConfigurationError(
                "invalid probe settings: " + "; ".join(problems) + ". Fix these values (see ProbeSettings)."
            ) from None
        if settings.interval <= timedelta(0):
            raise ConfigurationError(
                f"invalid probe settings: interval must be positive, got {settings.interval}"
            )
        return settings


@dataclass(frozen=True)
class ProbeTarget:
    """One endpoint of one active partner on one chain."""

    partner_id: str
    chain_id: int
    endpoint: str


class PartnerProber:
    """Probes the active partners of `store` (on `chain_id` only, when given) with `settings`; `clock`
    stamps the probes and decides when a round is due."""

    def __init__(
        self,
        store: OpsStore,
        settings: ProbeSettings | None = None,
        *,
        chain_id: int | None = None,
        clock: Clock = utc_clock,
    ) -> None:
        self.store = store
        self.settings = settings or ProbeSettings()
        self.chain_id = chain_id
        self.clock = clock
        self._last_round: datetime | None = None

    # -- scheduling

    @property
    def next_due(self) -> datetime | None:
        """When the next round is due (None: now, no round ran yet)."""
        return None if self._last_round is None else self._last_round + self.settings.interval

    def due(self) -> bool:
        """Whether a round is due: none ran yet, or the interval has passed since the last one began."""
        due = self.next_due
        return due is None or now_from(self.clock) >= due

    # -- probing

    def targets(self) -> list[ProbeTarget]:
        """Every endpoint of every active partner (with a monitoring record), by chain and partner."""
        out = []
        for partner in self.store.partners.list_partners(self.chain_id):
            if partner.status != "active":
                continue
            monitoring = self.store.partners.get_monitoring(partner.partner_id, partner.chain_id)
            if monitoring is None:
                continue
            out += [ProbeTarget(partner.partner_id, partner.chain_id, url) for url in monitoring.endpoints]
        return out

    def probe_once(self) -> list[ProbeRecord]:
        """Runs one round now and returns its probes (recorded). Not from inside a running event loop: there,
        await :meth:`aprobe_once`."""
        return asyncio.run(self.aprobe_once())

    async def aprobe_once(self) -> list[ProbeRecord]:
        """Probes every target once, concurrently (at most :attr:`ProbeSettings.concurrency` at a time),
        records the probes and returns them in target order."""
        self._last_round = now_from(self.clock)
        targets = self.targets()
        probes = await self.probe(targets)
        self._record(probes)
        return probes

    async def probe(self, targets: Sequence[ProbeTarget]) -> list[ProbeRecord]:
        """Probes `targets` (without recording), in their order."""
        if not targets:
            return []
        gate = asyncio.Semaphore(self.settings.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        connector = aiohttp.TCPConnector(limit=self.settings.concurrency, force_close=True)
        async with aiohttp.ClientSession(
            timeout=timeout, connector=connector, headers={"User-Agent": USER_AGENT}
        ) as session:

            async def one(target: ProbeTarget) -> ProbeRecord:
                async with gate:
                    return await self._probe(session, target)

            return list(await asyncio.gather(*(one(t) for t in targets)))

    async def _probe(self, session: aiohttp.ClientSession, target: ProbeTarget) -> ProbeRecord:
        at = now_from(self.clock)
        limit = self.settings.timeout_s
        start = time.monotonic()

        def failed(error: str, status: int | None = None, latency: float | None = None) -> ProbeRecord:
            return ProbeRecord(
                target.partner_id, target.chain_id, target.endpoint, at, False, status, latency, error
            )

        try:
            # aiohttp's total timeout covers the connection and the answer; wait_for is the backstop that
            # holds the round to its bound whatever a resolver or a socket does.
            status, reason = await asyncio.wait_for(self._get(session, target.endpoint), timeout=limit + 1.0)
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            return failed(f"did not answer within {limit:g} s")
        except aiohttp.InvalidURL:
            return failed("is not a valid http(s) URL")
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            return failed(
                "connection refused (nothing listens there)" if refused else f"could not connect ({exc})"
            )
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return failed(f"could not be requested ({exc.__class__.__name__}: {exc})")
        latency = time.monotonic() - start
        if not 200 <= status < 300:
            return failed(f"answered {status}" + (f" {reason}" if reason else ""), status, latency)
        return ProbeRecord(
            target.partner_id, target.chain_id, target.endpoint, at, True, status, latency, None
        )

    @staticmethod
    async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str | None]:
        async with session.get(url, allow_redirects=True) as response:
            return response.status, response.reason

    def _record(self, probes: Sequence[ProbeRecord]) -> None:
        """Records the round, one transaction per partner: a partner forgotten while it was probed is
        skipped, the others are kept."""
        by_partner: dict[tuple[str, int], list[ProbeRecord]] = defaultdict(list)
        for probe in probes:
            by_partner[(probe.partner_id, probe.chain_id)].append(probe)
        for group in by_partner.values():
            try:
                self.store.sla.record_probes(group)
            except UnknownPartnerError:
                continue
