"""A person talking to the engine directly (no Telegram): send, click, expect."""

from __future__ import annotations

from flows.model import Btn, Case, Command, Event, Message, Press, Text
from handlers.core import Services, apply


class EngineChat:
    def __init__(self, services: Services, chat_id: int = 42, language: str = "zh-hans"):
        self.services = services
        self.chat_id = chat_id
        self.language = language
        self.last: Message | None = None
        self.case: Case | None = None
        self.replies: list = []

    async def do(self, event: Event) -> list:
        self.case, self.replies = await apply(self.services, self.chat_id, self.language, event)
        messages = [r for r in self.replies if isinstance(r, Message)]
        if messages:
            self.last = messages[-1]
        return self.replies

    async def send(self, text: str) -> list:
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            return await self.do(Command(head, args.strip()))
        return await self.do(Text(text))

    def button(self, label: str, message: Message | None = None) -> Btn:
        message = message or self.last
        buttons = [b for row in message.buttons for b in row]
        exact = [b for b in buttons if b.label == label]
        partial = [b for b in buttons if label in b.label]
        if exact or len(partial) == 1:
            return (exact or partial)[0]
        raise AssertionError(f"no single button {label!r}; buttons: {[b.label for b in buttons]}")

    async def click(self, label: str, message: Message | None = None) -> list:
        return await self.do(Press(self.button(label, message).data))

    async def jump(self, n: int) -> list:
        """The step bar's button for step n (shown under most nodes)."""
        return await self.do(Press(f"s|{n}"))

    def texts(self) -> str:
        return "\n".join(r.text for r in self.replies if isinstance(r, Message))
