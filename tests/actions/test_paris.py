"""Paris Agreement entry into force (Art. 21) and withdrawal (Art. 28): the rule on constructed records, then the
shipped ratification record against the dates the UN published."""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from openets.actions import paris
from openets.actions.paris import Deposit, entry_into_force, in_force_for_party, tally, withdrawal
from openets.actions.paris_cli import paris_app
from openets.data import table
from openets.errors import InputError

runner = CliRunner()
DAY0 = date(2016, 4, 22)


def parties(n: int, share: float | None, start: date = DAY0, step_days: int = 1, prefix: str = "P") -> list[Deposit]:
    """n parties depositing one a day from `start`, each with `share` per cent."""
    return [Deposit(f"{prefix}{i:03d}", start + timedelta(days=i * step_days), share) for i in range(n)]


# --- the rule on constructed records -----------------------------------------------------------------------


def test_conditions_are_met_on_the_day_of_the_55th_deposit_and_entry_into_force_is_30_days_later():
    record = parties(60, 1.0)
    result = entry_into_force(record)
    assert result.conditions_met_on == DAY0 + timedelta(days=54)  # the 55th party, 55 x 1% = 55%
    assert result.entry_into_force_date == result.conditions_met_on + timedelta(days=30)
    assert (result.at_threshold.party_count, result.at_threshold.share_percent) == (55, Decimal("55.0"))
    assert (result.before_threshold.party_count, result.before_threshold.share_percent) == (54, Decimal("54.0"))
    assert result.final.party_count == 60


def test_at_least_55_parties_is_needed_whatever_the_share():
    record = parties(54, 2.0)  # 108%: far above the share, one party short
    assert entry_into_force(record).conditions_met_on is None
    late = Deposit("LATE", date(2017, 1, 1), None)  # a party without a share in the list still counts as a party
    result = entry_into_force([*record, late])
    assert result.conditions_met_on == date(2017, 1, 1)
    assert result.entry_into_force_date == date(2017, 1, 31)


def test_at_least_55_percent_is_needed_and_exactly_55_is_enough():
    # 0.1 has no exact binary float: summed as floats, 550 x 0.1 is not 55.0; the rule compares decimals.
    record = parties(549, 0.1)
    assert entry_into_force(record).conditions_met_on is None
    assert tally(record, date(2030, 1, 1)).share_percent == Decimal("54.9")
    result = entry_into_force(parties(550, 0.1))
    assert result.at_threshold.share_percent == Decimal("55.0")
    assert result.conditions_met_on == DAY0 + timedelta(days=549)


def test_54_99_percent_is_not_enough():
    record = [*parties(54, 1.0), Deposit("LAST", DAY0 + timedelta(days=100), 0.99)]
    result = entry_into_force(record)
    assert result.conditions_met_on is None
    assert result.final.share_percent == Decimal("54.99") and result.final.party_count == 55


def test_the_thirtieth_day_crosses_months_and_leap_days():
    # Threshold met on 31 Jan 2017: + 30 days = 2 Mar 2017; in 2016 (leap year) = 1 Mar 2016.
    assert entry_into_force(parties(55, 1.0, start=date(2017, 1, 31), step_days=0)).entry_into_force_date == date(2017, 3, 2)
    assert entry_into_force(parties(55, 1.0, start=date(2016, 1, 31), step_days=0)).entry_into_force_date == date(2016, 3, 1)


def test_the_result_does_not_depend_on_the_order_of_the_deposits():
    record = parties(40, 0.5) + parties(30, 1.5, start=date(2016, 9, 1), prefix="Q")
    shuffled = list(record)
    random.Random(7).shuffle(shuffled)
    assert entry_into_force(shuffled) == entry_into_force(record)


def test_a_party_counts_once_whatever_number_of_instruments_it_deposited():
    record = parties(54, 1.0) + [Deposit("P000", date(2021, 1, 20), 1.0)]  # P000 again, years later
    assert entry_into_force(record).conditions_met_on is None
    assert tally(record, date(2021, 1, 20)).party_count == 54


def test_a_regional_organization_adds_neither_a_party_nor_a_share_art_21_4():
    members = [Deposit(f"M{i}", date(2016, 10, 5), 1.0) for i in range(5)]
    eu = Deposit("REIO", date(2016, 10, 5), 12.10, is_reio=True)  # its share is the sum of all its members'
    others = parties(50, 1.0)
    result = entry_into_force([*others, *members, eu])
    assert result.conditions_met_on == date(2016, 10, 5)
    assert result.at_threshold.party_count == 55  # 50 + 5 members, not the organization
    assert result.at_threshold.share_percent == Decimal("55.0")
    assert result.at_threshold.not_counted == ("REIO",)
    # The organization alone does not carry 50 parties over the line.
    assert entry_into_force([*parties(54, 1.0), eu]).conditions_met_on is None


def test_bad_records_are_refused_with_what_to_give():
    with pytest.raises(InputError, match="no deposits given"):
        entry_into_force([])
    with pytest.raises(InputError, match="share of X is 101%; an Article 21 share is a per cent of the world total, 0 to 100"):
        entry_into_force([Deposit("X", DAY0, 101)])
    with pytest.raises(InputError, match="has no party code"):
        entry_into_force([Deposit("", DAY0, 1)])


def test_in_force_for_a_party_art_21_3():
    met = date(2016, 10, 5)
    assert in_force_for_party(date(2016, 9, 3), met) == date(2016, 11, 4)  # deposited before: the Agreement's date
    assert in_force_for_party(met, met) == date(2016, 11, 4)  # deposited on the day the conditions were met
    assert in_force_for_party(date(2016, 10, 7), met) == date(2016, 11, 6)  # after: 30th day after its deposit
    assert in_force_for_party(date(2021, 1, 20), met) == date(2021, 2, 19)


def test_withdrawal_dates_art_28():
    w = withdrawal(date(2016, 11, 4))
    assert (w.earliest_notice_date, w.notice_date, w.effective_date) == (date(2019, 11, 4), date(2019, 11, 4), date(2020, 11, 4))
    later = withdrawal(date(2016, 11, 4), date(2022, 3, 1))
    assert later.effective_date == date(2023, 3, 1)
    specified = withdrawal(date(2016, 11, 4), date(2022, 3, 1), specified_effective_on=date(2024, 1, 1))
    assert specified.effective_date == date(2024, 1, 1)
    # No 29 February three years on: the period runs out at the end of 28 February, notice from 1 March.
    assert withdrawal(date(2016, 2, 29)).earliest_notice_date == date(2019, 3, 1)


def test_withdrawal_refuses_a_notice_too_early_or_an_earlier_date_of_effect():
    with pytest.raises(InputError, match=r"notice 2019-11-03 for USA is too early.*give --notice 2019-11-04 or later"):
        withdrawal(date(2016, 11, 4), date(2019, 11, 3), party="USA")
    with pytest.raises(InputError, match=r"earlier than one year after the notice \(2020-11-04\)"):
        withdrawal(date(2016, 11, 4), date(2019, 11, 4), specified_effective_on=date(2020, 6, 1))


# --- the shipped record --------------------------------------------------------------------------------------


def test_entry_into_force_on_the_real_record_is_4_november_2016():
    # UNTC XXVII-7-d: "Entry into force: 4 November 2016, in accordance with article 21(1)". UN press release of
    # 5 Oct 2016: the conditions were met that day when Austria, Bolivia, Canada, France, Germany, Hungary, Malta,
    # Nepal, Portugal, Slovakia and the European Union deposited; "73 countries and the European Union have joined".
    result = entry_into_force(paris.record_deposits())
    assert result.conditions_met_on == date(2016, 10, 5)
    assert result.entry_into_force_date == date(2016, 11, 4)
    assert result.at_threshold.party_count == 73
    assert result.at_threshold.not_counted == ("EUU",)
    # Shares from the UNFCCC secretariat's Art. 21 list: 52.11% plus the seven EU members (4.57), Canada (1.95),
    # Bolivia (0.12) and Nepal (0.07).
    assert result.at_threshold.share_percent == Decimal("58.82")
    # IISD SDG Knowledge Hub, 5 Oct 2016: after New Zealand's deposit of 4 Oct, 63 Parties with 52.11% of emissions.
    assert (result.before_threshold.on, result.before_threshold.party_count) == (date(2016, 10, 4), 63)
    assert result.before_threshold.share_percent == Decimal("52.11")


def test_the_record_in_force_dates_follow_art_21_3():
    # recorded_in_force_date: UNTC "date of effect" (the Agreement's own date for the first Parties).
    met = entry_into_force(paris.record_deposits()).conditions_met_on
    rows = [r for r in table(paris.TABLE) if r["deposit_date"]]
    assert len(rows) == 185  # 184 parties (with the EU) and the second US acceptance
    for r in rows:
        computed = in_force_for_party(date.fromisoformat(r["deposit_date"]), met)
        assert computed.isoformat() == r["recorded_in_force_date"], r["party_code"]


def test_the_record_shares_add_up_to_the_secretariat_totals():
    # UNFCCC Art. 21 list: total 37,168,339 Gg CO2e = 100%; the EU's 4,488,404 Gg (12.10%) covers its 28 members.
    first = {r["party_code"]: r for r in table(paris.TABLE)}
    assert len(first) == 197
    shares = [Decimal(r["art21_share_percent"]) for c, r in first.items() if r["art21_share_percent"] and c != "EUU"]
    assert abs(sum(shares) - 100) <= Decimal("0.05")  # rounded to 0.01 each
    members = [r for r in first.values() if r["reio_code"] == "EUU"]
    assert len(members) == 28
    assert abs(sum(Decimal(r["art21_share_percent"]) for r in members) - Decimal("12.10")) <= Decimal("0.05")
    assert first["USA"]["art21_share_percent"] == "17.89" and first["CHN"]["art21_share_percent"] == "20.09"
    assert all(r["source"] for r in table(paris.TABLE))


def test_us_withdrawal_earliest_notice_4_nov_2019_effect_4_nov_2020():
    # UN Secretary-General's spokesperson, note to correspondents, 4 Nov 2019: the US accepted on 3 Sep 2016, could
    # withdraw "as from today" and notified that day; "the withdrawal of the United States will take effect on
    # 4 November 2020".
    w = paris.party_withdrawal(paris.record_deposits(), "USA", date(2019, 11, 4))
    assert w.in_force_for_party == date(2016, 11, 4)
    assert w.earliest_notice_date == date(2019, 11, 4)
    assert w.effective_date == date(2020, 11, 4)
    assert w.recorded_notice_date == date(2019, 11, 4)


def test_us_rejoined_in_force_19_feb_2021_and_notified_again_in_2025():
    # UN: new acceptance deposited 20 Jan 2021, in force for the US on 19 Feb 2021 (art. 21(3)). UN spokesperson,
    # 28 Jan 2025: notice received 27 Jan 2025, withdrawal takes effect 27 Jan 2026.
    w = paris.party_withdrawal(paris.record_deposits(), "USA")
    assert w.in_force_for_party == date(2021, 2, 19)
    assert w.earliest_notice_date == date(2024, 2, 19)
    assert (w.recorded_notice_date, w.recorded_effective_date) == (date(2025, 1, 27), date(2026, 1, 27))
    with pytest.raises(InputError, match=r"USA was not a Party on 2020-12-01: its withdrawal \(notice of 2019-11-04\) "
                                         "took effect on 2020-11-04; it deposited again on 2021-01-20"):
        paris.party_withdrawal(paris.record_deposits(), "USA", date(2020, 12, 1))
    with pytest.raises(InputError, match="before its first deposit"):
        paris.party_withdrawal(paris.record_deposits(), "USA", date(2016, 1, 1))


def test_a_second_notice_while_the_first_is_pending_is_refused():
    # UN: the US notice of 4 Nov 2019 took effect on 4 Nov 2020; a notice of 1 Jun 2020 would change nothing.
    with pytest.raises(InputError, match="USA had already given notice of withdrawal on 2019-11-04, pending on "
                                         "2020-06-01 and taking effect on 2020-11-04: a second notice during it has "
                                         "no effect; give a notice date on or before 2019-11-04, or after it "
                                         r"deposited again \(2021-01-20\)"):
        paris.party_withdrawal(paris.record_deposits(), "USA", date(2020, 6, 1))
    # The same for the notice of 27 Jan 2025, pending until 27 Jan 2026 (and no later deposit on the record).
    with pytest.raises(InputError, match="notice of withdrawal on 2025-01-27, pending on 2025-06-01 and taking effect "
                                         "on 2026-01-27: .* on or before 2025-01-27$"):
        paris.party_withdrawal(paris.record_deposits(), "USA", date(2025, 6, 1))
    # The recorded notice itself, and a what-if notice earlier than it, are still answered.
    assert paris.party_withdrawal(paris.record_deposits(), "USA", date(2019, 11, 4)).effective_date == date(2020, 11, 4)
    assert paris.party_withdrawal(paris.record_deposits(), "USA", date(2024, 3, 1)).effective_date == date(2025, 3, 1)


def test_cli_refuses_a_second_notice_while_the_first_is_pending(capsys):
    from openets.cli import main

    assert main(["paris", "withdrawal", "--party", "USA", "--notice", "2020-06-01"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: USA had already given notice of withdrawal on 2019-11-04")


# --- the command line ----------------------------------------------------------------------------------------


def test_cli_entry_into_force_json():
    result = runner.invoke(paris_app, ["entry-into-force", "--json", "--party", "Poland"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["entry_into_force_date"] == "2016-11-04" and out["conditions_met_on"] == "2016-10-05"
    assert (out["party_count"], out["share_percent"]) == (73, 58.82)
    assert out["in_force_for_party"] == ["2016-11-06"]  # Poland deposited on 7 Oct 2016 (UNTC)


def test_cli_withdrawal_json():
    result = runner.invoke(paris_app, ["withdrawal", "--party", "USA", "--notice", "2019-11-04", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["effective_date"] == "2020-11-04" and out["earliest_notice_date"] == "2019-11-04"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["withdrawal", "--party", "Frnace"], r"unknown party 'Frnace' in paris_ratification_record.csv: give an ISO "
         r"3166-1 alpha-3 code such as USA.*close matches: FRA \(France\)"),
        (["withdrawal", "--party", "IRN"], r"IRN \(Iran \(Islamic Republic of\)\) has deposited no instrument in "
         r"paris_ratification_record.csv.*name a party that has deposited one"),
        (["withdrawal", "--party", "USA", "--notice", "4 Nov 2019"], r"--notice '4 Nov 2019' is not a date; give it as "
         r"YYYY-MM-DD"),
        (["withdrawal", "--party", "USA", "--notice", "2018-01-01"], r"too early.*give --notice 2019-11-04 or later"),
        (["entry-into-force", "--as-of", "2015-12-12"], r"--as-of 2015-12-12 is before the first deposit in the record "
         r"\(2016-04-22\)"),
    ],
)
def test_cli_bad_input_says_what_where_and_how_to_fix(args, message):
    result = runner.invoke(paris_app, args)
    assert isinstance(result.exception, InputError)
    assert re.search(message, str(result.exception)), str(result.exception)


def test_cli_is_mounted(capsys):
    from openets.cli import main

    assert main(["paris", "withdrawal", "--party", "USA", "--notice", "2019-11-04", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["effective_date"] == "2020-11-04"
    assert main(["paris", "withdrawal", "--party", "ZZZ"]) == 1
    assert "unknown party 'ZZZ'" in capsys.readouterr().err
