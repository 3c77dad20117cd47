"""Automatic notifications: chosen events of the stream, posted to Slack in the background.

A plain consumer of the event stream. Each event of a type listed in
`messaging.auto_event_types` becomes one message for every destination that allows
automatic events. Messages are posted one at a time by a task the session owns; a
failure is logged once and never reaches the chat or the turn. When the session
closes, what is still queued gets a short grace period.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from agent import events as ev
from agent.tools.goal import active_goal
from agent.tools.notify import DeliveryError, destinations, messaging_config, post_message, scrub

if TYPE_CHECKING:
    from agent.core.session import Session
    from agent.tools.notify import SlackDestination

log = logging.getLogger(__name__)
GRACE_S = 5.0
MAX_ARGUMENTS_CHARS = 300


def describe(event: ev.Event, session: Session) -> str | None:
    """The message for one event, or None when it is not worth a message."""
    where = f"_{session.cwd.name or session.cwd} · session {session.id}_"
    match event:
        case ev.ApprovalRequired(name=name, arguments=arguments, reason=reason):
            shown = json.dumps(arguments, ensure_ascii=False)
            if len(shown) > MAX_ARGUMENTS_CHARS:
                shown = shown[: MAX_ARGUMENTS_CHARS - 1] + "…"
            why = f" ({reason})" if reason else ""
            return f"⏸ *Waiting for your approval*: {name}{why}\n`{shown}`\n{where}"
        case ev.Error(message=message, code=code):
            return f"✗ *Stopped* ({code}): {message}\n{where}"
        case ev.RunWake(summary=summary):
            return f"⏰ *Run update*: {summary}\n{where}"
        case ev.TurnComplete(final_text=text) if active_goal(session.tool_state) is None:
            body = text.strip() or "(no answer text)"
            return f"✓ *Done*\n{body}\n{where}"
        case ev.GoalUpdate(status="met", condition=condition, evidence=evidence):
            return f"◎ *Goal met*: {condition}\n{evidence}\n{where}"
        case ev.GoalUpdate(status="stopped" | "limit", condition=condition, reason=reason):
            return f"◎ *Goal stopped*: {condition}\n{reason}\n{where}"
    return None


class Notifier:
    """Queues a message per chosen event and destination; one task posts them in order."""

    def __init__(
        self, session: Session, targets: dict[str, SlackDestination], event_types: set[str]
    ) -> None:
        self.session = session
        self.targets = targets
        self.event_types = event_types
        self.delivered = 0
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._warned = False

    def __call__(self, event: ev.Event) -> None:
        if event.type not in self.event_types:
            return
        if isinstance(event, ev.RunWake) and not self.session.person_away():
            return  # the person is at the chat and sees it there
        text = describe(event, self.session)
        if text is None:
            return
        text = scrub(text, self.targets)
        for name in self.targets:
            self._queue.put_nowait((name, text))
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._deliver(), name="notify")

    async def _deliver(self) -> None:
        import httpx

        async with httpx.AsyncClient() as client:
            while True:
                name, text = await self._queue.get()
                try:
                    url = self.session.settings.slack_url
                    await post_message(client, url, self.targets[name], text)
                    self.delivered += 1
                except DeliveryError as exc:
                    self._warn(f"Slack notification to {name} failed: {exc}")
                except Exception:
                    self._warn(f"Slack notification to {name} failed", exc_info=True)
                finally:
                    self._queue.task_done()

    def _warn(self, message: str, exc_info: bool = False) -> None:
        if self._warned:
            log.debug(message, exc_info=exc_info)
            return
        self._warned = True
        log.warning("%s (further failures are not logged)", message, exc_info=exc_info)

    async def aclose(self) -> None:
        """Give queued messages a moment to go out, then stop the worker."""
        if self._worker is None:
            return
        if not self._worker.done():
            try:
                await asyncio.wait_for(self._queue.join(), GRACE_S)
            except TimeoutError:
                log.info("gave up on %d queued notification(s)", self._queue.qsize())
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)


def attach_notifier(session: Session) -> Notifier | None:
    """Subscribe a notifier when a destination accepts automatic events; None otherwise."""
    config = messaging_config(session.settings)
    targets = {n: d for n, d in destinations(session.settings).items() if d.allow_auto_events}
    if not targets or not config.auto_event_types:
        return None
    notifier = Notifier(session, targets, set(config.auto_event_types))
    session.subscribe(notifier)
    session.resources.push_async_callback(notifier.aclose)
    return notifier
