"""The drafts are real documents: LibreOffice opens each one and prints it to PDF, and the PDF's
text holds the facts, the incident counts and every evidence fingerprint, in Chinese.

Needs ``soffice`` (LibreOffice) and ``pdftotext`` (poppler-utils) with CJK fonts. On a machine
without them the test is skipped and says why; CI sets SHOUHU_REQUIRE_SYSTEM_TESTS=1, which turns
that skip into a failure (.ci/run installs them)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from documents import DraftData, render_drafts
from flows.features.drafts import words
from flows.filing import COMPLAINT, Filing
from flows.model import EvidenceItem
from flows.record import Facts, Incident

REQUIRE = os.environ.get("SHOUHU_REQUIRE_SYSTEM_TESTS") == "1"
CONVERT_TIMEOUT = 240  # seconds for LibreOffice to start and print four documents


def require_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if not missing:
        return
    reason = (
        f"{', '.join(missing)} not installed (apt-get install libreoffice-writer-nogui fonts-noto-cjk poppler-utils)"
    )
    if REQUIRE:
        pytest.fail(f"SHOUHU_REQUIRE_SYSTEM_TESTS=1 but {reason}")
    pytest.skip(reason)


def case_data() -> DraftData:
    made = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    facts = Facts(
        app="闪电借",
        lender="某某小额贷款有限公司",
        collector_company="某某信息咨询有限公司",
        contract_amount=Decimal("5000"),
        received_amount=Decimal("3500"),
        city="成都市",
        name="李小红",
    )
    incidents = [
        Incident(
            made - timedelta(days=10 - n, hours=n), ("parents", "colleagues")[n % 2], "call", collector="17100001111"
        )
        for n in range(8)
    ]
    evidence = [
        EvidenceItem(
            n,
            "photo",
            ("sms", "witness", None)[n % 3],
            1000 + n,
            hashlib.sha256(f"evidence {n}".encode()).hexdigest(),
            made - timedelta(days=n),
            "image/jpeg",
            note=f"第{n}张截图",
        )
        for n in range(1, 7)
    ]
    filings = [Filing(COMPLAINT, on=made.date(), channel="nfra_12378", reference="GD-1", complete=True)]
    return DraftData(facts, incidents, evidence, filings, made)


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, timeout=60)
    return out.stdout.decode("utf-8")


def test_libreoffice_prints_every_draft_with_its_facts_counts_and_hashes(zh, tmp_path):
    require_tools("soffice", "pdftotext")
    data = case_data()
    drafts = render_drafts(dict(zh.drafts.templates), data, words(zh))
    assert set(drafts) == {"complaint", "police", "lawsuit", "evidence"}
    for name, body in drafts.items():
        (tmp_path / f"{name}.docx").write_bytes(body)
    profile = tmp_path / "lo-profile"  # a private LibreOffice profile: no clash with a running instance
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *(str(tmp_path / f"{name}.docx") for name in drafts),
        ],
        capture_output=True,
        check=True,
        timeout=CONVERT_TIMEOUT,
    )
    for name in drafts:
        pdf = tmp_path / f"{name}.pdf"
        assert pdf.exists(), f"LibreOffice did not print {name}.docx"
        text = pdf_text(pdf)
        flat = re.sub(r"\s+", "", text)  # a fingerprint may wrap inside its table cell
        for item in data.evidence:
            assert item.sha256 in flat, f"{name}: {item.label}'s fingerprint is not in the PDF"
        assert "共6件" in flat, f"{name}: the evidence count"
        assert re.search(r"(共|等)8次", flat), f"{name}: the incident count"
        assert "李小红" in flat, f"{name}: the person's name (Chinese text printed, not boxes)"
        if name != "evidence":
            for fact in ("闪电借", "某某信息咨询有限公司", "5,000.00", "3,500.00"):
                assert fact in flat, f"{name}: {fact}"
            assert "父母4次" in flat and "同事4次" in flat, f"{name}: who was contacted"
