"""Reload content while the bot runs: an admin's /reload, or SIGHUP.

The new content is loaded and validated off the event loop with the same checks as at start
(``load_content``, what ``python bot.py check`` runs). Only if it passes is one engine built for
it and swapped in (``ShouhuApplication.swap_content``): an update already being handled
finishes on the content it started with, the next one gets the new. Invalid content is refused
whole: the old keeps serving and the problems go back to whoever asked. The "/" menu is set
again from the new content.

People at a node the new content lacks are moved on their next message, to the start of the
step that node belonged to, with a short note (``flows.features.admin.relocate``): the engine
gets the step of each vanished node (``Engine.former_steps``). That table is kept in the data
directory too (``content_steps.json``: node ids and step numbers of content, nothing about
anyone), so the same holds after a restart with edited or upgraded content.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flows.content import Content, load_content
from flows.engine import Engine
from flows.errors import ContentError, Problem
from flows.features.admin import former_steps, node_steps
from handlers.context import ShouhuApplication
from handlers.core import build_engine
from handlers.menu import set_commands

log = logging.getLogger(__name__)

STEPS_FILE = "content_steps.json"
StepTable = dict[str, dict[str, int]]  # locale -> node -> step


@dataclass(frozen=True)
class ReloadOutcome:
    content: Content | None  # the content now serving, None if the reload was refused
    problems: tuple[str, ...] = ()  # file:line: problem, for the admin

    @property
    def ok(self) -> bool:
        return self.content is not None


async def reload_content(app: ShouhuApplication) -> ReloadOutcome:
    async with app.reload_lock:  # two reloads at once would race to swap
        folder = app.settings.content_dir
        try:
            content = await asyncio.to_thread(load_content, folder)
            engine = build_engine(app.settings, content)
        except ContentError as exc:
            log.warning("reload refused: %d problem(s) in %s; the old content keeps serving", len(exc.problems), folder)
            for problem in exc.problems:
                log.warning("  %s", problem)
            return ReloadOutcome(None, tuple(_short(p, folder) for p in exc.problems))
        except Exception as exc:  # noqa: BLE001 - a feature failed on content that loaded: refuse, keep serving
            log.exception("reload refused: building the engine for the new content failed")
            return ReloadOutcome(None, (f"{folder}: {type(exc).__name__}: {exc}",))
        known = merge(node_steps(app.content), app.engine.former_steps)
        engine.former_steps = former_steps(known, content)
        app.swap_content(content, engine)
        save_steps(app.settings.data_dir, merge(node_steps(content), engine.former_steps))
    log.info(
        "content reloaded from %s: locales %s, %d nodes",
        folder,
        ", ".join(content.locales),
        sum(len(loc.nodes) for loc in content.locales.values()),
    )
    await set_commands(app)
    return ReloadOutcome(content)


def _short(problem: Problem, folder: Path) -> str:
    """``zh-CN/nodes.yaml:12: ...``: the path inside the content folder, as the admin edits it."""
    path = Path(problem.file)
    if path.is_relative_to(folder):
        return str(Problem(str(path.relative_to(folder)), problem.line, problem.message))
    return str(problem)


def remember_steps(engine: Engine, data_dir: Path) -> None:
    """At start: give the engine the steps of nodes the content that ran before had and this
    one lacks, and keep this content's table for the next start."""
    known = load_steps(data_dir)
    engine.former_steps = former_steps(known, engine.content)
    gone = sum(len(t) for t in engine.former_steps.values())
    if gone:
        log.info("%d node(s) of earlier content are gone; people there are moved to their step's start", gone)
    save_steps(data_dir, merge(node_steps(engine.content), engine.former_steps))


def merge(*tables: Mapping[str, Mapping[str, int]]) -> StepTable:
    """The tables together; the first one that names a node decides its step."""
    out: StepTable = {}
    for table in tables:
        for code, steps in table.items():
            for nid, n in steps.items():
                out.setdefault(code, {}).setdefault(nid, n)
    return out


def load_steps(data_dir: Path) -> StepTable:
    path = data_dir / STEPS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s could not be read (%s); people at removed pages go to the start instead", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(code): {str(nid): n for nid, n in table.items() if isinstance(n, int)}
        for code, table in data.items()
        if isinstance(table, dict)
    }


def save_steps(data_dir: Path, table: StepTable) -> None:
    path = data_dir / STEPS_FILE
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(table, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not write %s (%s); a restart forgets which step removed pages were in", path, exc)
