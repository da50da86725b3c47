"""Settings: read once from the environment; secrets never printed; bad values are sentences."""

from __future__ import annotations

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


def test_database_url_selects_postgresql_and_is_never_printed():
    url = "postgresql://shouhu:PG-PASSWORD@db.example/shouhu"
    s = Settings.from_env({"SHOUHU_DATABASE_URL": f"  {url} "})
    assert s.database_url == url and "PG-PASSWORD" not in repr(s)
    assert Settings.from_env({}).database_url is None, "unset: SQLite in the data dir"
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SHOUHU_DATABASE_URL": "mysql://root:OTHER-PASSWORD@db/x"})
    assert "postgresql://" in str(caught.value) and "OTHER-PASSWORD" not in str(caught.value)
