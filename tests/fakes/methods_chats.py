"""API methods about a chat rather than a message: chat actions, callback answers, leaving."""

from __future__ import annotations

from tests.fakes.call import Call, api_method
from tests.fakes.protocol import CHAT_ACTIONS, MAX_CALLBACK_ANSWER_LENGTH, QUERY_TOO_OLD, bad
from tests.fakes.state import ServerState
from tests.fakes.views import CallbackAnswer


class ChatMethods(ServerState):
    @api_method("sendChatAction")
    def _api_send_chat_action(self, call: Call) -> bool:
        action = call.get("action").strip()
        with self._lock:
            chat = self._get_chat(call, write=True)
            if action not in CHAT_ACTIONS:
                raise bad("wrong parameter action in request")
            chat.actions.append(action)
        return True

    @api_method("answerCallbackQuery")
    def _api_answer_callback_query(self, call: Call) -> bool:
        """Each query can be answered once; unknown, already answered (or, with
        ``callback_query_ttl``, too old) ids get "query is too old ..."; text <= 200 chars."""
        text = call.params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        qid = call.get("callback_query_id").strip()
        with self._lock:
            query = self._callbacks.get(qid)
            if query is None or query.answer is not None:
                raise bad(QUERY_TOO_OLD)
            if self.callback_query_ttl is not None and self._clock() - query.created > self.callback_query_ttl:
                raise bad(QUERY_TOO_OLD)
            cache_time = call.get("cache_time").strip()
            query.answer = CallbackAnswer(
                text=text or None,
                show_alert=call.get_bool("show_alert"),
                url=call.get("url") or None,
                cache_time=int(cache_time) if cache_time.isdigit() else None,
            )
        return True

    @api_method("leaveChat")
    def _api_leave_chat(self, call: Call) -> bool:
        with self._lock:
            chat = self._get_chat(call, write=False)
            if chat.type == "private":
                raise bad("chat member status can't be changed in private chats")
            self._check_can_write(chat)
            chat.bot_status = "left"
            self.left_chats.add(chat.id)
            self._enqueue_my_chat_member(chat, self.bot_user, "member", "left")
        return True
