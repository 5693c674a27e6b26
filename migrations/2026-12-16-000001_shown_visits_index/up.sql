-- Monitoring visits newest first, without the planned ones. Every visit is planned before it is held, and the read
-- rule hides planned visits from everyone but their monitors and admins, so the newest part of the `starts_on` index
-- holds the planned visits and every engagement planned after them: at a million engagements the visits' list read
-- 12,900 rows of `engagements_starts_idx` (4 ms) before its first visible visit (docs/benchmarks.md, "Monitoring
-- visits"). The predicate is the read rule's own condition, so that Postgres can prove it from the list's query.
CREATE INDEX engagements_visits_shown_idx ON engagements (starts_on DESC, id DESC)
    WHERE kind = 'monitoring_visit' AND NOT (kind = 'monitoring_visit' AND status = 'planned');
