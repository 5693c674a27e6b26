-- The day a meeting's minutes were first recorded, kept on the meeting: the councils statistic's "days to minutes"
-- read it from the audit log, one look-up per meeting over its audit rows and their `after` documents (130 ms of the
-- statistic at a million engagements with no audit rows at all, more with a real log), and lost it to any row
-- written past the API. The day is Dushanbe's, as the meeting's own date is.
ALTER TABLE meetings ADD COLUMN minutes_recorded_on date;

-- Set by the write that first gives the meeting minutes (in its transaction's time, as its audit row has), and kept
-- after, as the first audit row with minutes is: the API never writes the column itself.
CREATE FUNCTION meetings_minutes_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.minutes IS NOT NULL AND NEW.minutes_recorded_on IS NULL THEN
        NEW.minutes_recorded_on := (now() AT TIME ZONE 'Asia/Dushanbe')::date;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER meetings_minutes_recorded
    BEFORE INSERT OR UPDATE ON meetings
    FOR EACH ROW EXECUTE FUNCTION meetings_minutes_recorded();

-- The meetings recorded so far: the first audit row whose meeting has minutes, as the statistic read it.
UPDATE meetings m
   SET minutes_recorded_on = first.recorded_on
  FROM (SELECT entity_id, (min(occurred_at) AT TIME ZONE 'Asia/Dushanbe')::date AS recorded_on
          FROM audit_log
         WHERE entity_type = 'meeting' AND after ->> 'minutes' IS NOT NULL
         GROUP BY entity_id) first
 WHERE first.entity_id = m.id::text;
