"""Labels content may not change: the confirmation buttons' words are part of the bot's
promise (``/export`` and ``/delete`` ask for a button that says so). What else the code asks of
content (the actions buttons may call, the message keys and their placeholders) is declared by
the feature modules (``flows.engine.code_tables``) and passed to ``load_content``."""

from __future__ import annotations

FIXED_LABELS = {"btn_confirm_export": "确认导出", "btn_confirm_delete": "确认删除"}
