"""Times for people: in the coop's zone, the zone named, the locale's day and month names."""

from __future__ import annotations

from datetime import UTC, datetime

from lib.localtime import format_local_date, format_local_datetime, format_local_time, to_local

# 19:00 in London on Saturday 3 July 2027 (BST), and 19:00 on Saturday 6 March 2027 (GMT).
SUMMER = datetime(2027, 7, 3, 18, 0, tzinfo=UTC)
WINTER = datetime(2027, 3, 6, 19, 0, tzinfo=UTC)


def test_a_summer_evening_reads_in_british_summer_time() -> None:
    assert format_local_datetime(SUMMER) == "Sat, 3 Jul 2027, 19:00 BST"


def test_a_winter_evening_reads_in_greenwich_mean_time() -> None:
    assert format_local_datetime(WINTER) == "Sat, 6 Mar 2027, 19:00 GMT"


def test_another_zone_and_locale() -> None:
    text = format_local_datetime(SUMMER, zone_name="Europe/Paris", locale="fr_FR")
    assert text.startswith("sam. 3 juil. 2027, 20:00")


def test_the_date_is_the_local_one() -> None:
    # 23:30 UTC on 3 July is already 4 July in London.
    late = datetime(2027, 7, 3, 23, 30, tzinfo=UTC)
    assert format_local_date(late) == "4 July 2027"


def test_a_naive_time_is_taken_as_utc() -> None:
    assert to_local(datetime(2027, 7, 3, 18, 0)).hour == 19


def test_nothing_for_no_time() -> None:
    assert format_local_datetime(None) == "" and format_local_date(None) == ""


def test_a_clock_time_names_its_zone() -> None:
    assert format_local_time(SUMMER) == "19:00 BST"
    assert format_local_time(WINTER) == "19:00 GMT"
    assert format_local_time(None) == ""


def test_remembered_texts_are_each_of_their_own_zone_and_locale() -> None:
    # The same moments again, in other zones and locales: nothing read as another's.
    assert format_local_datetime(SUMMER) == "Sat, 3 Jul 2027, 19:00 BST"
    assert format_local_datetime(SUMMER, zone_name="Europe/Paris").endswith("20:00 CEST")
    assert format_local_datetime(SUMMER, locale="de_DE").startswith("Sa., 3. Juli 2027")
    assert format_local_datetime(SUMMER.replace(tzinfo=None)) == "Sat, 3 Jul 2027, 19:00 BST"
    # A date is its local day's: 23:30 UTC is the next day in London in summer, not in winter.
    assert format_local_date(datetime(2027, 7, 3, 23, 30, tzinfo=UTC)) == "4 July 2027"
    assert format_local_date(datetime(2027, 3, 6, 23, 30, tzinfo=UTC)) == "6 March 2027"
    assert format_local_date(datetime(2027, 3, 6, 23, 30, tzinfo=UTC), locale="de_DE") == (
        "6. März 2027"
    )
