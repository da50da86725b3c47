"""The English draft templates: the same four papers as zh-CN, for a person who reads English.

Chinese regulators, police stations and courts take papers in Chinese: each English draft says
so at the top, and is for reading and checking; the bot in 中文 makes the version to file. The
structure, placeholders and legal citations follow templates_zh.py (verified articles by number;
reported facts softly, without article numbers).
"""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT

from tools.templates_common import (
    B,
    Look,
    cell_text,
    element_table,
    loop_table,
    new_document,
    p,
    repeat_header,
    set_widths,
)

LOOK = Look(
    "Doc Title",
    "Doc Subtitle",
    "Section",
    "Table Text",
    "Note",
    "Fingerprint",
    "{{ doc.title }} (draft) · made {{ doc.made_on }}",
)
FILE_IN_CHINESE = (
    "Chinese offices take papers in Chinese. This English draft is for you to read and check; switch the bot to "
    "中文 (/language) and make the drafts again to get the version to file."
)


def incident_table(doc) -> None:
    loop_table(
        LOOK,
        doc,
        ["No.", "Time", "Who was contacted", "How", "Their number", "What happened", "Evidence"],
        "for i in incidents",
        [
            "{{ i.no }}",
            "{{ i.time }}{% if i.night %} (night){% endif %}",
            "{{ i.relation }}",
            "{{ i.channel }}",
            "{{ i.collector }}",
            "{{ i.note }}",
            "{{ i.evidence }}",
        ],
        [1.0, 3.2, 2.4, 2.0, 2.8, 3.6, 2.0],
    )


def evidence_table(doc) -> None:
    loop_table(
        LOOK,
        doc,
        ["No.", "Item", "What it proves", "Fingerprint (SHA-256)", "Received"],
        "for e in evidence.rows",
        ["{{ e.no }}", "{{ e.name }}", "{{ e.proves }}", "{{ e.sha256 }}", "{{ e.time }}"],
        [1.0, 4.2, 4.3, 4.7, 2.8],
        mono=3,
    )


LOG_SENTENCE = (
    "{% if log.total %}From {{ log.first }} to {{ log.last }}, collectors contacted me and my relatives, friends and "
    "colleagues {{ log.total }} times in all, on {{ log.days }} day(s); {{ log.night }} of them at night "
    "(22:00–08:00). Who: "
    "{% for r in log.by_relation %}{{ r.name }} {{ r.count }}×{% if not loop.last %}, {% endif %}{% endfor %}; "
    "how: {% for c in log.by_channel %}{{ c.name }} {{ c.count }}×{% if not loop.last %}, {% endif %}{% endfor %}; "
    "numbers they used: {{ log.collectors }}.{% else %}When, how often and how collectors contacted me and my "
    "contacts: " + B + ".{% endif %}"
)
LOAN_SENTENCE = (
    "On {{ facts.received_on }} I borrowed through “{{ facts.app }}”: contract amount {{ facts.contract_amount }} yuan, "
    "actually received {{ facts.received_amount }} yuan, repaid {{ facts.paid_so_far }} yuan, overdue since "
    "{{ facts.overdue_since }}."
)


def closing(doc, signer: str) -> None:
    p(doc)
    p(doc, f"{signer} (signature): " + B + "        Date: " + B)
    p(doc)
    p(doc, "How to use this draft (delete this part before filing)", LOOK.note)
    p(doc, "{{ doc.disclaimer }}", LOOK.note)
    p(doc, FILE_IN_CHINESE, LOOK.note)
    p(
        doc,
        "Made on {{ doc.made_on }}. Where you see “{{ doc.blank }}”, the bot did not know: fill it in by hand or delete it.",
        LOOK.note,
    )


def _prior_complaints(doc, heading: str) -> None:
    p(doc, "{%p if filings.complaints %}")
    p(doc, heading, LOOK.section)
    p(doc, "{%p for c in filings.complaints %}")
    p(doc, "{{ c.date }}: complained to {{ c.channel }}, reference {{ c.reference }}.")
    p(doc, "{%p endfor %}")
    p(doc, "{%p endif %}")


def complaint() -> DocxDocument:
    doc = new_document(LOOK)
    p(doc, "Complaint", LOOK.title)
    p(doc, "(draft)", LOOK.subtitle)
    p(doc, FILE_IN_CHINESE, LOOK.note)
    p(
        doc,
        "To: "
        + B
        + " (e.g. the NFRA 12378 hotline, the local financial regulator, the Internet Finance Association's reporting platform)",
    )
    p(doc, "1. Complainant", LOOK.section)
    p(doc, "Name: {{ person.name }}    City: {{ person.city }}")
    p(doc, "ID number: " + B + "    Phone: " + B)
    p(doc, "2. Complained against", LOOK.section)
    p(doc, "Lending app: {{ facts.app }}")
    p(doc, "Lender (named in the loan contract): {{ facts.lender }}")
    p(doc, "Collection agency: {{ facts.collector_company }}")
    p(doc, "Numbers the collectors used: {{ log.collectors }}")
    p(doc, "3. What this complaint is about", LOOK.section)
    p(
        doc,
        "The company or the collectors it hired used the contacts in my phone's address book to press relatives, "
        "friends and colleagues who have nothing to do with the loan, and harassed them and me again and again.",
    )
    p(doc, "4. What happened", LOOK.section)
    p(doc, LOAN_SENTENCE)
    p(doc, LOG_SENTENCE)
    p(
        doc,
        "I never agreed that my contacts could be used for debt collection, and neither did the people contacted. "
        "Each contact is listed in Attachment 1, the evidence in Attachment 2 ({{ evidence.count }} item(s), each with "
        "its fingerprint).",
    )
    p(doc, "5. Grounds", LOOK.section)
    p(
        doc,
        "1. Civil Code Art. 1033: without a person's express consent, no one may disturb their private life by phone, "
        "text message, instant messaging and the like.",
    )
    p(doc, "2. Civil Code Art. 1034: personal information, phone numbers included, is protected by law.")
    p(
        doc,
        "3. Personal Information Protection Law Art. 10: no one may illegally collect, use, provide or disclose others' personal information.",
    )
    p(
        doc,
        "4. Reportedly, the national standard GB/T 45251—2025 calls for collecting only from the borrower and not "
        "between 22:00 and 08:00, and the Internet Finance Association's self-regulatory convention forbids its "
        "members to harass third parties unrelated to the debt.",
    )
    p(doc, "6. What I ask", LOOK.section)
    p(
        doc,
        "1. Order the company and its collection agency to stop contacting and harassing my relatives, friends and colleagues at once;",
    )
    p(
        doc,
        "2. Order them to delete my address book and other personal information they collected, and say where it came from and to whom it went;",
    )
    p(doc, "3. Investigate this collection and deal with it according to law;")
    p(doc, "4. Tell me the outcome.")
    _prior_complaints(doc, "7. Earlier complaints")
    closing(doc, "Complainant")
    p(doc, "Attachment 1: harassment log ({{ log.total }} times in all, {{ log.night }} at night)", LOOK.section)
    incident_table(doc)
    p(doc, "Attachment 2: evidence ({{ evidence.count }} item(s) in all)", LOOK.section)
    evidence_table(doc)
    return doc


def police() -> DocxDocument:
    doc = new_document(LOOK)
    p(doc, "Police report", LOOK.title)
    p(doc, "(draft)", LOOK.subtitle)
    p(doc, FILE_IN_CHINESE, LOOK.note)
    p(doc, "To: {{ filings.station }}")
    p(doc, "1. Reported by", LOOK.section)
    p(doc, "Name: {{ person.name }}    ID number: " + B + "    Phone: " + B)
    p(doc, "Address: {{ person.city }}" + B)
    p(doc, "2. Reported against", LOOK.section)
    p(doc, "Collection agency: {{ facts.collector_company }} and its collectors, using: {{ log.collectors }}")
    p(doc, "Lending app: {{ facts.app }}; lender: {{ facts.lender }}")
    p(doc, "3. What is reported", LOOK.section)
    p(
        doc,
        "Collectors obtained and used the personal information of relatives, friends and colleagues in my phone's "
        "address book, and harassed them and me again and again by phone, text message and other means (“爆通讯录”).",
    )
    p(doc, "4. What happened", LOOK.section)
    p(doc, LOAN_SENTENCE)
    p(doc, LOG_SENTENCE)
    p(doc, "Each contact is in the table below; the evidence is in part 7.")
    incident_table(doc)
    p(doc, "5. Why I believe this is unlawful", LOOK.section)
    p(
        doc,
        "1. Obtaining and using the phone numbers of many people in my address book may be the crime of infringing "
        "citizens' personal information (Criminal Law Art. 253-1: selling, providing or illegally obtaining personal "
        "information, where the circumstances are serious).",
    )
    p(
        doc,
        "2. Reportedly, under the Public Security Administration Punishment Law, repeatedly sending insulting, "
        "threatening or other messages that disturb someone's normal life can be punished by detention or a fine.",
    )
    p(
        doc,
        "3. If the debt collected is an illegal one (such as usury), collecting it by intimidation, stalking or "
        "harassment, where serious, may be the crime of collecting illegal debts (Criminal Law Art. 293-1).",
    )
    p(doc, "6. What I ask", LOOK.section)
    p(doc, "1. Accept my report according to law and issue the acknowledgement receipt (接报案回执);")
    p(doc, "2. Investigate and stop the harassment of me and my contacts;")
    p(doc, "3. Hold those responsible to account according to law.")
    p(doc, "7. Evidence ({{ evidence.count }} item(s) in all)", LOOK.section)
    evidence_table(doc)
    _prior_complaints(doc, "8. Complaints made before")
    closing(doc, "Reported by")
    return doc


def lawsuit() -> DocxDocument:
    doc = new_document(LOOK)
    p(doc, "Civil complaint", LOOK.title)
    p(doc, "(draft · privacy and personal-information dispute · laid out by the element-style form)", LOOK.subtitle)
    p(doc, FILE_IN_CHINESE, LOOK.note)
    p(
        doc,
        "Fill in each element; where you see “{{ doc.blank }}”, complete it; write “none” where it does not apply.",
        LOOK.note,
    )
    p(doc, "Parties", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            (
                "Plaintiff",
                "Name: {{ person.name }}  Sex: "
                + B
                + "  Born: "
                + B
                + "  Ethnicity: "
                + B
                + "  ID number: "
                + B
                + "  Address: {{ person.city }}"
                + B
                + "  Phone: "
                + B,
            ),
            (
                "Defendant 1 (lender)",
                "Name: {{ facts.lender }}  Address: " + B + "  Legal representative: " + B + "  Credit code: " + B,
            ),
            (
                "Defendant 2 (collection agency)",
                "Name: {{ facts.collector_company }}  Address: "
                + B
                + "  Legal representative: "
                + B
                + "  Credit code: "
                + B,
            ),
            ("Lending app", "“{{ facts.app }}”, run by: " + B),
            ("Lawyer or agent", "yes □  no □  name: " + B),
        ],
    )
    p(doc, "Claims and their grounds", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            (
                "1. Stop",
                "Order the defendants to stop at once contacting and harassing the plaintiff and the plaintiff's relatives, friends and colleagues by phone, text message, instant messaging and the like",
            ),
            (
                "2. Delete",
                "Order the defendants to delete the plaintiff's address book and other personal information they collected and keep",
            ),
            ("3. Apologise", "Order the defendants to apologise to the plaintiff in writing"),
            (
                "4. Compensate",
                "Order the defendants to pay "
                + B
                + " yuan for emotional harm and "
                + B
                + " yuan for economic loss (lost work, phone, travel), "
                + B
                + " yuan in all",
            ),
            ("5. Costs", "The defendants bear the costs of this case"),
            ("Total claimed", B + " yuan"),
            ("Grounds", "Civil Code Arts. 1032, 1033, 1034, 1183; Personal Information Protection Law Art. 10"),
        ],
    )
    p(doc, "Jurisdiction and preservation", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            ("Any agreement on arbitration or a court", "yes □  no □  " + B),
            ("Preservation applied for before suing", "yes □  no □"),
        ],
    )
    p(doc, "Facts and reasons", LOOK.section)
    element_table(
        LOOK,
        doc,
        [
            ("1. The loan", LOAN_SENTENCE.replace("I borrowed", "the plaintiff borrowed")),
            (
                "2. How the defendants got the contacts",
                "When using “{{ facts.app }}”, the plaintiff "
                + B
                + " (say whether the app asked to read the address book, and when you learned your contacts were being called).",
            ),
            ("3. What the defendants did", LOG_SENTENCE + " Each contact is in Attachment 1."),
            (
                "4. The harm",
                B
                + " (e.g. relatives and colleagues learned of the debt; trouble at work; sleeplessness or medical care. Attach proof.)",
            ),
            (
                "5. The defendants' fault",
                "Without the consent of the plaintiff or the plaintiff's contacts, the defendants collected and used the "
                "contacts' personal information for collection and disturbed the plaintiff's private life. It is generally "
                "held that under the Personal Information Protection Law, a handler whose processing harms a person and who "
                "cannot show it was not at fault bears liability.",
            ),
            (
                "6. Anything else",
                "{% for c in filings.complaints %}{{ c.date }}: complained to {{ c.channel }} (reference {{ c.reference }}); {% endfor %}"
                "{% for r in filings.police %}{{ r.date }}: reported to {{ r.station }} (receipt: {{ r.receipt }}); {% endfor %}"
                "{% if not filings.complaints and not filings.police %}none{% endif %}",
            ),
            (
                "7. Evidence",
                "{{ evidence.count }} item(s), listed in Attachment 2, each with its fingerprint (SHA-256).",
            ),
        ],
    )
    p(doc)
    p(doc, "To: {% if filings.court_known %}{{ filings.court }}{% else %}the People's Court of " + B + "{% endif %}")
    closing(doc, "Plaintiff")
    p(doc, "Attachment 1: harassment log ({{ log.total }} times in all, {{ log.night }} at night)", LOOK.section)
    incident_table(doc)
    p(doc, "Attachment 2: evidence ({{ evidence.count }} item(s) in all)", LOOK.section)
    evidence_table(doc)
    return doc


def evidence() -> DocxDocument:
    doc = new_document(LOOK, landscape=True)
    p(doc, "Evidence list", LOOK.title)
    p(doc, "(draft)", LOOK.subtitle)
    p(doc, FILE_IN_CHINESE, LOOK.note)
    p(
        doc,
        "Submitted by: {{ person.name }}    {{ evidence.count }} item(s) in all    Harassment log: {{ log.total }} times in all, {{ log.night }} at night, on {{ log.days }} day(s)",
    )
    p(
        doc,
        "Each item's “fingerprint” is the SHA-256 value computed when it was saved: change one byte of the file and it "
        "changes completely, so it shows the file was not altered after it was saved. It does not by itself prove where "
        "the file came from; a notary or a trusted timestamp can add that.",
        LOOK.note,
    )
    table = doc.add_table(rows=7, cols=6)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(
        table.rows[0].cells, ["No.", "Item", "Source", "What it proves", "Fingerprint (SHA-256)", "Time"]
    ):
        cell_text(LOOK, cell, text, bold=True)
    repeat_header(table.rows[0])
    cell_text(LOOK, table.rows[1].cells[0], "{%tr for g in evidence.groups %}")
    group = table.rows[2].cells[0].merge(table.rows[2].cells[-1])
    cell_text(LOOK, group, "{{ g.title }} ({{ g.count }})    proves: {{ g.proves }}", bold=True)
    cell_text(LOOK, table.rows[3].cells[0], "{%tr for e in g.rows %}")
    row = ["{{ e.no }}", "{{ e.name }}", "{{ e.source }}", "{{ e.proves }}", "{{ e.sha256 }}", "{{ e.time }}"]
    for i, (cell, text) in enumerate(zip(table.rows[4].cells, row)):
        cell_text(LOOK, cell, text, mono=i == 4)
    cell_text(LOOK, table.rows[5].cells[0], "{%tr endfor %}")
    cell_text(LOOK, table.rows[6].cells[0], "{%tr endfor %}")
    set_widths(table, [1.2, 5.4, 2.8, 5.0, 7.8, 3.5])
    p(doc)
    p(doc, "Submitted by (signature): " + B + "        Date: " + B)
    p(doc)
    p(doc, "How to use this list (delete this part before filing)", LOOK.note)
    p(doc, "{{ doc.disclaimer }}", LOOK.note)
    p(doc, "Made on {{ doc.made_on }}. Where you see “{{ doc.blank }}”, fill it in by hand.", LOOK.note)
    return doc


BUILDERS = {"complaint": complaint, "police": police, "lawsuit": lawsuit, "evidence": evidence}
