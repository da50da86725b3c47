"""Settings: read once from a config file and the environment, frozen, secrets kept out of ``repr``.

The environment variables are a fixed interface (see README and docs/DEPLOY.md): operators and
scripts rely on their names. ``shouhu.toml`` (``SHOUHU_CONFIG``, else ``./shouhu.toml`` if it
exists) holds everything that is not a secret; a variable that is set wins over the file, so a
systemd drop-in or a one-off ``SHOUHU_DATA_DIR=... python bot.py`` needs no edit of the file.
Secrets (the token, the master key, the webhook secret) are refused in the file: it is the kind
of file that ends up in a repository or a backup next to the data.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.masterkey import default_key_file

PUBLIC_API_URL = "https://api.telegram.org"
CONFIG_NAME = "shouhu.toml"
DEFAULT_WEBHOOK_PORT = 8080
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as a webhook secret


class ConfigError(Exception):
    """A setting is wrong; the message is a sentence for the person running the bot."""


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    api_url: str = PUBLIC_API_URL
    data_dir: Path = Path("data")
    content_dir: Path = Path("content")
    master_key: str | None = field(default=None, repr=False)
    key_file: Path = field(default_factory=default_key_file)  # used when master_key is not set
    key_in_data_dir: bool = False  # the operator accepts a key file inside the data dir
    quota_bytes: int = 1024**3
    local_api: bool = False  # a telegram-bot-api server run with --local on this machine
    staff_chat_id: int | None = None  # the clinic's staff group; handoff exists only when set
    admin_ids: frozenset[int] = frozenset()  # Telegram user ids allowed /stats and /reload
    webhook_url: str | None = None  # the public https URL Telegram posts updates to
    webhook_listen: str = "127.0.0.1"  # where the bot's own webhook server listens (behind a proxy)
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_secret: str | None = field(default=None, repr=False)  # checked on every webhook request
    config_file: Path | None = None  # the shouhu.toml that was read, if any

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts to (the URL's path; the reverse proxy passes it through)."""
        return urlsplit(self.webhook_url or "").path or "/"

    witness_days: int = 14  # how long a witness invitation link stays open
    database_url: str | None = field(default=None, repr=False)  # postgresql://...: may hold a password

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        config_file, table = _read_config(env, cwd or Path.cwd())
        values = _Values(env, table, config_file)
        api_url = values.text("api_url", "TELEGRAM_API_URL") or PUBLIC_API_URL
        witness_days = values.number("witness_days", "SHOUHU_WITNESS_DAYS", 14, "a whole number of days")
        if not 1 <= witness_days <= 90:
            raise ConfigError(
                f"{values.origin('witness_days', 'SHOUHU_WITNESS_DAYS')} must be a whole number of days from 1 to 90, "
                f"not {witness_days}."
            )
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{values.origin('api_url', 'TELEGRAM_API_URL')} must start with http:// or https://, not {api_url!r}."
            )
        quota = values.number("quota_mb", "SHOUHU_QUOTA_MB", 1024, "a whole number of megabytes")
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
        webhook_url = values.text("webhook.url", "SHOUHU_WEBHOOK_URL") or None
        if webhook_url is not None:
            _check_webhook_url(webhook_url, values.origin("webhook.url", "SHOUHU_WEBHOOK_URL"), token)
        secret = env.get("SHOUHU_WEBHOOK_SECRET", "").strip() or None
        if secret is not None and not SECRET_TOKEN.match(secret):
            raise ConfigError(
                "SHOUHU_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule); "
                "make one with: python -c 'import secrets;print(secrets.token_urlsafe(32))'"
            )
        port = values.number("webhook.port", "SHOUHU_WEBHOOK_PORT", DEFAULT_WEBHOOK_PORT, "a port number")
        if not 0 < port < 65536:
            raise ConfigError(f"{values.origin('webhook.port', 'SHOUHU_WEBHOOK_PORT')} must be 1..65535, not {port}.")
        return cls(
            token=token,
            api_url=api_url.rstrip("/"),
            data_dir=values.path("data_dir", "SHOUHU_DATA_DIR", Path("data")),
            content_dir=values.path("content_dir", "SHOUHU_CONTENT_DIR", Path("content")),
            master_key=env.get("SHOUHU_MASTER_KEY", "").strip() or None,
            key_file=values.path("key_file", "SHOUHU_KEY_FILE", default_key_file()),
            key_in_data_dir=values.flag("key_in_data_dir", "SHOUHU_KEY_IN_DATA_DIR"),
            quota_bytes=quota * 1024 * 1024,
            local_api=values.flag("local_bot_api", "SHOUHU_LOCAL_BOT_API", lenient=True),
            admin_ids=values.ids("admin_ids", "SHOUHU_ADMIN_IDS"),
            staff_chat_id=_group_id(
                values.text("staff_chat_id", "SHOUHU_STAFF_CHAT_ID"),
                values.origin("staff_chat_id", "SHOUHU_STAFF_CHAT_ID"),
            ),
            webhook_url=webhook_url,
            webhook_listen=values.text("webhook.listen", "SHOUHU_WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=port,
            webhook_secret=secret,
            config_file=config_file,
            witness_days=witness_days,
            database_url=_database_url(env.get("SHOUHU_DATABASE_URL", "")),
        )


def _database_url(value: str) -> str | None:
    """SHOUHU_DATABASE_URL: unset for SQLite in the data dir, or a PostgreSQL URL. The message
    never repeats the value: it may hold a password."""
    value = value.strip()
    if not value:
        return None
    if not value.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "SHOUHU_DATABASE_URL must be a PostgreSQL URL starting with postgresql:// "
            "(or be unset, for SQLite in SHOUHU_DATA_DIR)."
        )
    return value


def _group_id(value: str | None, origin: str) -> int | None:
    """A Telegram group's id (negative: -100... for a supergroup), or None when unset."""
    if not value:
        return None
    try:
        chat_id = int(value)
    except ValueError:
        chat_id = 0
    if chat_id >= 0:
        raise ConfigError(
            f"{origin} must be the id of a Telegram group (a negative number like -1001234567890), not {value!r}."
        )
    return chat_id


# ----------------------------------------------------------------------------- the file

# key in shouhu.toml -> the variable that overrides it
KEYS: dict[str, str] = {
    "api_url": "TELEGRAM_API_URL",
    "local_bot_api": "SHOUHU_LOCAL_BOT_API",
    "data_dir": "SHOUHU_DATA_DIR",
    "content_dir": "SHOUHU_CONTENT_DIR",
    "key_file": "SHOUHU_KEY_FILE",
    "key_in_data_dir": "SHOUHU_KEY_IN_DATA_DIR",
    "quota_mb": "SHOUHU_QUOTA_MB",
    "admin_ids": "SHOUHU_ADMIN_IDS",
    "staff_chat_id": "SHOUHU_STAFF_CHAT_ID",
    "witness_days": "SHOUHU_WITNESS_DAYS",
    "webhook.url": "SHOUHU_WEBHOOK_URL",
    "webhook.listen": "SHOUHU_WEBHOOK_LISTEN",
    "webhook.port": "SHOUHU_WEBHOOK_PORT",
}
SECRETS: dict[str, str] = {
    "token": "TELEGRAM_BOT_TOKEN",
    "bot_token": "TELEGRAM_BOT_TOKEN",
    "master_key": "SHOUHU_MASTER_KEY",
    "webhook.secret": "SHOUHU_WEBHOOK_SECRET",
    "webhook.secret_token": "SHOUHU_WEBHOOK_SECRET",
}


def _read_config(env: Mapping[str, str], cwd: Path) -> tuple[Path | None, dict[str, Any]]:
    """``SHOUHU_CONFIG`` (which must exist), else ``./shouhu.toml`` if there is one."""
    named = env.get("SHOUHU_CONFIG", "").strip()
    path = Path(named).expanduser() if named else cwd / CONFIG_NAME
    if not named and not path.exists():
        return None, {}
    if not path.is_absolute():
        path = cwd / path
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"SHOUHU_CONFIG names {path}, which does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None
    return path, _flatten(path, data)


def _flatten(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[key] = value
    for key in flat:
        if key in SECRETS:
            raise ConfigError(
                f"{path}: '{key}' is a secret and does not belong in the config file (it ends up in "
                f"backups and repositories). Set {SECRETS[key]} in the environment instead (see docs/DEPLOY.md)."
            )
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(KEYS)
            raise ConfigError(f"{path}: unknown setting '{key}' ({hint}).")
    return flat


class _Values:
    """One setting at a time: the variable if set (not blank), else the file, else the default.
    Paths in the file are relative to the file's folder; in the environment, to the current one."""

    def __init__(self, env: Mapping[str, str], table: dict[str, Any], file: Path | None):
        self.env = env
        self.table = table
        self.file = file

    def origin(self, key: str, var: str) -> str:
        if self.env.get(var, "").strip() or key not in self.table:
            return var
        return f"{self.file}: {key}"

    def _get(self, key: str, var: str) -> tuple[Any, bool]:
        """(value, came from the file)."""
        raw = self.env.get(var, "").strip()
        if raw:
            return raw, False
        return self.table.get(key), key in self.table

    def text(self, key: str, var: str) -> str:
        value, _ = self._get(key, var)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ConfigError(f"{self.origin(key, var)} must be text in quotes, not {value!r}.")
        return value.strip()

    def path(self, key: str, var: str, default: Path) -> Path:
        value, from_file = self._get(key, var)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            raise ConfigError(f"{self.origin(key, var)} must be a path in quotes, not {value!r}.")
        p = Path(value).expanduser()
        if from_file and self.file is not None and not p.is_absolute():
            p = self.file.parent / p
        return p

    def number(self, key: str, var: str, default: int, what: str) -> int:
        value, _ = self._get(key, var)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise ConfigError(f"{self.origin(key, var)} must be {what}, not {value!r}.")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.origin(key, var)} must be {what}, not {value!r}.") from None

    def flag(self, key: str, var: str, *, lenient: bool = False) -> bool:
        """1/0 (yes/no, true/false). ``lenient``: an unknown word is "no" (kept for a variable
        that always read that way)."""
        value, _ = self._get(key, var)
        if value is None or isinstance(value, bool):
            return bool(value)
        word = str(value).strip().lower()
        if word in ("", "0", "false", "no"):
            return False
        if word in ("1", "true", "yes"):
            return True
        if lenient:
            return False
        raise ConfigError(f"{self.origin(key, var)} must be 1 (yes) or 0 (no), not {word!r}.")

    def ids(self, key: str, var: str) -> frozenset[int]:
        """Telegram user ids: a list in the file, commas or spaces in the variable."""
        value, _ = self._get(key, var)
        if value is None:
            return frozenset()
        items: list[Any] = re.split(r"[\s,]+", value.strip()) if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ConfigError(f"{self.origin(key, var)} must be a list of Telegram user ids, like [12345, 67890].")
        out = set()
        for item in items:
            if item == "":
                continue
            if isinstance(item, bool) or not (isinstance(item, int) or (isinstance(item, str) and item.isdigit())):
                raise ConfigError(
                    f"{self.origin(key, var)} must hold Telegram user ids (whole numbers; ask @userinfobot), "
                    f"not {item!r}."
                )
            number = int(item)
            if number <= 0:
                raise ConfigError(f"{self.origin(key, var)}: {number} is not a user id (user ids are positive).")
            out.add(number)
        return frozenset(out)


def _check_webhook_url(url: str, origin: str, token: str | None) -> None:
    if token and token in url:  # checked first: no message below may repeat it
        raise ConfigError(
            f"{origin} holds the bot token. Use a plain path (like /telegram): SHOUHU_WEBHOOK_SECRET "
            "already proves each request comes from Telegram, and URLs end up in logs."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{origin} must be the public https:// URL Telegram posts to, not {url!r}.")
    if parts.query or parts.fragment:
        raise ConfigError(f"{origin} must not have a ?query or #fragment: {url!r}.")
