"""A frightened person types; the bot listens (through the fake Bot API, as on a phone)."""

from __future__ import annotations

from tests.conftest import settled

USER = 700_000_001


async def test_a_crisis_phrase_in_testimony_mode_is_not_saved(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/testimony")
    (prompt,) = await user.wait_for_messages(1)
    assert prompt.buttons, "a text mode shows a way out"
    user.send("我真的撑不住了，不想再活了")
    crisis, not_saved = await user.wait_for_messages(2)
    assert "12356" in crisis.text
    assert not_saved.raw_text == zh.msg("crisis_not_saved")
    user.send("/evidence")
    (listing,) = await user.wait_for_messages(1)
    assert listing.raw_text == zh.msg("evidence_list_empty"), "nothing was saved"
    user.send("/testimony")
    await user.wait_for_messages(1)
    user.send("10月3日起他们每天给我妈打电话")
    saved, receipt = await user.wait_for_messages(2)
    assert "E-001" in saved.text, "when they choose to, it is saved"


async def test_after_a_crisis_message_the_next_words_get_a_warm_answer(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("活着好累")
    (crisis,) = await user.wait_for_messages(1)
    assert "12356" in crisis.text
    user.send("嗯")
    (warm,) = await user.wait_for_messages(1)
    assert warm.raw_text == zh.msg("crisis_followup")


async def test_typing_during_a_category_choice_keeps_the_choice(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send_document(b"%PDF-1.4 collector's notice", "notice.pdf")
    (receipt,) = await user.wait_for_messages(1)
    assert "E-001" in receipt.text
    user.send("这个要怎么分类")
    *answer, picker = await user.wait_for_messages(2)
    assert picker.raw_text == zh.msg("evidence_category_pending", no="E-001")
    assert [b for b in picker.button_labels if b != zh.msg("btn_skip_category")] == [c.label for c in zh.categories]
    witness = next(c for c in zh.categories if c.id == "witness")
    user.press(picker, witness.label)
    (saved,) = await user.wait_for_messages(1)
    assert witness.label in saved.text


async def test_a_command_leaves_testimony_mode(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/testimony")
    await user.wait_for_messages(1)
    user.send("/status")
    await user.wait_for_messages(1)
    last = user.send("这句话不是陈述")
    await settled(bot, last)
    user.send("/evidence")
    *_, listing = await user.wait_for_messages(2)
    assert "E-001" not in listing.text


TYPED = [  # what a frightened person types -> the screen that answers it
    ("他们给我妈发消息了怎么办", "right_now"),
    ("我是不是要马上还钱", "stop_paying"),
    ("年化36%合法吗", "interest_caps"),
    ("我想报警", "police"),
    ("派出所不给立案怎么办", "police_refused"),
    ("怎么投诉这个平台", "complain"),
    ("我要起诉他们", "sue"),
    ("截图怎么发给你", "evidence_how"),
    ("我是他妈妈，催收打到我这里了", "relatives"),
    ("报案的时候该怎么说", "police_statement"),
    ("去哪个法院起诉", "sue_court"),
    ("怎么核对我到底欠多少", "verify_debt"),
]


async def test_what_people_type_lands_on_the_screen_that_answers_it(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    missed = []
    for text, node in TYPED:
        user.send(text)
        (reply,) = await user.wait_for_messages(1)
        title = zh.nodes[node].title
        understood = zh.msg("listen_understood", title=title).replace("<b>", "").replace("</b>", "")
        offered = f"j|{node}" in [b.data for row in reply.buttons for b in row]
        if not (reply.text.startswith(understood) or offered):
            missed.append((text, node, reply.text[:30]))
    assert not missed, missed
    assert not any(zh.messages["listen_none"][:8] in m.raw_text for m in user.history)


async def test_greetings_and_thanks_get_a_human_answer(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("你好")
    (hello,) = await user.wait_for_messages(1)
    assert hello.raw_text == zh.msg("listen_greeting", title=zh.nodes[zh.start].title)
    user.send("谢谢你")
    (thanks,) = await user.wait_for_messages(1)
    assert thanks.raw_text == zh.msg("listen_thanks")


async def test_saving_an_account_and_filing_a_witness_statement_tick_their_items(bot, fake, zh):
    user = fake.user(USER, language_code="zh")
    user.send("/testimony")
    await user.wait_for_messages(1)
    user.send("10月起他们给我爸妈和领导打电话")
    await user.wait_for_messages(2)
    user.send_document(b"mother's screenshots", "mum.png")
    (receipt,) = await user.wait_for_messages(1)
    user.press(receipt, next(c.label for c in zh.categories if c.id == "witness"))
    await user.wait_for_messages(1)
    user.send("/status")
    (status,) = await user.wait_for_messages(1)
    kit = zh.checklists[zh.nodes["save_evidence"].checklist]
    by_trigger = [i for i in kit.items if i.ticked_by in ("testimony", "category:witness", "category:testimony")]
    line = next(l for l in status.text.splitlines() if zh.steps[1].title in l)
    assert f"{len(by_trigger)}/{len(kit.items)}" in line, line
