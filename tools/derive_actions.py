"""Maintainer tool: derive the bottom-up climate-action tables (src/openets/data/actions_*.csv) from ../shared/data/actions.

Users never run this (their clone has no ../shared); it documents how each shipped figure was derived. Facts that
the shared store does not hold (city populations, coalition memberships beyond the US Climate Alliance, the named
commitments, coalitions' own reported counts) were researched by hand and are written below as data, each row with
its public source. Run: .venv/bin/python tools/derive_actions.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from tables import write_table

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "openets" / "data"

# --- City populations -------------------------------------------------------------------------------------------
# Census Bureau, "Annual Estimates of the Resident Population for Incorporated Places of 50,000 or More, Ranked by
# July 1, 2019 Population" (SUB-IP-EST2019-ANNRNK), read from the copy at
# Urban-Ocean-Lab/coastal_cities@0c842afc9d0ac724f7659e670f121d5c8e28336f:data/SUB-IP-EST2019-ANNRNK.csv.
# Fayetteville AR and Phoenix AZ were also checked in sub-est2019_all.csv
# (KrystalDodd/Project_one@3a0ffa304b57be3284527dba3dea64ca7f848850): 87,590 and 1,680,992.
CENSUS_2019 = "Census SUB-IP-EST2019-ANNRNK (vintage 2019), July 1 2019"
CITY_POPULATION_2019 = {
    ("New York City", "NY"): 8_336_817, ("Los Angeles", "CA"): 3_979_576, ("Chicago", "IL"): 2_693_976,
    ("Houston", "TX"): 2_320_268, ("Phoenix", "AZ"): 1_680_992, ("Philadelphia", "PA"): 1_584_064,
    ("San Diego", "CA"): 1_423_851, ("Dallas", "TX"): 1_343_573, ("San José", "CA"): 1_021_795,
    ("Austin", "TX"): 978_908, ("Columbus", "OH"): 898_553, ("San Francisco", "CA"): 881_549,
    ("Seattle", "WA"): 753_675, ("Denver", "CO"): 727_211, ("Washington", "DC"): 705_749,
    ("Boston", "MA"): 692_600, ("Portland", "OR"): 654_741, ("Milwaukee", "WI"): 590_157,
    ("Sacramento", "CA"): 513_624, ("Atlanta", "GA"): 506_811, ("Kansas City", "MO"): 495_327,
    ("Miami", "FL"): 467_963, ("Long Beach", "CA"): 462_628, ("Oakland", "CA"): 433_031,
    ("New Orleans", "LA"): 390_144, ("Cleveland", "OH"): 381_009, ("Pittsburgh", "PA"): 300_286,
    ("Anchorage", "AK"): 288_000, ("Orlando", "FL"): 287_442, ("Durham", "NC"): 278_993,
    ("Reno", "NV"): 255_601, ("Tacoma", "WA"): 217_827, ("Salt Lake City", "UT"): 200_567,
    ("Knoxville", "TN"): 187_603, ("Providence", "RI"): 179_883, ("Eugene", "OR"): 172_622,
    ("Fort Collins", "CO"): 170_243, ("Alexandria", "VA"): 159_428, ("Lakewood", "CO"): 157_935,
    ("Berkeley", "CA"): 121_363, ("Ann Arbor", "MI"): 119_980, ("West Palm Beach", "FL"): 111_955,
    ("Boulder", "CO"): 105_673, ("Albany", "NY"): 96_460, ("Asheville", "NC"): 92_870,
    ("Santa Monica", "CA"): 90_401, ("Fayetteville", "AR"): 87_590, ("Somerville", "MA"): 81_360,
    ("Alameda", "CA"): 77_624, ("Palo Alto", "CA"): 65_364, ("Sarasota", "FL"): 58_285,
    ("Dubuque", "IA"): 57_882, ("Medford", "MA"): 57_341, ("West Sacramento", "CA"): 53_519,
    ("Edina", "MN"): 52_857, ("Hoboken", "NJ"): 52_677,
}
# Under 50,000 people, so not in the ranked table; their populations were not researched (they count as cities
# without figures): Aspen CO, Burlingame CA, Burlington VT, Cooperstown NY, Fort Bragg CA, Montpelier VT,
# Park City UT, Sonoma CA.

# --- Coalition memberships beyond the US Climate Alliance (hand-researched) --------------------------------------
CM_2017_06_01 = ("2017-06-01", "day", "signed_statement",
                 "Climate Mayors statement of 1 Jun 2017 '#ClimateMayors adopt, honor and uphold #ParisAgreement goals' "
                 "(medium.com/@ClimateMayors; signatories quoted by IBTimes India and Vice News, 1-2 Jun 2017)")
CM_2017_06_08 = ("2017-06-08", "day", "signed_statement",
                 "Climate Mayors release '279 Climate Mayors ... now committed to adopting the Paris agreement goals' "
                 "(climatemayors.org, 8 Jun 2017): nine of the ten largest cities incl. Phoenix, San Diego, Dallas, "
                 "San Jose, and the City of Miami")
CM_COMPENDIUM = ("2018-01-05", "day", "known_member_by",
                 "Climate Mayors 'Cities Climate Action Compendium' (climatemayors.org, file "
                 "Cities_Climate_Action_Compendium_180105-1.pdf, dated 5 Jan 2018 by its file name), parsed by "
                 "Data-Driven EnviroLab as ClimateMayors2022_Mar_clean_NCI.csv (shared/data/actions/"
                 "climate_mayors_2022_city_targets.csv)")
CLIMATE_MAYORS_STATEMENT = {
    ("Los Angeles", "CA"): CM_2017_06_01, ("Boston", "MA"): CM_2017_06_01, ("New York City", "NY"): CM_2017_06_01,
    ("Houston", "TX"): CM_2017_06_01, ("Knoxville", "TN"): CM_2017_06_01, ("Chicago", "IL"): CM_2017_06_01,
    ("Seattle", "WA"): CM_2017_06_01, ("Philadelphia", "PA"): CM_2017_06_01, ("Atlanta", "GA"): CM_2017_06_01,
    ("Fayetteville", "AR"): CM_2017_06_01, ("Alameda", "CA"): CM_2017_06_01, ("Albany", "NY"): CM_2017_06_01,
    ("Alexandria", "VA"): CM_2017_06_01, ("Anchorage", "AK"): CM_2017_06_01, ("Ann Arbor", "MI"): CM_2017_06_01,
    ("Pittsburgh", "PA"): CM_2017_06_01, ("New Orleans", "LA"): CM_2017_06_01, ("Milwaukee", "WI"): CM_2017_06_01,
    ("Phoenix", "AZ"): CM_2017_06_08, ("San Diego", "CA"): CM_2017_06_08, ("Dallas", "TX"): CM_2017_06_08,
    ("San José", "CA"): CM_2017_06_08, ("Miami", "FL"): CM_2017_06_08,
}
WASI_LAUNCH = ("2017-06-05", "day", "signed_statement",
               "We Are Still In launch release of 5 Jun 2017 ('over 1,000 ... governors, mayors, businesses, investors "
               "and colleges'; names California, New York, Los Angeles, Houston, Pittsburgh, Dubuque), as published "
               "by United Church Funds (ucfunds.org/ucf-still-in-on-climate)")
WASI_BUSINESS = ("2017-06-05", "day", "signed_statement",
                 "Environmental Leader, 'More than 1,200 U.S. leaders tell world we are still in' (5 Jun 2017): "
                 "Fortune 500 signatories Apple, eBay, Gap Inc., Google, Intel, Microsoft and Nike")
WASI_2018 = ("2018-04-10", "day", "known_member_by",
             "Partnership for Responsible Growth, 'Americans are still in the fight' (10 Apr 2018): signers include "
             "Walmart; HP is also on board")
WASI_MEMBERS = {
    "US-CA": WASI_LAUNCH, "US-NY:new-york-city": WASI_LAUNCH, "US-CA:los-angeles": WASI_LAUNCH,
    "US-TX:houston": WASI_LAUNCH, "US-PA:pittsburgh": WASI_LAUNCH, "US-IA:dubuque": WASI_LAUNCH,
    "apple": WASI_BUSINESS, "ebay": WASI_BUSINESS, "gap": WASI_BUSINESS, "google": WASI_BUSINESS,
    "intel": WASI_BUSINESS, "microsoft": WASI_BUSINESS, "nike": WASI_BUSINESS,
    "walmart": WASI_2018, "hp": WASI_2018,
}
TCI_SOURCE = ("2018-12-18", "day", "signed_statement",
              "Georgetown Climate Center / Transportation and Climate Initiative, 'Nine States and D.C. to Design "
              "Regional Approach to Cap Greenhouse Gas Pollution from Transportation' (18 Dec 2018)")
TCI_MEMBERS = ["US-CT", "US-DE", "US-MD", "US-MA", "US-NJ", "US-PA", "US-RI", "US-VT", "US-VA", "US-DC"]

COALITIONS = [
    {"coalition_id": "usca", "name": "US Climate Alliance", "kind": "states",
     "founded": "2017-06-01", "source": "shared/data/actions/us_climate_alliance_members.csv (press releases per row)"},
    {"coalition_id": "wasi", "name": "We Are Still In", "kind": "mixed",
     "founded": "2017-06-05",
     "source": "only the signatories named in public sources are shipped; the full signatory list is not shipped"},
    {"coalition_id": "climate-mayors", "name": "Climate Mayors", "kind": "cities", "founded": "2014",
     "source": "cities of the Cities Climate Action Compendium plus the signatories named in the June 2017 "
               "statements; the full member list is not shipped"},
    {"coalition_id": "tci", "name": "Transportation and Climate Initiative (Dec 2018 statement)", "kind": "states",
     "founded": "2018-12-18", "source": TCI_SOURCE[3]},
]

# --- Non-government actors ----------------------------------------------------------------------------------------
ORGANISATIONS = [
    # actor_id, name, kind, emissions_mtco2e, emissions_year, emissions_source
    ("walmart", "Walmart", "company", "", "", ""),
    ("delta-air-lines", "Delta Air Lines", "company", "", "", ""),
    ("jetblue", "JetBlue Airways", "company", "8", "2019",
     "'about eight million metric tons of carbon dioxide emissions each year' (Bloomberg, via Irish Independent, "
     "7 Jan 2020); CO2 from jet fuel, domestic and international flights"),
    ("blackrock", "BlackRock", "investor", "", "", ""),
    ("bezos-earth-fund", "Bezos Earth Fund", "foundation", "", "", ""),
    ("bloomberg-philanthropies", "Bloomberg Philanthropies", "foundation", "", "", ""),
    ("us-foundations", "US foundations (aggregate)", "foundation", "", "", ""),
    ("apple", "Apple", "company", "", "", ""), ("ebay", "eBay", "company", "", "", ""),
    ("gap", "Gap Inc.", "company", "", "", ""), ("google", "Google", "company", "", "", ""),
    ("intel", "Intel", "company", "", "", ""), ("microsoft", "Microsoft", "company", "", "", ""),
    ("nike", "Nike", "company", "", "", ""), ("hp", "HP", "company", "", "", ""),
]

# --- The commitments issue 6 names, one public source per row -----------------------------------------------------
COMMITMENT_COLUMNS = [
    "commitment_id", "actor_id", "kind", "description", "announced", "start_year", "target_year", "base_year",
    "reduction_percent", "quantity", "quantity_high", "quantity_unit", "offsets_share", "share_points",
    "threshold_percent", "in_national_inventory", "confirmed", "source_title", "source_url", "source_date", "note",
]
NAMED_COMMITMENTS = [
    dict(commitment_id="walmart-project-gigaton", actor_id="walmart", kind="cumulative_reduction",
         description="Avoid, reduce or sequester 1 Gt (1,000 Mt) CO2e in the global product value chain by 2030 (Project Gigaton)",
         announced="2017", start_year="2017", target_year="2030", base_year="2015", quantity="1000",
         quantity_unit="MtCO2e cumulative", in_national_inventory="no", confirmed="yes",
         source_title="Walmart, Climate Change (corporate.walmart.com, global responsibility / sustainability)",
         source_url="https://corporate.walmart.com/global-responsibility/sustainability/planet/climate-change",
         source_date="2020-09-10",
         note="Scope 3 (suppliers, worldwide): not part of the US territorial inventory. Base year 2015 per edie.net (Feb 2024)."),
    dict(commitment_id="delta-carbon-neutral", actor_id="delta-air-lines", kind="net_zero",
         description="Mitigate all emissions from its global business from 1 March 2020 (carbon neutral)",
         announced="2020-02-14", start_year="2020", target_year="2020", offsets_share="",
         in_national_inventory="partly", confirmed="yes",
         source_title="The Points Guy, 'Delta to invest $1 billion to become first carbon-neutral airline in the world'",
         source_url="https://thepointsguy.com/news/delta-to-invest-1-billion-to-become-first-carbon-neutral-airline-in-the-world",
         source_date="2020-02-14",
         note="No share met by offsets or removals is stated [unconfirmed]; no emissions figure for Delta is shipped."),
    dict(commitment_id="delta-1bn", actor_id="delta-air-lines", kind="money_pledged",
         description="$1 billion over the next ten years for carbon reduction, removal and offset projects",
         announced="2020-02-14", start_year="2020", target_year="2029", quantity="1000000000", quantity_unit="USD",
         in_national_inventory="no", confirmed="yes",
         source_title="The Points Guy, 'Delta to invest $1 billion to become first carbon-neutral airline in the world'",
         source_url="https://thepointsguy.com/news/delta-to-invest-1-billion-to-become-first-carbon-neutral-airline-in-the-world",
         source_date="2020-02-14", note="Yearly split not published."),
    dict(commitment_id="jetblue-domestic-offsets", actor_id="jetblue", kind="net_zero",
         description="Offset the CO2 from jet fuel of all domestic flights from July 2020",
         announced="2020-01-06", start_year="2020-07", target_year="2020", offsets_share="1", quantity="7",
         quantity_high="8", quantity_unit="MtCO2 per year offset", in_national_inventory="partly", confirmed="yes",
         source_title="AFP, 'JetBlue says to go carbon neutral by July 2020' (The Daily Star)",
         source_url="https://www.thedailystar.net/business/news/jetblue-says-go-carbon-neutral-july-2020-1851001",
         source_date="2020-01-08",
         note="'15 billion to 17 billion pounds (7 million to 8 million metric tons)' a year; offsetting began 1 Jul 2020 (futurenetzero.com, 15 Aug 2020)."),
    dict(commitment_id="blackrock-thermal-coal", actor_id="blackrock", kind="divestment_screen",
         description="Exit companies earning more than 25% of revenue from thermal coal production from actively managed portfolios by mid-2020",
         announced="2020-01-14", start_year="2020", target_year="2020", threshold_percent="25",
         quantity="1.8", quantity_unit="trillion USD actively managed (of 7)", in_national_inventory="no",
         confirmed="yes",
         source_title="Bloomberg, 'BlackRock vows to cut coal exposure' (BusinessLIVE)",
         source_url="https://www.businesslive.co.za/bd/companies/mining/2020-01-15-blackrock-vows-to-cut-coal-exposure/",
         source_date="2020-01-15", note="Index funds (most assets) are outside the screen."),
    dict(commitment_id="bezos-earth-fund", actor_id="bezos-earth-fund", kind="money_pledged",
         description="$10 billion 'to start' for scientists, activists and NGOs fighting climate change",
         announced="2020-02-17", start_year="2020", target_year="2030", quantity="10000000000", quantity_unit="USD",
         in_national_inventory="no", confirmed="yes",
         source_title="Variety, 'Jeff Bezos Launches $10 Billion Earth Fund'",
         source_url="https://variety.com/2020/digital/news/jeff-bezos-earth-fund-10-billion-climate-change-1203505851/",
         source_date="2020-02-17",
         note="Spending by 2030 per the fund's CEO (AP, 10 Mar 2021); worldwide, not US-only."),
    dict(commitment_id="bloomberg-unfccc", actor_id="bloomberg-philanthropies", kind="money_pledged",
         description="Up to $15 million for the UNFCCC secretariat after the 2017 withdrawal announcement",
         announced="2017-06-02", start_year="2017", target_year="2020", quantity="15000000", quantity_unit="USD",
         in_national_inventory="no", confirmed="yes",
         source_title="Philanthropy New York, 'Bloomberg Philanthropies Commits Up to $15 Million ...'",
         source_url="https://philanthropynewyork.org/news/bloomberg-philanthropies-commits-15-million-fill-budget-gap-left-trump-s-revoking-us-support-un",
         source_date="2017-06-02",
         note="'about $15 million to the UNFCCC between 2017 and 2020' (The Hill, 26 Jan 2025)."),
    dict(commitment_id="us-foundations-environment-2016", actor_id="us-foundations", kind="money_pledged",
         description="Environmental giving in 2016 (given, not pledged)", announced="2016", start_year="2016",
         target_year="2016", quantity="11050000000", quantity_unit="USD", in_national_inventory="no", confirmed="no",
         source_title="Giving USA 2017, giving to environment/animals (figure as quoted in issue 6)",
         source_url="https://givingusa.org/", source_date="2017-06",
         note="[unconfirmed] the figure could not be read in a public text; Giving USA's category covers all donors, not only foundations."),
    dict(commitment_id="us-foundations-environment-2017", actor_id="us-foundations", kind="money_pledged",
         description="Environmental giving in 2017 (given, not pledged)", announced="2017", start_year="2017",
         target_year="2017", quantity="12300000000", quantity_unit="USD", in_national_inventory="no", confirmed="no",
         source_title="Giving USA 2018, giving to environment/animals (figure as quoted in issue 6)",
         source_url="https://givingusa.org/", source_date="2018-06",
         note="[unconfirmed] see the 2016 row."),
    dict(commitment_id="us-foundations-environment-2018", actor_id="us-foundations", kind="money_pledged",
         description="Environmental giving in 2018 (given, not pledged)", announced="2018", start_year="2018",
         target_year="2018", quantity="12700000000", quantity_unit="USD", in_national_inventory="no", confirmed="no",
         source_title="Giving USA 2019, giving to environment/animals (figure as quoted in issue 6)",
         source_url="https://givingusa.org/", source_date="2019-06",
         note="[unconfirmed] see the 2016 row."),
    dict(commitment_id="california-sb100", actor_id="US-CA", kind="clean_electricity_share",
         description="SB 100: 100% of retail electricity from renewable and zero-carbon resources by 2045 (60% renewable by 2030, 50% by 2026)",
         announced="2018-09-10", start_year="2026", target_year="2045", share_points="2026:50;2030:60;2045:100",
         in_national_inventory="yes", confirmed="yes",
         source_title="Law and Policy Decarbonization Database, 'California SB 100'",
         source_url="https://lpdd.org/resources/california-sb-100/", source_date="2018",
         note="Signed 10 Sep 2018. Interim points are renewable shares; 2045 is renewable plus zero-carbon."),
    dict(commitment_id="hawaii-100-rps", actor_id="US-HI", kind="clean_electricity_share",
         description="100% renewable electricity (renewable portfolio standard) by 2045, law of June 2015",
         announced="2015-06", start_year="2045", target_year="2045", share_points="2045:100",
         in_national_inventory="yes", confirmed="yes",
         source_title="Planetizen, 'California May Join Hawaii With 100 Percent Renewable Energy by 2045'",
         source_url="https://www.planetizen.com/news/2018/08/100343-california-may-join-hawaii-100-percent-renewable-energy-2045",
         source_date="2018-08-30", note="Interim RPS steps of the Hawaii law are not shipped."),
    dict(commitment_id="tci-2018-statement", actor_id="tci", kind="policy_intent",
         description="Nine states and DC announce the design of a regional cap-and-invest (fuel) program for transportation emissions",
         announced="2018-12-18", start_year="2019", target_year="2019", quantity="10", quantity_unit="jurisdictions",
         in_national_inventory="yes", confirmed="yes",
         source_title="Georgetown Climate Center, TCI statement 2018",
         source_url="https://www.georgetownclimate.org/articles/transportation-and-climate-initiative-statement-2018.html",
         source_date="2018-12-18",
         note="An intent to design, with no cap level: no emission effect can be quantified from it. Later decisions of each jurisdiction are not shipped."),
]

# --- What coalitions said of themselves (for comparison only; never used in computations) --------------------------
REPORTED = [
    # coalition, as_of, metric, value, unit, source
    ("wasi", "2017-06-05", "signatories", "1219", "count", "Environmental Leader, 5 Jun 2017 (more than 1,200; 1,219 per techcoss/Tech Insider)"),
    ("wasi", "2017-06-05", "states", "9", "count", "Environmental Leader, 5 Jun 2017"),
    ("wasi", "2017-06-05", "cities", "125", "count", "Environmental Leader, 5 Jun 2017"),
    ("wasi", "2017-06-05", "colleges_universities", "183", "count", "Environmental Leader, 5 Jun 2017"),
    ("wasi", "2017-06-05", "businesses_investors", "900", "count (over)", "Environmental Leader, 5 Jun 2017"),
    ("wasi", "2017-06-05", "population", "120000000", "persons", "Environmental Leader, 5 Jun 2017"),
    ("wasi", "2017-06-05", "gdp", "6.2", "trillion USD", "Environmental Leader, 5 Jun 2017"),
    ("wasi", "2018-04-10", "signatories", "2600", "count (over)", "Partnership for Responsible Growth, 10 Apr 2018"),
    ("wasi", "2018-04-10", "businesses_investors", "1780", "count", "Partnership for Responsible Growth, 10 Apr 2018"),
    ("wasi", "2018-04-10", "states", "9", "count", "Partnership for Responsible Growth, 10 Apr 2018"),
    ("wasi", "2018-04-10", "cities_counties", "252", "count", "Partnership for Responsible Growth, 10 Apr 2018"),
    ("wasi", "2018-04-10", "colleges_universities", "339", "count", "Partnership for Responsible Growth, 10 Apr 2018"),
    ("wasi", "2018-04-10", "population", "130000000", "persons (over)", "Partnership for Responsible Growth, 10 Apr 2018"),
    ("wasi", "2018-09-12", "signatories", "3500", "count (over)", "We Are Still In, 'Coalition delivers 300 new commitments at Global Climate Action Summit' (wearestillin.com, Sep 2018)"),
    ("wasi", "2018-09-12", "states", "10", "count", "We Are Still In, Global Climate Action Summit release (Sep 2018)"),
    ("wasi", "2018-09-12", "cities_counties", "277", "count (over)", "We Are Still In, Global Climate Action Summit release (Sep 2018)"),
    ("wasi", "2018-09-12", "businesses_investors", "2100", "count (over)", "We Are Still In, Global Climate Action Summit release (Sep 2018)"),
    ("wasi", "2018-09-12", "population", "157000000", "persons (over)", "We Are Still In, Global Climate Action Summit release (Sep 2018)"),
    ("wasi", "2018-09-12", "gdp", "9.46", "trillion USD", "We Are Still In, Global Climate Action Summit release (Sep 2018)"),
    ("climate-mayors", "2017-06-01", "members", "180", "mayors", "Climate Mayors statement, medium.com/@ClimateMayors, 1 Jun 2017"),
    ("climate-mayors", "2017-06-01", "population", "51000000", "persons", "Climate Mayors statement, medium.com/@ClimateMayors, 1 Jun 2017"),
    ("climate-mayors", "2017-06-08", "members", "279", "mayors", "climatemayors.org, 8 Jun 2017"),
    ("climate-mayors", "2017-06-08", "population", "59000000", "persons", "climatemayors.org, 8 Jun 2017"),
    ("climate-mayors", "2022-12-14", "members", "500", "mayors (nearly)", "climatemayors.org, 14 Dec 2022 (new chair)"),
    # America's Pledge figures are held-out validation data (shared/data/MANIFEST.md); only the two the issue itself
    # quotes are shipped, for comparison.
    ("americas-pledge", "2019-12-11", "population_share", "0.65", "fraction", "Accelerating America's Pledge (Dec 2019), as quoted in issue 6 ('65% of the US population and 68% of its economy')"),
    ("americas-pledge", "2019-12-11", "gdp_share", "0.68", "fraction", "Accelerating America's Pledge (Dec 2019), as quoted in issue 6 ('65% of the US population and 68% of its economy')"),
]

NATIONAL_TARGETS = [
    ("US", "2025", "2005", "26", "28", "net GHG incl. LULUCF",
     "US INDC to the UNFCCC, 31 Mar 2015 ('26 to 28 percent below 2005 levels by 2025', C2ES summary)"),
    ("US", "2030", "2005", "50", "52", "net GHG incl. LULUCF",
     "US NDC of 22 Apr 2021; Net Zero Tracker 2022 (shared/data/actions/net_zero_tracker_2022_us_china.csv, COU-0112: 52% below 2005 by 2030)"),
]


def slug(text: str) -> str:
    text = text.replace("é", "e").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def demojibake(text: str) -> str:
    """Repair UTF-8 text that was decoded as Windows-1252 in the source ('Ã©' for 'é', 'â€™' for a quote)."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        # A closing quote lost its last byte (0x9d has no Windows-1252 character): repair piece by piece.
        for bad, good in (("â€œ", "\u201c"), ("â€™", "\u2019"), ("â€", "\u201d"), ("Ã©", "é")):
            text = text.replace(bad, good)
        return text


def city_key(raw_name: str, postal: str) -> tuple[str, str]:
    """(city, state postal) of a compendium row; repairs the source's mojibake and typos."""
    name = demojibake(raw_name)
    if name == "Washington D.C.":
        return ("Washington", "DC")
    city, _, state = name.rpartition(", ")
    return (city, state or postal.replace("NC2", "NC"))


def states(shared: Path) -> tuple[list[dict[str, object]], dict[str, str]]:
    rows: list[dict[str, object]] = []
    fips: dict[str, str] = {}
    with open(shared / "actions/us_states_annual.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            fips[r["state_postal"]] = r["state_fips"]
            rows.append({"state_fips": r["state_fips"], "state_postal": r["state_postal"], "state_name": r["state_name"],
                         "year": r["year"], "population": r["population"], "gdp_current_musd": r["gdp_current_musd"],
                         "gross_ghg_mtco2e": r["gross_ghg_mtco2e"]})
    return rows, fips


def compendium(shared: Path) -> list[dict[str, str]]:
    with open(shared / "actions/climate_mayors_2022_city_targets.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def actors(shared: Path, state_rows: list[dict[str, object]], fips: dict[str, str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [{
        "actor_id": "US", "name": "United States", "kind": "nation", "parent_id": "", "state_fips": "",
        "county_fips": "", "population_2019": "", "population_source": "", "emissions_mtco2e": "",
        "emissions_year": "", "emissions_source": "", "source": "50 states + DC are the national base (territories outside)"}]
    names = {r["state_postal"]: r["state_name"] for r in state_rows}
    for postal in sorted(names, key=lambda p: fips[p]):
        out.append({"actor_id": f"US-{postal}", "name": names[postal],
                    "kind": "territory" if postal == "PR" else "state", "parent_id": "US", "state_fips": fips[postal],
                    "county_fips": "", "population_2019": "", "population_source": "", "emissions_mtco2e": "",
                    "emissions_year": "", "emissions_source": "", "source": "actions_us_states_annual.csv"})
    cities = {city_key(r["city_name"], r["state_postal"]) for r in compendium(shared)}
    cities |= set(CLIMATE_MAYORS_STATEMENT)
    cities.add(("Pittsburgh", "PA"))
    for city, postal in sorted(cities, key=lambda k: (fips[k[1]], k[0])):
        pop = CITY_POPULATION_2019.get((city, postal))
        out.append({"actor_id": f"US-{postal}:{slug(city)}", "name": city, "kind": "city",
                    "parent_id": f"US-{postal}", "state_fips": fips[postal],
                    "county_fips": "", "population_2019": pop if pop is not None else "",
                    "population_source": CENSUS_2019 if pop is not None else "not shipped (under 50,000, not researched)",
                    "emissions_mtco2e": "", "emissions_year": "", "emissions_source": "",
                    "source": "Climate Mayors member city"})
    for actor_id, name, kind, em, em_year, em_source in ORGANISATIONS:
        out.append({"actor_id": actor_id, "name": name, "kind": kind, "parent_id": "US", "state_fips": "",
                    "county_fips": "", "population_2019": "", "population_source": "", "emissions_mtco2e": em,
                    "emissions_year": em_year, "emissions_source": em_source, "source": "named in issue 6 or in a coalition source"})
    return out


# USCA members whose join date the shared table gives only as a year, but whose source brackets it: counted from the
# last day of the bracket, as "known member by" that day (the day it joined is not known).
USCA_MEMBER_BY = {
    "ME": ("2019-03-12", "day", "known_member_by",
           "; counted as a member by 12 Mar 2019, the Nevada release (the day it joined is not known)"),
}


def memberships(shared: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with open(shared / "actions/us_climate_alliance_members.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            start, precision, basis, note = (r["join_date"], r["join_date_precision"], "joined", "")
            if r["postal"] in USCA_MEMBER_BY:
                start, precision, basis, note = USCA_MEMBER_BY[r["postal"]]
            rows.append({"coalition_id": "usca", "actor_id": f"US-{r['postal']}", "start": start,
                         "start_precision": precision, "start_basis": basis,
                         "end": r["left_date"], "end_precision": r["left_date_precision"],
                         "source": r["source_join"] + note
                         + (f"; left: {r['source_left']}" if r["source_left"] else "")})
    seen: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for r in compendium(shared):
        seen[city_key(r["city_name"], r["state_postal"])] = CM_COMPENDIUM
    for key, fact in CLIMATE_MAYORS_STATEMENT.items():
        seen[key] = fact  # the statements are earlier than the compendium
    for (city, postal), (start, precision, basis, source) in sorted(seen.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rows.append({"coalition_id": "climate-mayors", "actor_id": f"US-{postal}:{slug(city)}", "start": start,
                     "start_precision": precision, "start_basis": basis, "end": "", "end_precision": "",
                     "source": source})
    for actor_id, (start, precision, basis, source) in WASI_MEMBERS.items():
        rows.append({"coalition_id": "wasi", "actor_id": actor_id, "start": start, "start_precision": precision,
                     "start_basis": basis, "end": "", "end_precision": "", "source": source})
    for actor_id in TCI_MEMBERS:
        rows.append({"coalition_id": "tci", "actor_id": actor_id, "start": TCI_SOURCE[0],
                     "start_precision": TCI_SOURCE[1], "start_basis": TCI_SOURCE[2], "end": "", "end_precision": "",
                     "source": TCI_SOURCE[3]})
    return rows


def state_targets(shared: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with open(shared / "actions/us_state_ghg_targets_c2es.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            low, _, high = (r["reduction_range_percent"] or "").partition("-")
            rows.append({"actor_id": f"US-{r['state_postal']}", "target_type": r["target_type"],
                         "reduction_percent": r["reduction_below_baseline_percent"],
                         "reduction_percent_high": high or r["reduction_below_baseline_percent"],
                         "base_year": r["baseline_year"], "target_year": r["target_year"],
                         "source": "C2ES, U.S. State Greenhouse Gas Emissions Targets (accessed 4 Nov 2022)",
                         "legal_instrument_url": r["legal_instrument_url"]})
    return rows


def city_targets(shared: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in compendium(shared):
        city, postal = city_key(r["city_name"], r["state_postal"])
        rows.append({"actor_id": f"US-{postal}:{slug(city)}",
                     "target_category": r["target_category"].strip() or "unspecified",
                     "percent_value": r["percent_value"], "target_year": r["target_year"],
                     "base_year": r["baseline_year"], "commitment_text": demojibake(r["commitment_text"]),
                     "source": "Climate Mayors, Cities Climate Action Compendium (2018), as parsed by Data-Driven EnviroLab"})
    return rows


def write(name: str, rows: list[dict[str, object]], columns: list[str] | None = None) -> str:
    return write_table(OUT / name, rows, columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    state_rows, fips = states(args.shared)
    tables: list[tuple[str, list[dict[str, object]], list[str] | None]] = [
        ("actions_us_states_annual.csv", state_rows, None),
        ("actions_actors.csv", actors(args.shared, state_rows, fips), None),
        ("actions_coalitions.csv", COALITIONS, None),
        ("actions_memberships.csv", memberships(args.shared), None),
        ("actions_state_targets.csv", state_targets(args.shared), None),
        ("actions_city_targets.csv", city_targets(args.shared), None),
        ("actions_commitments.csv", [{c: row.get(c, "") for c in COMMITMENT_COLUMNS} for row in NAMED_COMMITMENTS],
         COMMITMENT_COLUMNS),
        ("actions_coalition_reported.csv",
         [dict(zip(("coalition_id", "as_of", "metric", "value", "unit", "source"), r)) for r in REPORTED], None),
        ("actions_national_targets.csv",
         [dict(zip(("country", "target_year", "base_year", "reduction_percent", "reduction_percent_high", "basis",
                    "source"), r)) for r in NATIONAL_TARGETS], None),
    ]
    for name, rows, columns in tables:
        digest = write(name, rows, columns)
        print(f"| `{name}` | {len(rows)} | `{digest}` |")  # noqa: T201 - maintainer tool, rows for MANIFEST.md


if __name__ == "__main__":
    main()
