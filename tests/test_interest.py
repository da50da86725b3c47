"""The interest check: worked examples computed independently here, edge cases, properties, and the content."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.content import html_problems
from flows.interest import (
    CapsError,
    CashFlow,
    Check,
    Flow,
    InterestInputError,
    Problem,
    Unit,
    add_months,
    caps_from_mapping,
    check,
    load_caps,
    real_rate,
)
from tests.conftest import CONTENT_DIR

INTEREST_YAML = CONTENT_DIR / "zh-CN" / "interest.yaml"
CAPS = load_caps(INTEREST_YAML)
PROPS = settings(deadline=None, max_examples=150, database=None)


def got(on: date, amount) -> CashFlow:
    return CashFlow(on, Decimal(amount), Flow.RECEIVED)


def paid(on: date, amount) -> CashFlow:
    return CashFlow(on, Decimal(amount), Flow.REPAYMENT)


def fee(on: date, amount) -> CashFlow:
    return CashFlow(on, Decimal(amount), Flow.FEE)


def solve(f, lo=0.0, hi=10.0) -> float:
    """The test's own root finder (secant-free bisection on a decreasing function), for independence."""
    for _ in range(300):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


# ----------------------------------------------------------------------------- worked examples


def test_seven_day_loan_3000_of_which_2100_received():
    d0 = date(2026, 10, 1)
    result = check([got(d0, 2100), paid(d0 + timedelta(days=7), 3000)], CAPS)
    week = 900 / 2100  # 42.857 % for the week, on the money actually received
    assert result.rate.unit is Unit.TERM and result.rate.unit_days == 7
    assert result.rate.period_rate == pytest.approx(week, rel=1e-9)
    assert result.rate.simple_annual == Decimal("22.3469")  # 42.857 % × 365/7 = 2,234.69 %
    assert float(result.rate.simple_annual) == pytest.approx(week * 365 / 7, abs=1e-4)
    assert result.rate.effective_annual == pytest.approx((1 + week) ** (365 / 7) - 1, rel=1e-9)
    assert result.exceeded == ("lpr_cap", "line_24", "line_36")
    shown = result.placeholders()
    assert (shown["received"], shown["paid"], shown["cost"], shown["rate"]) == ("2,100", "3,000", "900", "2,234.69%")


def test_twelve_instalments_with_a_service_fee_deducted_and_one_paid_monthly():
    d0 = date(2026, 1, 15)
    months = [date(2026 + (m > 12), (m - 1) % 12 + 1, 15) for m in range(2, 14)]  # 2026-02-15 … 2027-01-15
    # Contract 12,000; 1,200 "服务费" kept back, so 10,800 arrives; 12 × 1,100 repaid.
    flows = [got(d0, 10800)] + [paid(d, 1100) for d in months]
    i = solve(lambda r: sum(1100 / (1 + r) ** k for k in range(1, 13)) - 10800)
    result = check(flows, CAPS)
    assert result.rate.unit is Unit.MONTH
    assert result.rate.period_rate == pytest.approx(i, rel=1e-9)
    assert float(result.rate.simple_annual) == pytest.approx(12 * i, abs=1e-4)  # ≈ 38.77 %, not compounded
    assert result.exceeded == ("lpr_cap", "line_24", "line_36")
    # What the contract figure would suggest (12,000 borrowed) is far lower: the deduction is the trap.
    on_paper = solve(lambda r: sum(1100 / (1 + r) ** k for k in range(1, 13)) - 12000)
    assert 12 * on_paper < 0.24 < float(result.rate.simple_annual)
    # A further 50 a month as a separate "会员费" counts like any payment.
    with_fee = check(flows + [fee(d, 50) for d in months], CAPS)
    j = solve(lambda r: sum(1150 / (1 + r) ** k for k in range(1, 13)) - 10800)
    assert with_fee.rate.period_rate == pytest.approx(j, rel=1e-9)
    assert with_fee.rate.period_rate > result.rate.period_rate


def test_one_off_repayment_after_half_a_year():
    d0, d1 = date(2026, 1, 1), date(2026, 7, 1)  # 181 days
    result = check([got(d0, 5000), paid(d1, 5600)], CAPS)
    assert float(result.rate.simple_annual) == pytest.approx(600 / 5000 * 365 / 181, abs=1e-4)  # 24.20 %
    assert result.lpr is not None and result.lpr.rate == Decimal("0.03") and result.lpr_confirmed
    assert [(c.id, c.rate, c.exceeded) for c in result.lines] == [
        ("lpr_cap", Decimal("0.12"), True),
        ("line_24", Decimal("0.24"), True),
        ("line_36", Decimal("0.36"), False),
    ]


def test_a_fair_loan_stays_under_every_line():
    d0 = date(2026, 3, 1)
    result = check([got(d0, 10000), paid(add_months(d0, 12), 10800)], CAPS)  # 8 % for the year
    assert float(result.rate.simple_annual) == pytest.approx(800 / 10000 * 365 / 365, abs=1e-4)
    assert result.exceeded == ()


def test_a_fee_paid_on_the_day_counts_as_money_never_received():
    d0 = date(2026, 10, 1)
    deducted = real_rate([got(d0, 2100), paid(d0 + timedelta(days=7), 3000)])
    paid_back_at_once = real_rate([got(d0, 3000), fee(d0, 900), paid(d0 + timedelta(days=7), 3000)])
    assert paid_back_at_once.simple_annual == deducted.simple_annual == Decimal("22.3469")


def test_monthly_instalments_with_an_odd_first_period_earn_simple_interest_for_the_odd_days():
    d0 = date(2026, 1, 10)  # received on the 10th, instalments on the 15th: 5 odd days
    dues = [add_months(date(2026, 2, 15), k) for k in range(6)]
    result = real_rate([got(d0, 5000)] + [paid(d, 1000) for d in dues])
    assert result.unit is Unit.MONTH
    i = solve(lambda r: sum(1000 / ((1 + r) ** k * (1 + r * 5 / 30)) for k in range(1, 7)) - 5000)
    assert result.period_rate == pytest.approx(i, rel=1e-9)


def test_weekly_and_irregular_schedules_use_the_matching_period():
    d0 = date(2026, 6, 1)
    weekly = real_rate([got(d0, 1000)] + [paid(d0 + timedelta(days=7 * k), 300) for k in range(1, 5)])
    assert (weekly.unit, weekly.unit_days) == (Unit.DAYS, 7)
    i = solve(lambda r: sum(300 / (1 + r) ** k for k in range(1, 5)) - 1000)
    assert weekly.period_rate == pytest.approx(i, rel=1e-9)
    irregular = real_rate([got(d0, 1000), paid(d0 + timedelta(days=5), 500), paid(d0 + timedelta(days=12), 600)])
    assert irregular.unit is Unit.DAY
    j = solve(lambda r: 500 / (1 + r) ** 5 + 600 / (1 + r) ** 12 - 1000)
    assert irregular.period_rate == pytest.approx(j, rel=1e-9)
    assert float(irregular.simple_annual) == pytest.approx(365 * j, abs=1e-4)


# ----------------------------------------------------------------------------- the LPR line


@pytest.mark.parametrize(
    ("contract", "lpr", "cap"),
    [
        (date(2024, 10, 20), "0.0335", "0.134"),  # the day before the October 2024 cut
        (date(2024, 10, 21), "0.031", "0.124"),
        (date(2020, 8, 20), "0.0385", "0.154"),
        (date(2019, 8, 20), "0.0425", "0.17"),
    ],
)
def test_the_lpr_in_force_on_the_contract_date_sets_the_line(contract, lpr, cap):
    result = check([got(date(2026, 1, 1), 1000), paid(date(2026, 2, 1), 1100)], CAPS, contract_date=contract)
    assert result.lpr is not None and result.lpr.rate == Decimal(lpr)
    assert result.lines[0].id == "lpr_cap" and result.lines[0].rate == Decimal(cap)


def test_before_the_lpr_table_there_is_no_lpr_line():
    result = check([got(date(2026, 1, 1), 1000), paid(date(2026, 2, 1), 1100)], CAPS, contract_date=date(2019, 8, 19))
    assert result.lpr is None and not result.lpr_confirmed
    assert [c.id for c in result.lines] == ["line_24", "line_36"]
    assert set(result.placeholders()) == set(sample_check().placeholders())  # every message still fills


def test_a_contract_after_the_last_checked_fixing_is_flagged_unconfirmed():
    late = CAPS.confirmed_through + timedelta(days=40)
    result = check([got(late, 1000), paid(late + timedelta(days=30), 1100)], CAPS)
    assert result.lpr is not None and not result.lpr_confirmed


# ----------------------------------------------------------------------------- edge cases


D0 = date(2026, 5, 1)


@pytest.mark.parametrize(
    ("flows", "problem"),
    [
        ([paid(D0, 3000)], Problem.NOTHING_RECEIVED),
        ([got(D0, 2100), fee(D0, 2100), paid(D0 + timedelta(days=7), 3000)], Problem.NOTHING_RECEIVED),
        ([got(D0, 2100), paid(D0 - timedelta(days=1), 3000)], Problem.REPAYMENT_BEFORE_LOAN),
        (
            [got(D0, 2100), fee(D0 - timedelta(days=3), 100), paid(D0 + timedelta(days=7), 3000)],
            Problem.REPAYMENT_BEFORE_LOAN,
        ),
        ([got(D0, 2100)], Problem.NO_REPAYMENT),
        ([got(D0, 2100), fee(D0 + timedelta(days=7), 900)], Problem.NO_REPAYMENT),
        ([got(D0, 0), paid(D0 + timedelta(days=7), 3000)], Problem.BAD_AMOUNT),
        ([got(D0, 2100), paid(D0 + timedelta(days=7), -3000)], Problem.BAD_AMOUNT),
        ([got(D0, 2100), CashFlow(D0 + timedelta(days=7), Decimal("NaN"), Flow.REPAYMENT)], Problem.BAD_AMOUNT),
        ([got(date(1996, 5, 1), 2100), paid(D0, 3000)], Problem.SPAN_TOO_LONG),
        ([got(D0, 100), paid(D0 + timedelta(days=7), 10000)], Problem.RATE_ABSURD),
        ([got(D0, 2100), paid(D0 + timedelta(days=1), 3000)], Problem.RATE_ABSURD),  # 15,643 % a year
        ([got(D0, 2100), paid(D0, 3000)], Problem.NOTHING_RECEIVED),  # handed back the same day
    ],
)
def test_inputs_that_cannot_give_a_rate_say_why(flows, problem):
    with pytest.raises(InterestInputError) as caught:
        check(flows, CAPS)
    assert caught.value.problem is problem


@pytest.mark.parametrize("back", ["2100", "2000"])
def test_paying_back_no_more_than_received_means_no_interest_never_a_negative_rate(back):
    result = check([got(D0, 2100), paid(D0 + timedelta(days=30), back)], CAPS)
    assert result.rate.no_interest
    assert result.rate.simple_annual == 0 and result.rate.period_rate == 0.0
    assert result.exceeded == ()


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


# ----------------------------------------------------------------------------- properties

amounts = st.integers(min_value=1, max_value=50_000).map(Decimal)


@PROPS
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 10, 1)).map(
        lambda d: d.replace(day=min(d.day, 28))
    ),
    received=st.integers(min_value=100, max_value=50_000),
    instalments=st.lists(st.integers(min_value=1, max_value=20_000), min_size=1, max_size=24),
)
def test_the_rate_makes_the_cash_flows_balance(start, received, instalments):
    assume(sum(instalments) > received)
    flows = [got(start, received)] + [paid(add_months(start, k), a) for k, a in enumerate(instalments, 1)]
    try:
        rate = real_rate(flows)
    except InterestInputError as exc:
        assert exc.problem is Problem.RATE_ABSURD
        return
    i = rate.period_rate
    npv = -received + sum(a / (1 + i) ** k for k, a in enumerate(instalments, 1))
    assert abs(npv) <= 1e-6 * received


@PROPS
@given(
    received=st.integers(min_value=100, max_value=50_000),
    repayments=st.lists(st.tuples(st.integers(min_value=1, max_value=400), amounts), min_size=1, max_size=12),
    which=st.integers(min_value=0, max_value=11),
    more=st.integers(min_value=1, max_value=5_000),
)
def test_paying_more_never_lowers_the_rate(received, repayments, which, more):
    flows = [got(D0, received)] + [paid(D0 + timedelta(days=d), a) for d, a in repayments]
    k = 1 + which % len(repayments)
    bigger = flows[:k] + [CashFlow(flows[k].on, flows[k].amount + more, Flow.REPAYMENT)] + flows[k + 1 :]
    try:
        before = real_rate(flows)
    except InterestInputError:
        return
    try:
        after = real_rate(bigger)
    except InterestInputError as exc:
        assert exc.problem is Problem.RATE_ABSURD  # it only got worse
        return
    assert after.period_rate >= before.period_rate - 1e-12
    assert after.simple_annual >= before.simple_annual


@PROPS
@given(
    flows=st.lists(
        st.builds(
            CashFlow,
            st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 1, 1)),
            st.one_of(
                st.decimals(min_value=-1000, max_value=100_000, places=2),
                st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")]),
            ),
            st.sampled_from(Flow),
        ),
        max_size=15,
    )
)
def test_any_input_gives_a_sane_rate_or_a_reason(flows):
    try:
        rate = real_rate(flows)
    except InterestInputError as exc:
        assert isinstance(exc.problem, Problem)
        return
    assert math.isfinite(rate.period_rate) and rate.period_rate >= 0
    assert Decimal(0) <= rate.simple_annual <= Decimal(100)


# ----------------------------------------------------------------------------- the content


MESSAGES = {
    k: v
    for k, v in yaml.safe_load((CONTENT_DIR / "zh-CN" / "messages_interest.yaml").read_text(encoding="utf-8"))[
        "messages"
    ].items()
    if k.startswith("interest_")
}
LAW = yaml.safe_load((CONTENT_DIR / "zh-CN" / "law.yaml").read_text(encoding="utf-8"))["law"]
CAPS_YAML = yaml.safe_load(INTEREST_YAML.read_text(encoding="utf-8"))


def sample_check() -> Check:
    return check([got(date(2026, 10, 1), 2100), paid(date(2026, 10, 8), 3000)], CAPS)


def test_every_placeholder_in_the_messages_is_one_the_code_fills():
    filled = set(sample_check().placeholders())
    for key in ("interest_summary", "interest_term", "interest_compound", "interest_over_lpr_cap", "interest_over_24"):
        used = set(re.findall(r"\{(\w+)\}", MESSAGES[key]))
        assert used <= filled, f"{key}: {used - filled}"
        MESSAGES[key].format(**sample_check().placeholders())


def test_every_problem_has_a_message():
    assert {f"interest_error_{p.value}" for p in Problem} <= set(MESSAGES)


def test_messages_are_telegram_html_and_short():
    for key, text in MESSAGES.items():
        errors, visible = html_problems(text)
        assert not errors, (key, errors)
        assert visible < 400, key


def test_every_legal_claim_is_backed_by_a_sourced_fact_and_the_soft_ones_sound_soft():
    """A sentence naming courts or rules is shown with 📖, which lists the law.yaml facts that
    interest.yaml names for each line; reported facts are said softly, without article numbers."""
    backing = [lid for entry in (CAPS_YAML["lpr_cap"], *CAPS_YAML["lines"].values()) for lid in entry["law"]]
    assert {"lending_25_28", "licensed_2020_27", "line_24_2017", "line_36_history"} <= set(backing)
    for lid in backing:
        assert LAW[lid]["source"] and LAW[lid]["as_of"] and LAW[lid]["certainty"] in ("verified", "reported"), lid
    for key in ("interest_over_24", "interest_over_36"):  # backed by reported facts only
        assert re.search("一般认为|据报道", MESSAGES[key]), f"{key}: reported facts need soft wording"
        assert not re.search("第.{1,6}条", MESSAGES[key]), f"{key}: no article numbers for reported facts"
    for entry in (CAPS_YAML["lpr_cap"], *CAPS_YAML["lines"].values()):
        assert entry["source"] and entry["as_of"] and entry["certainty"] in ("verified", "reported")


def test_the_lpr_table_is_dated_sourced_and_plausible():
    data = yaml.safe_load(INTEREST_YAML.read_text(encoding="utf-8"))
    values = data["lpr_1y"]["values"]
    assert all(v["source"] and v["as_of"] and v["certainty"] in ("verified", "reported") for v in values)
    assert all(2 < v["rate"] < 5 for v in values)
    assert CAPS.confirmed_through >= CAPS.lpr[-1].on
    assert data["lines"]["line_24"]["certainty"] == "reported"  # LEGAL_FACTS marks it ⚠


def test_malformed_caps_are_refused_with_the_field_named():
    data = yaml.safe_load(INTEREST_YAML.read_text(encoding="utf-8"))
    del data["lpr_cap"]
    with pytest.raises(CapsError, match="lpr_cap"):
        caps_from_mapping(data)
    data = yaml.safe_load(INTEREST_YAML.read_text(encoding="utf-8"))
    data["lpr_1y"]["values"].reverse()
    with pytest.raises(CapsError, match="date order"):
        caps_from_mapping(data)
