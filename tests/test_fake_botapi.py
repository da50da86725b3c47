"""The fake Bot API is only useful if it is as strict as Telegram.

Every test talks to the fake through the REAL python-telegram-bot ``Bot`` over
HTTP (no mocks), so what passes here is what python-telegram-bot really sends.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.fakes.botapi import MB, FakeBotAPI, parse_html

pytestmark = pytest.mark.backends("sqlite")  # these test the fake Bot API itself, not storage

TOKEN = "123:ABC"
HTML = ParseMode.HTML


def make_bot(fake: FakeBotAPI, *, local_mode: bool = False, token: str = TOKEN) -> telegram.Bot:
    return telegram.Bot(token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot", local_mode=local_mode)


@pytest.fixture
def server():
    with FakeBotAPI(token=TOKEN) as fake:
        yield fake
        assert fake.unexpected == []


@pytest.fixture
async def bot(server):
    async with make_bot(server) as b:
        yield b


@pytest.fixture
def user(server):
    u = server.user(chat_id=1001, first_name="小李", language_code="zh-hans")
    u.send("/start")
    return u


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def raw_post(fake: FakeBotAPI, path: str, data: dict[str, str] | None = None) -> tuple[int, dict]:
    body = urllib.parse.urlencode(data or {}).encode()
    request = urllib.request.Request(f"{fake.url}{path}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


# ----------------------------------------------------------------------------- basics


async def test_user_sees_what_the_bot_sends(server, bot, user):
    assert bot.username == "shouhu_test_bot"
    first = server.all_updates[0]["message"]
    assert first["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert first["from"]["language_code"] == "zh-hans"

    sent = await bot.send_message(1001, "你好 <b>小李</b> &lt;3", parse_mode=HTML)
    assert sent.text == "你好 小李 <3"
    assert (sent.entities[0].type, sent.entities[0].offset, sent.entities[0].length) == ("bold", 3, 2)

    (msg,) = await user.wait_for_messages(1, timeout=2)
    assert msg.text == "你好 小李 <3"
    assert msg.raw_text == "你好 <b>小李</b> &lt;3"
    assert [m.message_id for m in user.history] == [sent.message_id]
    assert server.calls("sendMessage")[0]["parse_mode"] == "HTML"


async def test_wrong_token_and_unknown_method_fail_loudly(server):
    with pytest.raises(InvalidToken):
        async with make_bot(server, token="123:WRONG"):
            pass
    status, body = raw_post(server, f"/bot{TOKEN}/sendCarrierPigeon", {"chat_id": "1"})
    assert (status, body["description"]) == (404, "Not Found: method not found")
    assert len(server.unexpected) == 2  # the wrong token and the unknown method
    server.unexpected.clear()


# ----------------------------------------------------------------------------- text and HTML


async def test_message_length_is_counted_after_entity_parsing(server, bot, user):
    await bot.send_message(1001, "字" * 4096)
    await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode=HTML)  # tags don't count
    await bot.send_message(1001, "&lt;" * 4096, parse_mode=HTML)  # entities count as one char
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1001, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1001, "&amp;" * 4097, parse_mode=HTML)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(1001, "  \n ")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(1001, "<b></b>", parse_mode=HTML)
    assert len(user.history) == 3


BAD_HTML = [
    ("<b>x", 'find end tag corresponding to start tag "b"'),
    ("a < b", 'unsupported start tag "" at byte offset 2'),
    ("<div>x</div>", 'unsupported start tag "div"'),
    ("<b>x</i>", "unmatched end tag"),
    ("x</b>", "unexpected end tag"),
    ('<span class="x">y</span>', 'tag "span" must have class "tg-spoiler"'),
    ("Tom & Jerry", "unescaped character '&'"),
    ("a &nbsp; b", "unescaped character '&'"),  # only &lt; &gt; &amp; &quot; and &#N; exist
    ("<b", "unclosed start tag at byte offset 0"),
    ("<b>x</b", "unclosed end tag at byte offset 4"),
    ('<tg-emoji emoji-id="x">y</tg-emoji>', "invalid custom emoji identifier"),
]


async def test_bad_html_is_rejected_like_telegram(server, bot, user):
    for bad, reason in BAD_HTML:
        with pytest.raises(BadRequest, match="(?i)can't parse entities") as info:
            await bot.send_message(1001, bad, parse_mode=HTML)
        assert reason.lower() in str(info.value).lower(), (bad, str(info.value))
    assert user.history == []
    with pytest.raises(BadRequest):  # not implemented by the fake: refused AND recorded
        await bot.send_message(1001, "*x*", parse_mode=ParseMode.MARKDOWN_V2)
    assert len(server.unexpected) == 1
    server.unexpected.clear()


async def test_good_html_works(server, bot, user):
    msg = await bot.send_message(
        1001, '<b>x</b> &lt; <a href="https://t.me/x?a=1&amp;b=2">链接</a> &#x1F600;&#33;', parse_mode=HTML
    )
    assert msg.text == "x < 链接 😀!"
    assert [e.type for e in msg.entities] == ["bold", "text_link"]
    assert msg.entities[1].url == "https://t.me/x?a=1&b=2"


def test_parse_html_entities_use_utf16_offsets():
    text, entities = parse_html('😀 <i>a<b>b</b></i> <pre><code class="language-python">x=1</code></pre>')
    assert text == "😀 ab x=1"
    assert entities == [
        {"offset": 3, "length": 2, "type": "italic"},
        {"offset": 4, "length": 1, "type": "bold"},
        {"offset": 6, "length": 3, "type": "pre", "language": "python"},
    ]
    assert parse_html("Tom & Jerry", strict_entities=False)[0] == "Tom & Jerry"  # Telegram's own leniency


async def test_caption_is_limited_to_1024_characters_after_parsing(server, bot, user):
    sent = await bot.send_document(
        1001, b"pdf", filename="a.pdf", caption="<b>" + "证" * 1024 + "</b>", parse_mode=HTML
    )
    assert len(sent.caption) == 1024  # the tags do not count
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_document(1001, b"pdf", filename="b.pdf", caption="证" * 1025)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_document(1001, b"pdf", filename="c.pdf", caption="<i>证", parse_mode=HTML)
    assert [m.document.filename for m in user.history] == ["a.pdf"]


# ----------------------------------------------------------------------------- keyboards and callbacks


async def test_callback_data_is_limited_to_64_bytes(server, bot, user):
    await bot.send_message(1001, "ok", reply_markup=keyboard([("下一步", "步" * 21 + "a")]))  # 64 bytes
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(1001, "no", reply_markup=keyboard([("下一步", "步" * 22)]))  # 66 bytes
    with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
        await bot.send_message(1001, "no", reply_markup=keyboard([(str(i), str(i)) for i in range(9)]))
    with pytest.raises(BadRequest, match="(?i)text must be non-empty"):
        await bot.send_message(1001, "no", reply_markup=keyboard([("", "x")]))
    with pytest.raises(BadRequest, match="(?i)text buttons are unallowed"):
        await bot.send_message(1001, "no", reply_markup=keyboard([("x", "")]))
    assert len(user.history) == 1


async def test_an_inline_keyboard_holds_at_most_100_buttons(server, bot, user):
    def rows(n: int) -> list[list[tuple[str, str]]]:
        return [[(f"{r}.{c}", f"{r}.{c}") for c in range(8)] for r in range(n // 8)] + [
            [(f"x{c}", f"x{c}") for c in range(n % 8)]
        ]

    full = await bot.send_message(1001, "ok", reply_markup=keyboard(*rows(100)))
    assert sum(len(row) for row in full.reply_markup.inline_keyboard) == 100
    with pytest.raises(BadRequest, match="^Reply markup is too long$"):
        await bot.send_message(1001, "no", reply_markup=keyboard(*rows(101)))
    with pytest.raises(BadRequest, match="^Reply markup is too long$"):
        await bot.edit_message_reply_markup(1001, full.message_id, reply_markup=keyboard(*rows(104)))
    assert [m.message_id for m in user.history] == [full.message_id]
    assert len(user.history[0].button_labels) == 100


async def test_press_answer_and_unanswered_callbacks(server, bot, user):
    await bot.send_message(1001, "选一个", reply_markup=keyboard([("✅ 是的", "yes"), ("❌ 不是", "no")]))
    (msg,) = await user.wait_for_messages()
    assert msg.buttons == [[("✅ 是的", "yes"), ("❌ 不是", "no")]]

    with pytest.raises(AssertionError, match="是的"):
        user.press(msg, "也许")
    update = user.press(msg, "不是")  # label substring
    query = update["callback_query"]
    assert (query["data"], query["message"]["message_id"]) == ("no", msg.message_id)
    assert [q.data for q in server.unanswered_callbacks()] == ["no"]

    assert await bot.answer_callback_query(query["id"], text="好的")
    assert server.unanswered_callbacks() == []
    assert (await user.wait_for_answer(update)).text == "好的"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query["id"])  # a second answer is refused
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("12345")

    forged = user.press_data(msg, "admin:delete_all")
    assert forged["callback_query"]["data"] == "admin:delete_all"
    with pytest.raises(AssertionError, match="unanswered"):
        server.assert_clean()


async def test_edits_are_checked_like_telegram(server, bot, user):
    markup = keyboard([("继续", "next")])
    sent = await bot.send_message(1001, "<b>第一步</b>", parse_mode=HTML, reply_markup=markup)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("<b>第一步</b>", 1001, sent.message_id, parse_mode=HTML, reply_markup=markup)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", 1001, 999)
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("x", 1001, 1)  # the user's /start

    (before,) = await user.wait_for_messages()
    # Same text but no reply_markup: Telegram removes the keyboard, so this IS a modification.
    edited = await bot.edit_message_text("<b>第一步</b>", 1001, sent.message_id, parse_mode=HTML)
    assert edited.reply_markup is None
    after = await user.wait_for_edit(before, timeout=2)
    assert after.edited and after.buttons == [] and after.text == "第一步"
    assert user.take_new_messages() == []  # edits are not new messages


async def test_edits_are_checked_like_sends(server, bot, user):
    sent = await bot.send_message(1001, "原文", reply_markup=keyboard([("继续", "next")]))
    refusals = [
        ("x" * 4097, {}, "message is too long"),
        (" \n", {}, "message text is empty"),
        ("<b>x", {"parse_mode": HTML}, "can't parse entities"),
        ("新文", {"reply_markup": keyboard([("继续", "步" * 22)])}, "button_data_invalid"),
    ]
    for text, kwargs, reason in refusals:
        with pytest.raises(BadRequest, match=f"(?i){reason}"):
            await bot.edit_message_text(text, 1001, sent.message_id, **kwargs)
    (now,) = user.history
    assert (now.text, now.button_labels, now.edited) == ("原文", ["继续"], False)


async def test_chats_the_bot_may_not_write_to_are_refused_with_403(server, bot, user):
    member = server.user(chat_id=2002, first_name="群友")
    group = server.group(chat_id=-1003, from_user=member)
    group.send("大家好")  # the bot has seen this user, but only in the group
    with pytest.raises(Forbidden, match="^Forbidden: bot can't initiate conversation with a user$"):
        await bot.send_message(member.chat_id, "hi")
    await bot.send_message(-1003, "ok")
    group.kick_bot(by=member)
    with pytest.raises(Forbidden, match="^Forbidden: bot was kicked from the supergroup chat$"):
        await bot.send_message(-1003, "again")
    assert [m.text for m in group.history] == ["ok"] and member.history == []


async def test_unknown_blocked_and_left_chats(server, bot, user):
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(4242, "hi")
    stranger = server.user(chat_id=77, first_name="路人")  # exists, but never wrote to the bot
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(stranger.chat_id, "hi")

    user.block()
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(1001, "hi")
    user.unblock()
    await bot.send_message(1001, "hi")

    group = server.group(chat_id=-2002, from_user=user)
    group.send("/start@shouhu_test_bot")
    await bot.send_message(-2002, "大家好")
    assert await bot.leave_chat(-2002)
    assert server.left_chats == {-2002}
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(-2002, "again")
    kinds = [next(k for k in u if k != "update_id") for u in server.all_updates]
    assert kinds.count("my_chat_member") == 3  # block, unblock, leave


async def test_commands_and_chat_actions(server, bot, user):
    from telegram import BotCommand, BotCommandScopeAllPrivateChats

    commands = [BotCommand("start", "开始"), BotCommand("help", "帮助")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh") == tuple(commands)
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start-Now", "x")])
    assert await bot.send_chat_action(1001, "upload_document")
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(1001, "dancing")
    assert user.chat_actions == ["upload_document"]


async def test_delete_message_within_48_hours():
    now = [1_700_000_000.0]
    with FakeBotAPI(token=TOKEN, clock=lambda: now[0]) as fake:
        user = fake.user(chat_id=5, first_name="A")
        user.send("hi")
        async with make_bot(fake) as bot:
            first = await bot.send_message(5, "一")
            second = await bot.send_message(5, "二")
            assert await bot.delete_message(5, first.message_id)
            assert [m.text for m in user.history] == ["二"]
            with pytest.raises(BadRequest, match="(?i)message to delete not found"):
                await bot.delete_message(5, first.message_id)
            now[0] += 49 * 3600
            with pytest.raises(BadRequest, match="(?i)can't be deleted for everyone"):
                await bot.delete_message(5, second.message_id)
            assert await bot.delete_messages(5, [first.message_id, 12345])  # missing ids are skipped
            fresh = await bot.send_message(5, "三")
            with pytest.raises(BadRequest, match="^Message can't be deleted for everyone$"):
                await bot.delete_messages(5, [fresh.message_id, second.message_id])
            assert [m.text for m in user.history] == ["二", "三"]  # one old message refuses the whole call
        assert fake.unexpected == []


# ----------------------------------------------------------------------------- files


async def test_user_document_download_exact_bytes(server, bot, user):
    payload = bytes(range(256)) * 1000 + b"\r\n--boundary--\r\n"
    update = user.send_document(payload, "催收录音.bin", "application/octet-stream", caption="证据")
    document = update["message"]["document"]
    assert document["file_size"] == len(payload)

    file = await bot.get_file(document["file_id"])
    assert file.file_path.startswith(f"{server.url}/file/bot{TOKEN}/documents/")
    assert await file.download_as_bytearray() == payload

    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_photo_sizes_largest_is_the_original(server, bot, user):
    photo = b"\xff\xd8JPEG" * 1000
    sizes = user.send_photo(photo, caption="截图")["message"]["photo"]
    assert len(sizes) > 1 and sizes[-1]["file_size"] == len(photo)
    assert await (await bot.get_file(sizes[-1]["file_id"])).download_as_bytearray() == photo
    assert await (await bot.get_file(sizes[0]["file_id"])).download_as_bytearray() != photo


async def test_get_file_over_20_mb_is_too_big_unless_local_mode(tmp_path):
    big = tmp_path / "录屏.mp4"
    with big.open("wb") as f:  # sparse: no 21 MB in memory or on disk
        f.truncate(21 * MB)
    with FakeBotAPI(token=TOKEN) as cloud:
        update = cloud.user(chat_id=9, first_name="A").send_video(big)
        async with make_bot(cloud) as bot:
            with pytest.raises(BadRequest, match="(?i)file is too big"):
                await bot.get_file(update["message"]["video"]["file_id"])
        assert cloud.unexpected == []

    with FakeBotAPI(token=TOKEN, local_mode=True) as local:
        user = local.user(chat_id=9, first_name="A")
        big_update = user.send_document(big, mime_type="video/mp4")
        small_update = user.send_document(b"small evidence", "note.txt")
        async with make_bot(local, local_mode=True) as bot:
            file = await bot.get_file(big_update["message"]["document"]["file_id"])
            assert (file.file_path, file.file_size) == (str(big), 21 * MB)
            small = await bot.get_file(small_update["message"]["document"]["file_id"])
            assert small.file_path.startswith("/")  # absolute path on disk, like `--local`
            assert await small.download_as_bytearray() == b"small evidence"
            sent = await bot.send_document(9, big)  # local mode: PTB sends a file:// URI, no upload
            assert (sent.document.file_name, sent.document.file_size) == ("录屏.mp4", 21 * MB)
            assert local.requests[-1].params["document"].startswith("file://")
        assert local.unexpected == []


async def test_bot_upload_is_recorded_and_limited(server, bot, user):
    data = b"%PDF-1.7\r\n\r\n" + bytes(range(256)) * 64
    sent = await bot.send_document(1001, data, filename="证据包.pdf", caption="<b>导出</b>", parse_mode=HTML)
    assert sent.document.file_name == "证据包.pdf" and sent.caption == "导出"
    (msg,) = await user.wait_for_messages()
    filename, content = msg.document
    assert (filename, content, msg.caption) == ("证据包.pdf", data, "导出")
    assert server.file_bytes(sent.document.file_id) == data
    assert server.requests[-1].files["document"].size == len(data)

    again = await bot.send_document(1001, sent.document.file_id)  # re-send by file_id
    assert again.document.file_unique_id == sent.document.file_unique_id
    with pytest.raises(BadRequest, match="(?i)file must be non-empty"):
        await bot.send_document(1001, b"", filename="empty.txt")
    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await bot.send_document(1001, bytes(50 * MB + 128 * 1024), filename="huge.bin", write_timeout=30)


async def test_delayed_download_stalls_until_released(server, bot, user):
    payload = b"x" * 300_000
    file_id = user.send_document(payload, "a.bin")["message"]["document"]["file_id"]
    release = server.delay_file(file_id)
    file = await bot.get_file(file_id)
    task = asyncio.create_task(file.download_as_bytearray())
    await server.wait_until(lambda: server.downloads and server.downloads[-1].status == "stalled", timeout=2)
    assert not task.done()  # the fake holds the rest of the body until released
    release.set()
    assert await task == payload
    assert server.downloads[-1].status == "completed"


# ----------------------------------------------------------------------------- faults


async def test_fault_injection(server, bot, user, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1001, "x")
    assert info.value.retry_after == dtm.timedelta(seconds=7)

    server.fail_next("sendMessage", 502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as info:
            await bot.send_message(1001, "x")
        assert not isinstance(info.value, BadRequest)
    await bot.send_message(1001, "finally")
    assert [m.text for m in user.history] == ["finally"]
    assert [r.status for r in server.errors] == [429, 502, 502]


# ----------------------------------------------------------------------------- getUpdates


async def test_long_poll_returns_update_sent_while_waiting(server, bot):
    user = server.user(chat_id=1001, first_name="小李")
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_until(lambda: server.polling, timeout=5)
    assert not poll.done()
    sent = user.send("救命")
    updates = await asyncio.wait_for(poll, 5)  # answered when the update arrives, not after 30 s
    assert [u.update_id for u in updates] == [sent["update_id"]]
    assert updates[0].message.text == "救命"

    assert not server.is_confirmed(sent["update_id"])
    assert [u.update_id for u in await bot.get_updates(offset=sent["update_id"])] == [sent["update_id"]]
    assert await bot.get_updates(offset=sent["update_id"] + 1) == ()
    assert server.is_confirmed(sent["update_id"])
    assert server.pending_updates == []


async def test_concurrent_get_updates_conflict(server):
    async with make_bot(server) as first, make_bot(server) as second:
        old = asyncio.create_task(first.get_updates(timeout=5))
        await server.wait_until(lambda: server.polling, timeout=5)
        new = asyncio.create_task(second.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await old  # like Telegram: the OLDER request is terminated
        assert await new == ()
    assert server.conflicts == 1


async def test_drop_pending_updates(server, bot):
    user = server.user(chat_id=3, first_name="A")
    stale = user.send("old")
    assert await bot.delete_webhook(drop_pending_updates=True)
    fresh = user.send("new")
    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [fresh["update_id"]]
    assert server.was_dropped(stale["update_id"])


async def test_stop_answers_a_pending_long_poll_at_once():
    fake = FakeBotAPI(token=TOKEN).start()
    poll = asyncio.create_task(asyncio.to_thread(raw_post, fake, f"/bot{TOKEN}/getUpdates", {"timeout": "30"}))
    await fake.wait_until(lambda: fake.polling, timeout=5)
    fake.stop()
    assert await asyncio.wait_for(poll, 5) == (200, {"ok": True, "result": []})  # not after 30 s


# ----------------------------------------------------------------------------- negative tests: confirmation, request log


async def test_wait_confirmed_resolves_only_when_the_bot_polls_past_the_update(server, bot):
    user = server.user(chat_id=1001, first_name="小李")
    sent = user.send("在吗")
    waiting = asyncio.create_task(user.wait_confirmed(timeout=5))
    (delivered,) = await bot.get_updates(timeout=1)
    assert delivered.update_id == sent["update_id"]
    assert not waiting.done()  # delivered is not confirmed: the bot may still die before handling it
    await bot.get_updates(offset=sent["update_id"] + 1)
    await asyncio.wait_for(waiting, 5)
    assert server.is_confirmed(sent["update_id"])


async def test_wait_confirmed_refuses_a_dropped_update_and_a_silent_chat(server, bot):
    user = server.user(chat_id=1001, first_name="小李")
    with pytest.raises(AssertionError, match="has not sent the bot anything"):
        await user.wait_confirmed(timeout=5)
    user.send("旧消息")
    assert await bot.delete_webhook(drop_pending_updates=True)
    with pytest.raises(AssertionError, match="dropped, the bot never received it"):
        await user.wait_confirmed(timeout=5)


async def test_requests_since_a_mark_are_told_apart_by_chat(server, bot, user):
    other = server.user(chat_id=2002, first_name="小王")
    other.send("/start")
    sent = await bot.send_message(1001, "按钮", reply_markup=keyboard([("好", "ok")]))
    mark = server.mark()
    press = user.press(sent.message_id, "好")
    await bot.answer_callback_query(press["callback_query"]["id"])  # about the pressed message's chat
    await bot.send_message(2002, "只给小王")
    with pytest.raises(BadRequest):
        await bot.send_message(2002, "")  # refused calls count too: the bot tried
    assert [r.method for r in user.requests_since(mark)] == ["answerCallbackQuery"]
    assert [(r.method, r.status) for r in other.requests_since(mark)] == [("sendMessage", 200), ("sendMessage", 400)]
    assert len(server.requests_since(mark)) == 3
    assert server.requests_since(server.mark()) == []


async def test_the_documented_negative_test_pattern_catches_an_answer(server):
    """mark, send, wait until confirmed, fence with an update the bot answers, then assert."""
    from telegram.ext import Application, CommandHandler, MessageHandler, filters

    async def start(update, context):
        await update.message.reply_text("在")

    async def echo_crisis(update, context):
        if "救命" in update.message.text:
            await update.message.reply_text("12356")

    app = Application.builder().token(TOKEN).base_url(f"{server.url}/bot").build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo_crisis))
    user = server.user(chat_id=1001, first_name="小李")

    async def bot_calls_after(text: str) -> list[str]:
        mark = server.mark()
        user.send(text)
        await user.wait_confirmed(timeout=5)
        user.send("/start")  # the fence: PTB handles one chat's updates in order

        def texts() -> list[str]:
            return [r.params["text"] for r in user.requests_since(mark)]

        await server.wait_until(lambda: "在" in texts(), timeout=5)
        return texts()

    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            answered = [await bot_calls_after("随便说说"), await bot_calls_after("救命")]
        finally:
            await app.updater.stop()
            await app.stop()
    assert answered == [["在"], ["12356", "在"]]  # silence seen as silence, an answer seen as one


# ----------------------------------------------------------------------------- a whole Application


async def test_real_application_polls_in_the_same_event_loop(server):
    from telegram.ext import Application, CallbackQueryHandler, CommandHandler

    async def start(update, context):
        await update.message.reply_text("<b>欢迎</b>", parse_mode=HTML, reply_markup=keyboard([("开始", "go")]))

    async def pressed(update, context):
        await update.callback_query.answer("收到")
        await update.callback_query.edit_message_text(f"你选了 {update.callback_query.data}")

    app = (
        Application.builder().token(TOKEN).base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot").build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    user = server.user(chat_id=1001, first_name="小李")
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        first = user.send("/start")
        (welcome,) = await user.wait_for_messages(timeout=5)
        assert (welcome.text, welcome.button_labels) == ("欢迎", ["开始"])
        press = user.press(welcome, "开始")
        edited = await user.wait_for_edit(welcome, timeout=5)
        assert edited.text == "你选了 go" and edited.buttons == []
        assert (await user.wait_for_answer(press)).text == "收到"
        await app.updater.stop()
        await app.stop()
    assert server.is_confirmed(first["update_id"]) and server.is_confirmed(press["update_id"])
    server.assert_clean()
