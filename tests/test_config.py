"""Settings: read once from the environment; secrets never printed; bad values are sentences."""

from __future__ import annotations

import re

import pytest

from config import ConfigError, Settings


def test_defaults_and_secrets_out_of_repr():
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": "123:SECRET-TOKEN", "SHOUHU_MASTER_KEY": "c2VjcmV0"})
    assert s.api_url == "https://api.telegram.org" and str(s.data_dir) == "data" and str(s.content_dir) == "content"
    assert s.quota_bytes == 1024**3 and not s.local_api
    assert "SECRET" not in repr(s) and "c2VjcmV0" not in repr(s)


def test_environment_overrides():
    s = Settings.from_env(
        {
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "SHOUHU_DATA_DIR": "/srv/shouhu",
            "SHOUHU_QUOTA_MB": "5",
            "SHOUHU_LOCAL_BOT_API": "1",
        }
    )
    assert s.api_url == "http://127.0.0.1:8081" and str(s.data_dir) == "/srv/shouhu"
    assert s.quota_bytes == 5 * 1024 * 1024 and s.local_api and s.token is None


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"SHOUHU_QUOTA_MB": "lots"}, "SHOUHU_QUOTA_MB"),
        ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL"),
    ],
)
def test_bad_values_are_explained(env, needle):
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)


def test_key_file_defaults_outside_the_data_dir_and_can_be_moved(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    s = Settings.from_env({})
    assert s.key_file == tmp_path / ".config" / "shouhu" / "master.key" and not s.key_in_data_dir
    s = Settings.from_env({"SHOUHU_KEY_FILE": "~/keys/shouhu.key", "SHOUHU_KEY_IN_DATA_DIR": "1"})
    assert s.key_file == tmp_path / "keys" / "shouhu.key" and s.key_in_data_dir


def test_key_in_data_dir_must_be_said_plainly():
    with pytest.raises(ConfigError, match="SHOUHU_KEY_IN_DATA_DIR must be 1"):
        Settings.from_env({"SHOUHU_KEY_IN_DATA_DIR": "maybe"})


# ----------------------------------------------------------------------------- shouhu.toml

TOML = """
data_dir = "state"            # relative to this file's folder
content_dir = "/srv/clinic/content"
quota_mb = 200
admin_ids = [111, 222]

[webhook]
url = "https://bot.example.org/telegram"
listen = "0.0.0.0"
port = 8443
"""


def test_the_config_file_holds_what_is_not_secret_and_the_environment_wins(tmp_path):
    (tmp_path / "shouhu.toml").write_text(TOML)
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": "123:SECRET"}, cwd=tmp_path)
    assert s.config_file == tmp_path / "shouhu.toml"
    assert s.data_dir == tmp_path / "state" and str(s.content_dir) == "/srv/clinic/content"
    assert s.quota_bytes == 200 * 1024 * 1024 and s.admin_ids == {111, 222}
    assert s.webhook_url == "https://bot.example.org/telegram" and s.webhook_path == "/telegram"
    assert (s.webhook_listen, s.webhook_port) == ("0.0.0.0", 8443)

    s = Settings.from_env(
        {"SHOUHU_DATA_DIR": "/var/lib/shouhu", "SHOUHU_ADMIN_IDS": "333, 444 555", "SHOUHU_WEBHOOK_PORT": "9000"},
        cwd=tmp_path,
    )
    assert str(s.data_dir) == "/var/lib/shouhu" and s.admin_ids == {333, 444, 555} and s.webhook_port == 9000
    assert s.quota_bytes == 200 * 1024 * 1024, "what the environment does not set still comes from the file"


def test_shouhu_config_names_the_file_and_must_exist(tmp_path):
    (tmp_path / "clinic.toml").write_text("quota_mb = 5\n")
    s = Settings.from_env({"SHOUHU_CONFIG": str(tmp_path / "clinic.toml")}, cwd=tmp_path / "elsewhere")
    assert s.quota_bytes == 5 * 1024 * 1024
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.from_env({"SHOUHU_CONFIG": str(tmp_path / "missing.toml")})
    assert Settings.from_env({}, cwd=tmp_path).config_file is None, "no shouhu.toml here: environment only"


@pytest.mark.parametrize(
    "text, needle",
    [
        ('token = "123:ABC"', "TELEGRAM_BOT_TOKEN"),
        ('master_key = "a2V5"', "SHOUHU_MASTER_KEY"),
        ('[webhook]\nsecret = "x"', "SHOUHU_WEBHOOK_SECRET"),
        ('data_dri = "x"', "did you mean 'data_dir'"),
        ("quota_mb = 'lots'", "quota_mb must be a whole number"),
        ("admin_ids = [12, -3]", "not a user id"),
        ('admin_ids = ["@clinic"]', "Telegram user ids"),
        ("data_dir = [", "not valid TOML"),
        ('[webhook]\nurl = "ftp://x"', "https://"),
    ],
)
def test_mistakes_in_the_file_are_sentences_naming_the_key(tmp_path, text, needle):
    (tmp_path / "shouhu.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=re.escape(needle)) as caught:
        Settings.from_env({}, cwd=tmp_path)
    assert "123:ABC" not in str(caught.value) and "a2V5" not in str(caught.value), "never echo a secret"


def test_webhook_settings_from_the_environment(tmp_path):
    s = Settings.from_env(
        {"SHOUHU_WEBHOOK_URL": "https://bot.example.org/hook/tg", "SHOUHU_WEBHOOK_SECRET": "abc_DEF-123"}, cwd=tmp_path
    )
    assert s.webhook_path == "/hook/tg" and s.webhook_listen == "127.0.0.1" and s.webhook_port == 8080
    assert "abc_DEF-123" not in repr(s)
    with pytest.raises(ConfigError, match="SHOUHU_WEBHOOK_SECRET must be"):
        Settings.from_env({"SHOUHU_WEBHOOK_SECRET": "has space"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="holds the bot token"):
        Settings.from_env(
            {"TELEGRAM_BOT_TOKEN": "123:SECRET", "SHOUHU_WEBHOOK_URL": "https://x.org/123:SECRET"}, cwd=tmp_path
        )
    with pytest.raises(ConfigError, match="SHOUHU_WEBHOOK_PORT must be 1..65535"):
        Settings.from_env({"SHOUHU_WEBHOOK_PORT": "70000"}, cwd=tmp_path)


def test_database_url_selects_postgresql_and_is_never_printed():
    url = "postgresql://shouhu:PG-PASSWORD@db.example/shouhu"
    s = Settings.from_env({"SHOUHU_DATABASE_URL": f"  {url} "})
    assert s.database_url == url and "PG-PASSWORD" not in repr(s)
    assert Settings.from_env({}).database_url is None, "unset: SQLite in the data dir"
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SHOUHU_DATABASE_URL": "mysql://root:OTHER-PASSWORD@db/x"})
    assert "postgresql://" in str(caught.value) and "OTHER-PASSWORD" not in str(caught.value)
