"""The runs of one session, followed in the background, and the wake-ups they cause.

One task follows every active run a few times a second: it reads what the run printed
(through the run's `Source`), feeds the metrics, checks the conditions it is watched for,
and queues a `Wake` when one fires. Following costs no model call; the engine takes the
queued wakes (`take_wakes`) when it is idle and turns them into one message for the model.
The registry lives in the session's tool state under `RUNS_STATE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.runs import ledger
from agent.runs.model import Run, Source
from agent.runs.trackio_store import TrackioStore, stores_for
from agent.runs.watch import Condition, Wake, default_wakes, restore_condition

log = logging.getLogger(__name__)
RUNS_STATE = "runs"
TICK_S = 0.25  # how often active runs are read
UPDATE_EVERY_S = 0.5  # at most two updates of the live view a second
WAKE_TAIL_LINES = 15


class RunRegistry:
    """Every run of the session, the model's conditions, and the wakes not yet taken."""

    def __init__(
        self, session_id: str, cwd: Path, emit: Callable[[Any], None] | None = None
    ) -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.emit = emit
        self.runs: dict[str, Run] = {}
        self.conditions: list[Condition] = []
        self.on_wake: Callable[[], None] | None = None
        saved, self.unreadable = ledger.load_session(session_id)  # from before a --continue
        self.earlier: list[dict[str, Any]] = saved.get("runs", [])
        self.brief_due = bool(self.earlier)  # the model has not seen them in this process
        self._sources: dict[str, Source] = {}
        self._followed: dict[str, Run] = {}  # the runs being read, with /new's former ones
        self._stores: dict[str, list[TrackioStore]] = {}  # where a run logs with trackio
        self._wakes: list[Wake] = []
        self._task: asyncio.Task[None] | None = None
        self._last_update = 0.0
        # runs of conversations left with /new, still followed for their ledgers
        self._former: dict[str, tuple[list[dict[str, Any]], list[Run]]] = {}
        self._restore_monitors(saved.get("monitors", []))

    def _restore_monitors(self, saved: list[dict[str, Any]]) -> None:
        """The conditions a continued session had set: set again, except those tied to a
        run that had already ended."""
        running = {e.get("id") for e in self.earlier if e.get("status") == "running"}
        for item in saved if isinstance(saved, list) else []:
            if not isinstance(item, dict) or item.get("run_id") not in (None, *running):
                continue
            if (condition := restore_condition(item)) is not None:
                self.conditions.append(condition)
        if self.conditions:
            with contextlib.suppress(RuntimeError):  # no loop yet: the next add starts it
                self._start()

    # -- runs -------------------------------------------------------------------------

    def add(self, run: Run, source: Source) -> None:
        """Follow a new run, from now until it ends."""
        self.runs[run.id] = self._followed[run.id] = run
        self._sources[run.id] = source
        if run.kind == "local" and (stores := stores_for(run.command, self.cwd)):
            self._stores[run.id] = stores
        self.save()
        self._start()

    def take_back(self, run: Run, source: Source) -> None:
        """Follow again a run a continued session had left running, from where it had been
        read: what was read and woken about then (a traceback) wakes nobody again, while
        what it printed before still counts for its metrics and tail."""
        earlier = [
            e
            for e in self.earlier
            if (e.get("id"), e.get("started_at")) == (run.id, run.started_at)
        ]
        if earlier:
            seen = earlier[-1]
            run.fired = {str(f) for f in seen.get("fired", [])}
            run.note = str(seen.get("note") or "")
            offset = seen.get("offset")
            if isinstance(offset, int) and (catch_up := getattr(source, "catch_up", None)):
                run.feed(catch_up(offset))
                run.offset = offset
        self.add(run, source)

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="runs")

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def saw_end(self, run_id: str) -> None:
        """The model saw this run end (it looked at it, or stopped it): its end alone
        wakes nobody."""
        if run := self.runs.get(run_id):
            run.end_seen = True

    def pending(self) -> bool:
        """Whether anything may still wake the agent: a watched run still active, a timed
        check-in, or a wake not yet taken."""
        return (
            any(run.running and run.watched for run in self.runs.values())
            or any(c.timed for c in self.conditions)
            or any(not self._moot(w) for w in self._wakes)
        )

    def watching(self) -> bool:
        """Whether something may still wake the agent and nothing has yet."""
        waking = any(not self._moot(w) for w in self._wakes)
        return not waking and (
            any(run.running and run.watched for run in self.runs.values())
            or any(c.timed for c in self.conditions)
        )

    def active(self) -> list[Run]:
        """The runs still going (those of a conversation left with /new too)."""
        return [run for run in self._followed.values() if run.running]

    # -- following --------------------------------------------------------------------

    async def _follow(self) -> None:
        while self._sources or self.conditions:
            await asyncio.sleep(TICK_S)  # a polling interval: runs print at their own pace
            try:
                await self.tick()
            except Exception:
                log.exception("following the runs failed")

    async def tick(self) -> None:
        """Read every active run once, check the conditions, queue what fired."""
        now = time.time()
        found: list[Wake] = []
        ended = False
        for run_id, source in list(self._sources.items()):
            run = self._followed[run_id]
            if (earlier := getattr(source, "earlier", None)) is not None:
                run.feed(earlier())  # read before a --continue: counts, wakes nobody
            try:
                text, end = await source.read()
                cost = source.cost_usd()
            except Exception as exc:
                log.warning("reading run %s failed: %s", run_id, exc)
                continue
            run.feed(text)
            run.offset = getattr(source, "offset", run.offset)
            for store in self._stores.get(run_id, []):
                for step, values in store.read():
                    run.metrics.record(step, values)
            if cost is not None:
                run.cost_usd = cost
            if end is not None:
                run.end(end)
                del self._sources[run_id], self._followed[run_id]
                self._stores.pop(run_id, None)
                ended = True
            if run.watched:
                found += default_wakes(run, text, run.fired)
            if self.runs.get(run_id) is run:
                found += self._check(run, text, now)
        found += self._check(None, "", now)
        self._wakes += found  # queued before the update: a front end sees them pending
        if ended or found:
            self.save()
        self._update(ended=ended)
        if found and self.on_wake is not None:
            self.on_wake()

    def _check(self, run: Run | None, text: str, now: float) -> list[Wake]:
        found = []
        for condition in list(self.conditions):
            if run is None and condition.run_id is not None:
                target = self.runs.get(condition.run_id)
                if (
                    target is not None
                    and not target.running
                    and not self._sources.get(condition.run_id)
                ):
                    self.conditions.remove(condition)  # its run is over
                continue
            if run is not None and condition.run_id not in (None, run.id):
                continue
            if (what := condition.check(run, text, now)) is not None:
                self.conditions.remove(condition)
                found.append(Wake(run.id if run else condition.run_id, condition.id, what))
        return found

    def add_condition(self, condition: Condition) -> None:
        self.conditions.append(condition)
        self.save()
        self._start()

    def remove_condition(self, condition_id: str) -> bool:
        kept = [c for c in self.conditions if c.id != condition_id]
        removed = len(kept) != len(self.conditions)
        self.conditions = kept
        self.save()
        return removed

    # -- waking -----------------------------------------------------------------------

    def _moot(self, wake: Wake) -> bool:
        run = self.runs.get(wake.run_id or "")
        return wake.end_only and run is not None and run.end_seen

    def take_wakes(self) -> tuple[str, str] | None:
        """The queued wakes as one message: (a line for the person, the text for the
        model); None when nothing (left) is worth waking for."""
        wakes, self._wakes = [w for w in self._wakes if not self._moot(w)], []
        if not wakes:
            return None
        for wake in wakes:
            if run := self.runs.get(wake.run_id or ""):
                if not run.running:
                    run.end_seen = True
        short = "; ".join(f"{w.run_id or 'timer'} {w.what}" for w in wakes)
        return short, wake_message(wakes, self.runs)

    # -- the ledger -------------------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        """This session's ledger: runs from before a --continue, then this process's."""
        return _merged(self.earlier, list(self.runs.values()))

    def save(self) -> None:
        """Write this session's ledger (with the monitors set), and that of an earlier
        conversation whose run is still followed."""
        if self.runs or self.conditions or self.earlier:
            monitors = [c.saved() for c in self.conditions]
            self._write(self.session_id, self.entries(), monitors)
        for session_id, (entries, runs) in list(self._former.items()):
            self._write(session_id, _merged(entries, runs), [])
            if not any(run.running for run in runs):
                del self._former[session_id]

    def _write(self, session_id: str, entries: list[dict[str, Any]], monitors: list[Any]) -> None:
        try:
            ledger.save(session_id, self.cwd, entries, monitors)
        except OSError as exc:
            log.warning("could not save the run ledger: %s", exc)

    def renew(self, session_id: str) -> None:
        """A new conversation (/new) takes this one's place: its runs go to its own ledger.
        Runs of the old one still running are followed for the old ledger, and wake nobody:
        the new conversation knows nothing of them."""
        self.save()
        active = [run for run in self.runs.values() if run.running]
        if active:
            self._former[self.session_id] = (self.entries(), active)
        for run in active:
            run.watched = False
        self.conditions, self._wakes = [], []
        self.session_id, self.earlier, self.brief_due = session_id, [], False
        self.runs = {}

    def set_note(self, run_id: str, note: str) -> bool:
        run = self.runs.get(run_id)
        if run is not None:
            run.note = note
        else:
            match = [e for e in self.earlier if e.get("id") == run_id]
            if not match:
                return False
            match[-1]["note"] = note
        self.save()
        return True

    async def aclose(self) -> None:
        """At the end of the session: stop following, keep the ledger."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for source in self._sources.values():
            if (close := getattr(source, "aclose", None)) is not None:
                await close()  # a remote run goes on; only following it stops
        self.save()

    # -- the live view ----------------------------------------------------------------

    def _update(self, ended: bool = False) -> None:
        """Tell the front ends where the active runs stand, at most twice a second, and
        at once when a run ended."""
        if self.emit is None:
            return
        now = time.monotonic()
        active = self.active()
        if not ended and (not active or now - self._last_update < UPDATE_EVERY_S):
            return
        from agent import events as ev

        self._last_update = now
        self.emit(ev.RunsUpdate(runs=[live_summary(run) for run in active]))


def _merged(earlier: list[dict[str, Any]], runs: list[Run]) -> list[dict[str, Any]]:
    """Saved entries, each replaced by the entry of the same run followed now."""
    current = [ledger.entry(run) for run in runs]
    keys = {(e["id"], e["started_at"]) for e in current}
    return [e for e in earlier if (e.get("id"), e.get("started_at")) not in keys] + current


def live_summary(run: Run) -> dict[str, Any]:
    """What the live view shows of an active run."""
    main = run.metrics.main()
    progress = run.metrics.progress
    return {
        "id": run.id,
        "command": run.command,
        "elapsed_s": run.duration_s(),
        "step": progress.step if progress else run.metrics.step,
        "total": progress.total if progress else None,
        "eta_s": progress.eta_s if progress else None,
        "metric": main.name if main else None,
        "value": main.last if main else None,
        "points": main.ys[-40:] if main else [],
    }


def wake_message(wakes: list[Wake], runs: dict[str, Run]) -> str:
    """What the model reads when it is woken: what happened, then for each run involved
    its status, last metrics and the tail of its output."""
    lines = ["Woken by the runs you are watching (no one typed this):"]
    lines += [f"- {w.run_id or 'check-in'}: {w.what}" for w in wakes]
    for run_id in dict.fromkeys(w.run_id for w in wakes if w.run_id):
        run = runs.get(run_id)
        if run is None:
            continue
        lines += [
            "",
            f"Run {run.id} ({run.kind}, `{run.command}`): {run.status_text()}.",
            f"Last metrics: {run.metrics_line()}",
        ]
        if run.cost_usd:
            lines.append(f"Cost so far: ${run.cost_usd:.2f}")
        tail = list(run.tail)[-WAKE_TAIL_LINES:]
        if tail:
            lines += [f"Output tail (last {len(tail)} lines):", *tail]
    return "\n".join(lines)


def runs_of(
    state: dict[str, Any], session_id: str | None = None, cwd: Path | None = None
) -> RunRegistry:
    """The session's registry (made on first use when the engine has not made it)."""
    registry = state.get(RUNS_STATE)
    if not isinstance(registry, RunRegistry):
        registry = RunRegistry(session_id or "unsaved", cwd or Path.cwd())
        state[RUNS_STATE] = registry
    return registry


def runs_pending(state: dict[str, Any]) -> bool:
    """Whether watched runs (or check-ins) may still wake the agent: while they do, a turn
    that ends is waiting, not finished, and waiting costs no model call."""
    registry = state.get(RUNS_STATE)
    return isinstance(registry, RunRegistry) and registry.pending()


def runs_watching(state: dict[str, Any]) -> bool:
    """Whether watched runs (or check-ins) may still wake the agent and none has asked for
    a look yet: a goal waits, calling no model, while this holds."""
    registry = state.get(RUNS_STATE)
    return isinstance(registry, RunRegistry) and registry.watching()


def read_ledger(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The session's experiment ledger: one dict per run (see `ledger.entry`)."""
    registry = state.get(RUNS_STATE)
    return registry.entries() if isinstance(registry, RunRegistry) else []
