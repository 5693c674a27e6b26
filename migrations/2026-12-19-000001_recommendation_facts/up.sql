-- What the statistics count of each recommendation, in one narrow row: its own columns, its engagement's kind and
-- region, who may read it (`audience`), and what its status history says of its answers (docs/statistics.md,
-- "Recommendation and submission facts"). The statistics then read this table alone for callers whose read rule
-- depends only on visibility, instead of joining every recommendation to its engagement's wide row. Rewritten by the
-- statement that changes any of its sources, so it always equals what they give.
ALTER TABLE recommendation_answers RENAME TO recommendation_facts;
ALTER INDEX recommendation_answers_pkey RENAME TO recommendation_facts_pkey;
ALTER TABLE recommendation_facts
    RENAME CONSTRAINT recommendation_answers_recommendation_id_fkey TO recommendation_facts_recommendation_id_fkey;
ALTER TABLE recommendation_facts
    ADD COLUMN engagement_id          uuid,
    ADD COLUMN addressed_to_agency_id uuid,
    ADD COLUMN issuer_organization_id uuid,
    ADD COLUMN issued_on              date,
    ADD COLUMN due_on                 date,
    ADD COLUMN status                 text,
    ADD COLUMN status_source          text,
    ADD COLUMN priority               text,
    ADD COLUMN kind                   text,
    ADD COLUMN region_code            text,
    -- Who may read the recommendation whatever its parties: 0 anyone, 1 anyone signed in, 2 neither (restricted,
    -- under a restricted council, or from a planned visit). Both the recommendation's visibility and its
    -- engagement's count, as the read rule requires.
    ADD COLUMN audience               smallint,
    -- From a monitoring visit still planned: hidden even from the addressed agency's officers.
    ADD COLUMN planned_visit          boolean;

DROP TRIGGER recommendation_status_history_answers_update ON recommendation_status_history;
DROP TRIGGER recommendation_status_history_answers_delete ON recommendation_status_history;
DROP TRIGGER recommendation_status_history_answers_insert ON recommendation_status_history;
DROP FUNCTION recommendation_answers_updated();
DROP FUNCTION recommendation_answers_deleted();
DROP FUNCTION recommendation_answers_inserted();
DROP FUNCTION recommendation_answers_rebuild();
DROP FUNCTION recommendation_answers_resync(uuid[]);

-- The facts of every recommendation, computed from their sources: the one definition that the resync below reads
-- for a few recommendations (the planner takes the condition on `recommendation_id` into the view, so it reads
-- those recommendations by their keys) and the rebuild for all.
CREATE VIEW recommendation_facts_source AS
    SELECT r.id AS recommendation_id,
           h.first_answered_on, h.agency_status, h.agency_first_answered_on,
           r.engagement_id, r.addressed_to_agency_id, r.issuer_organization_id, r.issued_on, r.due_on, r.status,
           r.status_source, r.priority, e.kind, e.region_code,
           CASE WHEN e.kind = 'monitoring_visit' AND e.status = 'planned' THEN 2
                WHEN 'restricted' IN (r.visibility, e.visibility)
                     OR (e.kind = 'meeting' AND c.visibility = 'restricted') THEN 2
                WHEN 'internal' IN (r.visibility, e.visibility)
                     OR (e.kind = 'meeting' AND c.visibility = 'internal') THEN 1
                ELSE 0
           END::smallint AS audience,
           e.kind = 'monitoring_visit' AND e.status = 'planned' AS planned_visit
      FROM recommendations r
      JOIN engagements e ON e.id = r.engagement_id
      LEFT JOIN councils c ON c.id = e.council_id
      LEFT JOIN LATERAL (
          SELECT min(h.effective_on) FILTER (WHERE h.status NOT IN ('issued', 'no_response')) AS first_answered_on,
                 (array_agg(h.status ORDER BY h.changed_at DESC, h.id DESC)
                     FILTER (WHERE h.source = 'agency'))[1] AS agency_status,
                 min(h.effective_on) FILTER (WHERE h.source = 'agency' AND h.status NOT IN ('issued', 'no_response'))
                     AS agency_first_answered_on
            FROM recommendation_status_history h
           WHERE h.recommendation_id = r.id
      ) h ON true;

-- Takes the locks each rewrite of the facts of an engagement's recommendations (or a consultation's submissions)
-- holds until its transaction ends. The rewrites come from writes that lock different rows (a recommendation's
-- status change locks the recommendation, a meeting's change its engagement, a council's change the council), so
-- without them two could rewrite the same facts at once: the second to delete a row would find it already replaced,
-- and its insert would fail on the key. They also make a rewrite of an engagement's facts wait for a recommendation
-- still being created under it, so that the rewrite sees it once it commits, and the other way round. Each statement
-- after them reads a new snapshot, which sees what the holder before committed.
--
-- An engagement's lock is one of 256, by a hash of its id, taken in order: a council's change rewrites the facts of
-- all its meetings (20,000 at a million engagements), and a lock each would fill Postgres's lock table ("out of
-- shared memory"). Two engagements sharing a lock only wait for each other.
CREATE FUNCTION facts_lock(what text, ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    slot int;
BEGIN
    FOR slot IN SELECT DISTINCT hashtext(i::text) & 255 FROM unnest(ids) AS i ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(hashtext(what), slot);
    END LOOP;
END
$$;

-- Rewrites the facts of the given recommendations (nothing during a bulk load, which rebuilds them at its end with
-- `recommendation_facts_rebuild`, as it does the tallies).
CREATE FUNCTION recommendation_facts_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    SELECT facts_lock('recommendation_facts', ARRAY(SELECT engagement_id FROM recommendations WHERE id = ANY(ids)));
    DELETE FROM recommendation_facts WHERE recommendation_id = ANY(ids) AND NOT engagement_tallies_deferred();
    INSERT INTO recommendation_facts
    SELECT * FROM recommendation_facts_source
     WHERE recommendation_id = ANY(ids) AND NOT engagement_tallies_deferred();
$$;

CREATE FUNCTION recommendation_facts_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE recommendation_facts;
    INSERT INTO recommendation_facts SELECT * FROM recommendation_facts_source;
$$;

-- A recommendation written, or its status history: its own facts.
CREATE FUNCTION recommendation_facts_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'recommendations' THEN
        PERFORM recommendation_facts_resync(ARRAY(SELECT id FROM new_rows));
    ELSE
        PERFORM recommendation_facts_resync(ARRAY(SELECT DISTINCT recommendation_id FROM new_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION recommendation_facts_old_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recommendation_facts_resync(ARRAY(SELECT DISTINCT recommendation_id FROM old_rows));
    RETURN NULL;
END
$$;
CREATE FUNCTION recommendation_facts_changed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'recommendations' THEN
        -- A recommendation moved by SQL to another engagement: the old engagement's rewrites are waited for too.
        PERFORM facts_lock('recommendation_facts', ARRAY(SELECT engagement_id FROM old_rows));
        PERFORM recommendation_facts_resync(ARRAY(SELECT id FROM new_rows));
    ELSE
        PERFORM recommendation_facts_resync(ARRAY(SELECT recommendation_id FROM old_rows
                                                  UNION SELECT recommendation_id FROM new_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER recommendations_facts_insert
    AFTER INSERT ON recommendations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_facts_new_rows();
CREATE TRIGGER recommendations_facts_update
    AFTER UPDATE ON recommendations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_facts_changed_rows();
CREATE TRIGGER recommendation_status_history_facts_insert
    AFTER INSERT ON recommendation_status_history REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_facts_new_rows();
CREATE TRIGGER recommendation_status_history_facts_delete
    AFTER DELETE ON recommendation_status_history REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_facts_old_rows();
CREATE TRIGGER recommendation_status_history_facts_update
    AFTER UPDATE ON recommendation_status_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_facts_changed_rows();

-- An engagement's kind, status, visibility, region or council, and a council's visibility: the facts of the
-- recommendations they decide.
CREATE FUNCTION recommendation_facts_engagement_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Locked before its recommendations are read: one still being created is then committed and seen.
    PERFORM facts_lock('recommendation_facts', ARRAY[NEW.id]);
    PERFORM recommendation_facts_resync(ARRAY(SELECT id FROM recommendations WHERE engagement_id = NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER engagements_recommendation_facts
    AFTER UPDATE OF kind, status, visibility, region_code, council_id ON engagements
    FOR EACH ROW
    WHEN ((OLD.kind, OLD.status, OLD.visibility, OLD.region_code, OLD.council_id)
          IS DISTINCT FROM (NEW.kind, NEW.status, NEW.visibility, NEW.region_code, NEW.council_id))
    EXECUTE FUNCTION recommendation_facts_engagement_changed();

CREATE FUNCTION recommendation_facts_council_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM facts_lock('recommendation_facts',
                       ARRAY(SELECT id FROM engagements WHERE council_id = NEW.id AND kind = 'meeting'));
    PERFORM recommendation_facts_resync(ARRAY(
        SELECT r.id FROM engagements e JOIN recommendations r ON r.engagement_id = e.id
         WHERE e.council_id = NEW.id AND e.kind = 'meeting'));
    RETURN NULL;
END
$$;
CREATE TRIGGER councils_recommendation_facts
    AFTER UPDATE OF visibility ON councils
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION recommendation_facts_council_changed();

SELECT recommendation_facts_rebuild();

ALTER TABLE recommendation_facts
    ALTER COLUMN engagement_id SET NOT NULL,
    ALTER COLUMN addressed_to_agency_id SET NOT NULL,
    ALTER COLUMN issued_on SET NOT NULL,
    ALTER COLUMN status SET NOT NULL,
    ALTER COLUMN status_source SET NOT NULL,
    ALTER COLUMN priority SET NOT NULL,
    ALTER COLUMN kind SET NOT NULL,
    ALTER COLUMN audience SET NOT NULL,
    ALTER COLUMN planned_visit SET NOT NULL;
-- One agency's recommendations (the statistics' agency filter) with their audience, and every column the statistics
-- read: an index-only scan reads an agency's rows side by side, where the table has them scattered over most of its
-- pages (the busiest agency's 15,000 public ones: 9 ms against 45-68 ms at a million engagements). Grouped by
-- agency, the rows also come in the group's order.
CREATE INDEX recommendation_facts_agency_idx ON recommendation_facts (addressed_to_agency_id, audience)
    INCLUDE (issued_on, due_on, status, priority, issuer_organization_id, status_source, kind, region_code,
             first_answered_on, agency_status, agency_first_answered_on);
