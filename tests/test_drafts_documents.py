"""The documents package on its own: what a template is given (blanks, counts, groups), how a
victim's words are escaped, and the East Asian font on every run."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn

from documents import BLANK, DraftData, build_context, render
from documents.context import FACT_FIELDS, empty_data, sample_data, sample_words
from flows.model import EvidenceItem
from flows.record import Facts, Incident

BEIJING = timezone(timedelta(hours=8))


def test_nothing_known_is_a_blank_never_a_guess():
    ctx = build_context(empty_data(), sample_words())
    facts = ctx["facts"]
    for name in ("app", "lender", "collector_company", "contract_amount", "received_amount", "received_on"):
        assert facts[name] == BLANK, name
    assert facts["known"] == 0 and facts["skipped"] == len(FACT_FIELDS)
    assert ctx["person"] == {"name": BLANK, "city": BLANK}
    assert ctx["log"]["total"] == 0 and ctx["log"]["first"] == BLANK and ctx["log"]["collectors"] == BLANK
    assert ctx["evidence"] == {"count": 0, "rows": [], "groups": []}


def test_a_partly_known_case_fills_what_is_known_and_only_that():
    data = DraftData(
        Facts(app="某App", contract_amount=Decimal("12000.5")), (), (), (), datetime(2026, 11, 20, tzinfo=UTC)
    )
    facts = build_context(data, sample_words())["facts"]
    assert facts["app"] == "某App" and facts["contract_amount"] == "12,000.50"
    assert facts["lender"] == BLANK and facts["received_amount"] == BLANK
    assert (facts["known"], facts["skipped"]) == (2, len(FACT_FIELDS) - 2)


def test_night_counts_follow_the_local_clock():
    def at(h: int, m: int = 0) -> Incident:
        return Incident(datetime(2026, 11, 1, h, m, tzinfo=BEIJING), "parents", "call")

    data = DraftData(
        None, [at(23), at(7, 59), at(8), at(21, 59), at(0, 30)], (), (), datetime(2026, 11, 20, tzinfo=UTC)
    )
    log = build_context(data, sample_words())["log"]
    assert (log["total"], log["night"], log["days"]) == (5, 3, 1)
    assert log["by_relation"] == [{"name": "parents", "count": 5}]


def test_evidence_is_grouped_by_category_in_contents_order_with_what_it_proves():
    words = sample_words()  # categories: sms, chat; proves for both
    items = [
        EvidenceItem(n, "photo", cat, 1, f"{n:064x}", datetime(2026, 11, 1, tzinfo=UTC), "image/png")
        for n, cat in ((1, "chat"), (2, None), (3, "sms"), (4, "chat"), (5, "unknown-category"))
    ]
    ev = build_context(DraftData(None, (), items, (), datetime(2026, 11, 20, tzinfo=UTC)), words)["evidence"]
    assert [(g["title"], g["count"]) for g in ev["groups"]] == [("sms", 1), ("chat", 2), ("uncategorised", 2)]
    assert ev["groups"][0]["proves"] == "proves sms" and ev["groups"][2]["proves"] == BLANK
    assert [r["no"] for r in ev["rows"]] == [1, 2, 3, 4, 5] and ev["rows"][0]["sha256"] == f"{1:064x}"


def test_no_context_key_hides_behind_a_dict_method():
    """Jinja reads ``x.items`` as the dict's method before its key: such a key would print
    "<built-in method items...>" into a court paper."""

    def keys(value, path="") -> list[str]:
        if isinstance(value, dict):
            return [f"{path}.{k}" for k in value if k in dir(dict)] + [
                bad for k, v in value.items() for bad in keys(v, f"{path}.{k}")
            ]
        if isinstance(value, list):
            return [bad for v in value for bad in keys(v, path)]
        return []

    assert keys(build_context(sample_data(), sample_words())) == []


def template(*paragraphs: tuple[str, str | None]) -> bytes:
    doc = Document()
    heading = doc.styles.add_style("Black", WD_STYLE_TYPE.PARAGRAPH)
    heading.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")
    for text, style in paragraphs:
        doc.add_paragraph(text, style=style)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def east_asian_fonts(data: bytes) -> list[str | None]:
    doc = Document(io.BytesIO(data))
    out = []
    for run in doc.element.body.iter(qn("w:r")):
        fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        out.append(None if fonts is None else fonts.get(qn("w:eastAsia")))
    return out


def test_every_run_gets_the_east_asian_font_its_style_would_give_it():
    data = render(
        template(("标题：{{ doc.title }}", "Black"), ("正文：{{ facts.app }}", None)),
        build_context(sample_data(), sample_words())
        | {"doc": {"title": "投诉材料", "made_on": "", "disclaimer": "", "blank": BLANK}},
    )
    fonts = east_asian_fonts(data)
    assert fonts == ["黑体", "宋体"], "the heading keeps its style's font; the body gets the Chinese default"
    defaults = Document(io.BytesIO(data)).styles.element.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}"
    )
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia"))


def test_a_victims_words_cannot_break_the_document():
    words = sample_words()
    data = DraftData(Facts(app='<w:p>&"贷"</w:p>'), (), (), (), datetime(2026, 11, 20, tzinfo=UTC))
    ctx = build_context(data, words) | {"doc": {"title": "", "made_on": "", "disclaimer": "", "blank": BLANK}}
    out = render(template(("{{ facts.app }}", None)), ctx)
    assert [p.text for p in Document(io.BytesIO(out)).paragraphs] == ['<w:p>&"贷"</w:p>']
