"""A missing API key on first launch: name the variable, take a pasted key, keep it.

A pasted key is tried first (one single-token request to the model, a `whoami` for a
Hugging Face token): a key with a typo saved unchecked would fail every later launch
with an error far from its cause. Only a key that works goes to
~/.config/ml-intern/.env (mode 0600), which every later launch reads, and into this
process's environment so the next request can use it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from agent.atomic import write_file
from agent.config import Settings, config_home
from agent.core import llm
from agent.core.model_ids import no_key_message
from agent.errors import AgentStop, RateLimited
from agent.paths import home_relative, user_dotenv_path

if TYPE_CHECKING:
    from agent.core.session import Session

Ask = Callable[[str], Awaitable[str | None]]
_PLAIN = re.compile(r"[A-Za-z0-9_./+:@=-]+")


def save_key(name: str, value: str, path: Path | None = None) -> Path:
    """Set `name=value` in the user's .env, replacing an earlier line; only the user can read it."""
    path = path or config_home() / ".env"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = f"{name}={_quoted(value)}"
    assignment = re.compile(rf"^\s*(export\s+)?{re.escape(name)}\s*=")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept: list[str] = []
    for line in lines:
        if not assignment.match(line):
            kept.append(line)
        elif entry not in kept:
            kept.append(entry)
    if entry not in kept:
        kept.append(entry)
    write_file(path, ("\n".join(kept) + "\n").encode("utf-8"), mode=0o600)
    return path


def _quoted(value: str) -> str:
    """As python-dotenv reads it back: bare when plain, single quotes keep it literal."""
    if _PLAIN.fullmatch(value):
        return value
    return f"'{value}'" if "'" not in value else json.dumps(value)


async def ensure_key(model_name: str, settings: Settings, console: Console, ask: Ask) -> bool:
    """True when the model can be called: its key was there or has just been pasted."""
    target = llm.resolve_model(model_name, settings)
    try:
        missing = await asyncio.to_thread(llm.missing_keys, target)
    except AgentStop as exc:  # an id no provider serves
        console.print(Text(exc.message, "yellow"))
        return False
    if not missing:
        return True
    console.print(Text(no_key_message(target, missing), "yellow"))
    while True:
        pasted: dict[str, str] = {}
        for name in missing:
            if not (value := await _pasted_key(ask, name, console)):
                console.print(
                    Text(
                        "No key given, so nothing was sent. Or pick another model: /model",
                        "yellow",
                    )
                )
                return False
            pasted[name] = value
        if (problem := await _model_problem(model_name, settings, pasted)) is None:
            break
        console.print(
            Text(f"{model_name} did not work with that key: {problem}. Not saved.", "yellow")
        )
        console.print(Text("Paste it again, or press Enter to skip.", "yellow"))
    for name, value in pasted.items():
        path = save_key(name, value)
        console.print(Text(f"Saved {name} to {path} (readable only by you).", "dim"))
    return True


async def _model_problem(model_name: str, settings: Settings, keys: dict[str, str]) -> str | None:
    """Ask the model for one token with the pasted keys; what failed, or None. The keys stay
    in the environment only when it answered (a rate limit is an answer: the key works)."""
    os.environ.update(keys)
    try:
        await llm.probe(model_name, settings)
    except RateLimited:
        pass
    except AgentStop as exc:
        for name in keys:
            os.environ.pop(name, None)
        return exc.message
    return None


async def _pasted_key(ask: Ask, name: str, console: Console) -> str:
    """What was pasted, or "" when it cannot be a key.

    The answer is hidden, so a line meant for the chat (a slash command, a sentence)
    would be saved as a secret without anyone seeing it; keys have no spaces and do
    not start with a slash.
    """
    value = (await ask(f"Paste your {name} (hidden; Enter to skip): ") or "").strip()
    if value.startswith("/") or any(c.isspace() for c in value):
        console.print(
            Text("That is not a key (it has spaces or starts with /): not saved.", "yellow")
        )
        return ""
    return value


HF_TOKEN_OFFERED = "hf-token-offered"  # in the config dir: the offer is made once
HF_TOKEN_PITCH = (
    "No Hugging Face token found. With one, the Hub tools run at full rate and see your "
    "private repos, and HF Jobs and trace sharing work "
    "(create one at https://huggingface.co/settings/tokens)."
)


async def offer_hf_token(settings: Settings, console: Console, ask: Ask) -> bool:
    """On the chat's first launch without any HF token: offer to keep a pasted one.

    Asked once: Enter skips, and later launches do not ask again (HF_TOKEN in the user
    .env or `hf auth login` work any time). True when a token was saved.
    """
    from agent.hf_token import check_hf_token, find_hf_token

    marker = config_home() / HF_TOKEN_OFFERED
    if find_hf_token(settings) or marker.exists():
        return False
    console.print(Text(HF_TOKEN_PITCH, "yellow"))
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    while value := await _pasted_key(ask, "Hugging Face token", console):
        user, problem = await check_hf_token(value, settings.hf_endpoint)
        if problem is None:
            break
        console.print(Text(f"The token did not work: {problem}. Not saved.", "yellow"))
        console.print(Text("Paste it again, or press Enter to skip.", "yellow"))
    if not value:
        console.print(
            Text(
                f"Skipped. Later: HF_TOKEN in {home_relative(user_dotenv_path())}, or "
                "`hf auth login`.",
                "dim",
            )
        )
        return False
    os.environ["HF_TOKEN"] = value
    settings.hf_token = value
    path = save_key("HF_TOKEN", value)
    console.print(Text(f"Saved HF_TOKEN (account {user}) to {path} (readable only by you).", "dim"))
    return True


async def offer_hf_token_to(session: Session, console: Console, ask: Ask) -> None:
    """The offer, for a chat's session: a token kept now also shares its traces (the
    turns already done included), when trace sharing is on."""
    if await offer_hf_token(session.settings, console, ask) and session.settings.share_traces:
        from agent.core.runtime import TraceUploads

        TraceUploads(session).attach(upload_now=True)
