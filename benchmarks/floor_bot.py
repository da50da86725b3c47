"""The framework's floor: the least a python-telegram-bot bot can do per update.

Every message gets one sendMessage with a keyboard; every button press gets an answer and one
sendMessage: the same Bot API calls Shouhu makes for the steps of benchmarks/load.py, with no
engine, no storage, no journal. What Shouhu costs above this is Shouhu's own.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python benchmarks/floor_bot.py
"""

from __future__ import annotations

import logging
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

TEXT = "<b>第二步：保存证据</b>\n" + "截图、录音、聊天记录都要留好，原件不要删。" * 8
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(f"按钮 {r}{c}", callback_data=f"g|node|n{r}{c}") for c in range(2)] for r in range(3)]
    + [[InlineKeyboardButton(f"{n}", callback_data=f"s|{n}") for n in range(1, 6)]]
)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat
    await context.bot.send_message(update.effective_chat.id, TEXT, parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query and update.effective_chat
    await update.callback_query.answer()
    await context.bot.send_message(update.effective_chat.id, TEXT, parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)


def build() -> Application:
    url = os.environ["TELEGRAM_API_URL"].rstrip("/")
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(64)  # as many slots as Shouhu's PerChatProcessor
        .build()
    )
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.ALL, on_message))
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    build().run_polling(allowed_updates=None)
