-- What the consultation statistics count of each submission, in one narrow row: its own columns, its consultation's,
-- and who may read it (`audience`), as `recommendation_facts` does for recommendations (docs/statistics.md,
-- "Recommendation and submission facts"). Rewritten by the statement that changes any of its sources.
CREATE TABLE submission_facts (
    id                    uuid PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    consultation_id       uuid NOT NULL,
    submitted_on          date NOT NULL,
    response_status       text NOT NULL,
    responded_on          date,
    response_source       text,
    responsible_agency_id uuid NOT NULL,
    act_type              text NOT NULL,
    level                 text NOT NULL,
    closes_on             date NOT NULL,
    -- Who may read the submission whatever its parties (its consultation's visibility): 0 anyone, 1 anyone signed
    -- in, 2 neither.
    audience              smallint NOT NULL
);

-- The facts of every submission, computed from their sources (the read rule of a submission is its
-- consultation's): read for a few submissions by the resync, for all by the rebuild.
CREATE VIEW submission_facts_source AS
    SELECT s.id, s.consultation_id, s.submitted_on, s.response_status, s.responded_on, s.response_source,
           c.responsible_agency_id, c.act_type, c.level, c.closes_on,
           CASE WHEN e.kind = 'monitoring_visit' AND e.status = 'planned' THEN 2
                WHEN e.visibility = 'restricted' OR (e.kind = 'meeting' AND k.visibility = 'restricted') THEN 2
                WHEN e.visibility = 'internal' OR (e.kind = 'meeting' AND k.visibility = 'internal') THEN 1
                ELSE 0
           END::smallint AS audience
      FROM submissions s
      JOIN consultations c ON c.id = s.consultation_id
      JOIN engagements e ON e.id = s.consultation_id
      LEFT JOIN councils k ON k.id = e.council_id;

-- Rewrites the facts of the given submissions (nothing during a bulk load, which rebuilds them at its end).
CREATE FUNCTION submission_facts_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    -- By consultation, as `recommendation_facts_resync` locks by engagement (`facts_lock`).
    SELECT facts_lock('submission_facts', ARRAY(SELECT consultation_id FROM submissions WHERE id = ANY(ids)));
    DELETE FROM submission_facts WHERE id = ANY(ids) AND NOT engagement_tallies_deferred();
    INSERT INTO submission_facts
    SELECT * FROM submission_facts_source WHERE id = ANY(ids) AND NOT engagement_tallies_deferred();
$$;

CREATE FUNCTION submission_facts_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE submission_facts;
    INSERT INTO submission_facts SELECT * FROM submission_facts_source;
$$;

-- A submission written: its own facts.
CREATE FUNCTION submission_facts_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM submission_facts_resync(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;
CREATE FUNCTION submission_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A submission moved by SQL to another consultation: the old consultation's rewrites are waited for too.
    PERFORM facts_lock('submission_facts', ARRAY(SELECT consultation_id FROM old_rows));
    PERFORM submission_facts_resync(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;
CREATE TRIGGER submissions_facts_insert
    AFTER INSERT ON submissions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submission_facts_written();
CREATE TRIGGER submissions_facts_update
    AFTER UPDATE ON submissions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submission_facts_changed();

-- A consultation's own columns, or its engagement's visibility (and what else decides who reads it): the facts of
-- its submissions.
CREATE FUNCTION submission_facts_consultation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM facts_lock('submission_facts', ARRAY[NEW.id]);
    PERFORM submission_facts_resync(ARRAY(SELECT id FROM submissions WHERE consultation_id = NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER consultations_submission_facts
    AFTER UPDATE OF responsible_agency_id, act_type, level, closes_on ON consultations
    FOR EACH ROW
    WHEN ((OLD.responsible_agency_id, OLD.act_type, OLD.level, OLD.closes_on)
          IS DISTINCT FROM (NEW.responsible_agency_id, NEW.act_type, NEW.level, NEW.closes_on))
    EXECUTE FUNCTION submission_facts_consultation_changed();
CREATE TRIGGER engagements_submission_facts
    AFTER UPDATE OF kind, status, visibility, council_id ON engagements
    FOR EACH ROW
    WHEN (NEW.kind = 'consultation'
          AND (OLD.kind, OLD.status, OLD.visibility, OLD.council_id)
              IS DISTINCT FROM (NEW.kind, NEW.status, NEW.visibility, NEW.council_id))
    EXECUTE FUNCTION submission_facts_consultation_changed();

SELECT submission_facts_rebuild();

-- One agency's submissions (the statistics' agency filter) with their audience and every column the statistics
-- read, for an index-only scan (as `recommendation_facts_agency_idx`).
CREATE INDEX submission_facts_agency_idx ON submission_facts (responsible_agency_id, audience)
    INCLUDE (consultation_id, submitted_on, response_status, responded_on, response_source, act_type, level,
             closes_on);
