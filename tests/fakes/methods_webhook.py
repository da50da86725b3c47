"""Webhooks: setWebhook, deleteWebhook, getWebhookInfo, and Telegram's side of the delivery.

While a webhook is set, the fake POSTs each pending update, one at a time and in order, to
its URL as JSON with the ``X-Telegram-Bot-Api-Secret-Token`` header (when a secret was set),
exactly once per attempt; a 2xx answer confirms the update (``is_confirmed``), anything else
(an error status, a refused or dropped connection) is kept in ``getWebhookInfo``'s
``last_error_message`` and the update is posted again after a short wait, as Telegram does.
getUpdates is refused with 409 while a webhook is set.

Deviation from Telegram, on purpose: the fake posts only to a loopback address over plain
HTTP (Telegram's cloud wants https on 443/80/88/8443; a real deployment puts TLS in a
reverse proxy in front of the bot's own server). Any other URL is refused and recorded in
``unexpected``, so no test can send traffic off this machine.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import threading
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.call import Call, api_method
from tests.fakes.protocol import bad
from tests.fakes.state import ServerState

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
POST_TIMEOUT = 30.0  # seconds the fake waits for the bot's answer (Telegram waits about a minute)
RETRY_FIRST, RETRY_MAX = 0.05, 1.0  # the wait before posting a refused update again


@dataclasses.dataclass
class Webhook:
    url: str
    secret_token: str = ""
    max_connections: int = 40
    last_error_message: str = ""
    last_error_date: int = 0


@dataclasses.dataclass(frozen=True)
class WebhookPost:
    """One POST of an update to the bot: ``status`` is the HTTP answer, 0 if there was none."""

    update_id: int
    status: int
    secret_sent: bool


class WebhookMethods(ServerState):
    @api_method("setWebhook")
    def _api_set_webhook(self, call: Call) -> bool:
        url = call.get("url").strip()
        secret = call.get("secret_token")
        if len(secret) > 256:
            raise bad("secret token is too long")
        if not SECRET_TOKEN.match(secret):
            raise bad("secret token contains unallowed characters")
        if call.has("allowed_updates"):
            allowed = call.get_json("allowed_updates", "can't parse allowed_updates JSON array")
            if not isinstance(allowed, list):
                raise bad("can't parse allowed_updates JSON array")
        else:
            allowed = None
        parts = urlsplit(url)
        with self._cond:
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else None
            if call.get_bool("drop_pending_updates"):
                for update in self._updates:
                    self._dropped.add(update["update_id"])
                self._updates.clear()
            if not url:  # setWebhook with an empty URL removes the webhook, like deleteWebhook
                self._webhook = None
                self._notify()
                return True
            if parts.scheme != "http" or parts.hostname not in LOOPBACK or not parts.port:
                self._unexpected(f"setWebhook to {url!r}: the fake posts only to http://127.0.0.1:PORT/...")
                raise bad("bad webhook: the fake Bot API posts only to http://127.0.0.1:PORT")
            self._webhook = Webhook(url, secret, call.get_int("max_connections", 40))
            if self._webhook_thread is None or not self._webhook_thread.is_alive():
                self._webhook_thread = threading.Thread(
                    target=self._deliver_loop, name="FakeBotAPI-webhook", daemon=True
                )
                self._webhook_thread.start()
            self._notify()
        return True

    @api_method("deleteWebhook")
    def _api_delete_webhook(self, call: Call) -> bool:
        """Removes the webhook; ``drop_pending_updates=true`` discards the queue like Telegram."""
        with self._lock:
            self.webhook_deletions += 1
            self._webhook = None
            if call.get_bool("drop_pending_updates"):
                for update in self._updates:
                    self._dropped.add(update["update_id"])
                self._updates.clear()
            self._notify()
        return True

    @api_method("getWebhookInfo")
    def _api_get_webhook_info(self, call: Call) -> dict[str, Any]:
        with self._lock:
            hook = self._webhook
            info: dict[str, Any] = {
                "url": hook.url if hook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if hook:
                info["max_connections"] = hook.max_connections
                if self._allowed_updates is not None:
                    info["allowed_updates"] = sorted(self._allowed_updates)
                if hook.last_error_message:
                    info["last_error_date"] = hook.last_error_date
                    info["last_error_message"] = hook.last_error_message
            return info

    # ----------------------------------------------------------------------------- Telegram's side

    def _deliver_loop(self) -> None:
        """Post pending updates while a webhook is set; the thread ends when it is removed."""
        delay = RETRY_FIRST
        while True:
            with self._cond:
                while True:
                    if self._closing or self._webhook is None:
                        self._webhook_thread = None
                        return
                    ready = self._deliverable(1)
                    if ready:
                        break
                    self._cond.wait(0.5)
                hook = dataclasses.replace(self._webhook)
            update = ready[0]
            status, error = _post(hook, update)
            with self._cond:
                self.webhook_posts.append(WebhookPost(update["update_id"], status, bool(hook.secret_token)))
                if 200 <= status < 300:
                    self._confirm(update["update_id"] + 1)
                    delay = RETRY_FIRST
                    continue
                if self._webhook is not None:
                    self._webhook.last_error_message = error
                    self._webhook.last_error_date = self._now()
                self._notify()
                self._cond.wait(delay)  # woken early by a new setWebhook or a stop
                delay = min(delay * 2, RETRY_MAX)


def _post(hook: Webhook, update: dict[str, Any]) -> tuple[int, str]:
    """POST one update; (status, Telegram's words for what went wrong). Status 0: no answer."""
    parts = urlsplit(hook.url)
    body = json.dumps(update, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if hook.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
    path = parts.path or "/"
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=POST_TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
        return status, "" if 200 <= status < 300 else f"Wrong response from the webhook: {status} {response.reason}"
    except ConnectionRefusedError:
        return 0, "Connection refused"
    except (OSError, http.client.HTTPException) as exc:
        return 0, f"Connection error: {type(exc).__name__}"
    finally:
        connection.close()
