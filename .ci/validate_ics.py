"""Checks every calendar feed the tests kept with Python's `icalendar` (a parser the server does not use).

Each file must parse strictly; every event must carry UID, DTSTAMP, DTSTART and SEQUENCE; every TZID an event
refers to must be defined by a VTIMEZONE of the same calendar; and each time zone must convert its local times.
"""

import pathlib
import sys

import icalendar

folder = pathlib.Path(sys.argv[1])
files = sorted(folder.glob("*.ics"))
if not files:
    sys.exit(f"no calendar feeds in {folder}: did the calendar tests run?")
events = 0
for path in files:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    if calendar.errors:
        sys.exit(f"{path}: {calendar.errors}")
    zones = {str(z["TZID"]) for z in calendar.walk("VTIMEZONE")}
    for zone in calendar.walk("VTIMEZONE"):
        zone.to_tz()
    for event in calendar.walk("VEVENT"):
        events += 1
        if event.errors:
            sys.exit(f"{path}: {event.errors}")
        for name in ("UID", "DTSTAMP", "DTSTART", "SEQUENCE"):
            if name not in event:
                sys.exit(f"{path}: an event without {name}: {event.to_ical()!r}")
        tzid = event["DTSTART"].params.get("TZID")
        if tzid is not None and tzid not in zones:
            sys.exit(f"{path}: TZID {tzid} has no VTIMEZONE")
        event.decoded("DTSTART")
print(f"icalendar {icalendar.__version__}: {len(files)} feeds, {events} events valid")
