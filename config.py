"""Settings: read once from the environment, frozen, secrets kept out of ``repr``.

The variables are a fixed interface (see README): operators and scripts rely on their names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from storage.masterkey import default_key_file

PUBLIC_API_URL = "https://api.telegram.org"


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
    database_url: str | None = field(default=None, repr=False)  # postgresql://...: may hold a password

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        quota_mb = env.get("SHOUHU_QUOTA_MB", "1024")
        try:
            quota = int(quota_mb) * 1024 * 1024
        except ValueError:
            raise ConfigError(f"SHOUHU_QUOTA_MB must be a whole number of megabytes, not {quota_mb!r}.") from None
        api_url = env.get("TELEGRAM_API_URL", "").strip() or PUBLIC_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"TELEGRAM_API_URL must start with http:// or https://, not {api_url!r}.")
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
            api_url=api_url.rstrip("/"),
            data_dir=Path(env.get("SHOUHU_DATA_DIR", "").strip() or "data"),
            content_dir=Path(env.get("SHOUHU_CONTENT_DIR", "").strip() or "content"),
            master_key=env.get("SHOUHU_MASTER_KEY", "").strip() or None,
            key_file=Path(env.get("SHOUHU_KEY_FILE", "").strip() or default_key_file()).expanduser(),
            key_in_data_dir=_flag(env, "SHOUHU_KEY_IN_DATA_DIR"),
            quota_bytes=quota,
            local_api=env.get("SHOUHU_LOCAL_BOT_API", "").strip().lower() in ("1", "true", "yes"),
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


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be 1 (yes) or 0 (no), not {value!r}.")
