"""A person at the terminal chat (handlers/terminal.py), for tests: type a line, press a button
by (part of) its label, and read what the bot printed in answer."""

from __future__ import annotations

from handlers.terminal import Terminal


async def say(term: Terminal, line: str) -> str:
    """Type ``line``; what the bot printed in answer (``term.out`` must be a StringIO)."""
    start = term.out.tell()
    event = await term.event_for(line)
    if event:
        await term.handle(event)
    term.out.seek(start)
    return term.out.read()


async def press(term: Terminal, label: str) -> str:
    """Press the numbered button whose label contains ``label``."""
    n = next(i for i, b in enumerate(term.buttons, 1) if label in b.label)
    return await say(term, str(n))
