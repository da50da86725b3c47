"""API methods about the bot itself: getMe, logOut/close and its command menu."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from tests.fakes.call import Call, api_method
from tests.fakes.protocol import bad
from tests.fakes.state import ServerState


class BotMethods(ServerState):
    @api_method("getMe")
    def _api_get_me(self, call: Call) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api_method("logOut")
    def _api_log_out(self, call: Call) -> bool:
        return True

    @api_method("close")
    def _api_close(self, call: Call) -> bool:
        return True

    @api_method("setMyCommands")
    def _api_set_my_commands(self, call: Call) -> bool:
        """Commands: 1-32 chars of a-z, 0-9, _ ; descriptions 1-256 chars; at most 100."""
        commands = call.get_json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad("expected an Array of BotCommand")
        if len(commands) > 100:
            raise bad("too many commands specified")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad("can't parse BotCommand: expected an Object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not isinstance(description, str):
                raise bad('can\'t parse BotCommand: Field "command" must be of type String')
            name = name.lstrip("/")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(call)
        with self._lock:
            self.commands[key] = cleaned
        return True

    @api_method("getMyCommands")
    def _api_get_my_commands(self, call: Call) -> list[dict[str, str]]:
        key = self._commands_key(call)
        with self._lock:
            return copy.deepcopy(self.commands.get(key, []))

    @api_method("deleteMyCommands")
    def _api_delete_my_commands(self, call: Call) -> bool:
        key = self._commands_key(call)
        with self._lock:
            self.commands.pop(key, None)
        return True

    @staticmethod
    def _commands_key(call: Call) -> tuple[str, str]:
        """Telegram keeps one command list per (scope, language_code)."""
        scope: Any = {"type": "default"}
        if call.has("scope"):
            scope = call.get_json("scope", "can't parse BotCommandScope JSON object")
            if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
                raise bad('can\'t parse BotCommandScope: Field "type" must be of type String')
        return json.dumps(scope, sort_keys=True), call.get("language_code")
