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
