-- The calendar's walks (src/calendar/model.rs, docs/benchmarks.md "the calendar at a million engagements").
--
-- A region's events of one kind in day order: without these the calendar of one region walked every event of the
-- window in day order and dropped the other regions' (174 ms at a million engagements, for 1,688 events).
CREATE INDEX engagements_calendar_region_idx ON engagements (kind, region_code, starts_on, id)
    WHERE kind IN ('meeting', 'hearing');
CREATE INDEX engagements_consultation_region_closes_idx ON engagements (region_code, ends_on, id)
    WHERE kind = 'consultation';
-- The longest comment period, read as one index entry: the calendar of an organisation or agency finds its
-- consultations closing in a window through the party timeline (ordered by the first day) from the window's first
-- day less this many days, which no consultation closing in the window can start before.
CREATE INDEX engagements_consultation_period_idx ON engagements ((ends_on - starts_on))
    WHERE kind = 'consultation';
