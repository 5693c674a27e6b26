DROP TRIGGER councils_recommendation_facts ON councils;
DROP TRIGGER engagements_recommendation_facts ON engagements;
DROP TRIGGER recommendation_status_history_facts_update ON recommendation_status_history;
DROP TRIGGER recommendation_status_history_facts_delete ON recommendation_status_history;
DROP TRIGGER recommendation_status_history_facts_insert ON recommendation_status_history;
DROP TRIGGER recommendations_facts_update ON recommendations;
DROP TRIGGER recommendations_facts_insert ON recommendations;
DROP FUNCTION recommendation_facts_council_changed();
DROP FUNCTION recommendation_facts_engagement_changed();
DROP FUNCTION recommendation_facts_changed_rows();
DROP FUNCTION recommendation_facts_old_rows();
DROP FUNCTION recommendation_facts_new_rows();
DROP FUNCTION recommendation_facts_rebuild();
DROP FUNCTION recommendation_facts_resync(uuid[]);
DROP FUNCTION facts_lock(text, uuid[]);
DROP VIEW recommendation_facts_source;
DROP INDEX recommendation_facts_agency_idx;
ALTER TABLE recommendation_facts
    DROP COLUMN engagement_id, DROP COLUMN addressed_to_agency_id, DROP COLUMN issuer_organization_id,
    DROP COLUMN issued_on, DROP COLUMN due_on, DROP COLUMN status, DROP COLUMN status_source, DROP COLUMN priority,
    DROP COLUMN kind, DROP COLUMN region_code, DROP COLUMN audience, DROP COLUMN planned_visit;
ALTER TABLE recommendation_facts
    RENAME CONSTRAINT recommendation_facts_recommendation_id_fkey TO recommendation_answers_recommendation_id_fkey;
ALTER INDEX recommendation_facts_pkey RENAME TO recommendation_answers_pkey;
ALTER TABLE recommendation_facts RENAME TO recommendation_answers;

-- The answers' own upkeep, as migration 2026-12-12-000002 made it.
CREATE FUNCTION recommendation_answers_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM recommendation_answers WHERE recommendation_id = ANY(ids) AND NOT engagement_tallies_deferred();
    INSERT INTO recommendation_answers
           (recommendation_id, first_answered_on, agency_status, agency_first_answered_on)
    SELECT h.recommendation_id,
           min(h.effective_on) FILTER (WHERE h.status NOT IN ('issued', 'no_response')),
           (array_agg(h.status ORDER BY h.changed_at DESC, h.id DESC) FILTER (WHERE h.source = 'agency'))[1],
           min(h.effective_on) FILTER (WHERE h.source = 'agency' AND h.status NOT IN ('issued', 'no_response'))
      FROM recommendation_status_history h
      JOIN recommendations r ON r.id = h.recommendation_id
     WHERE h.recommendation_id = ANY(ids) AND NOT engagement_tallies_deferred()
     GROUP BY h.recommendation_id;
$$;

CREATE FUNCTION recommendation_answers_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recommendation_answers_resync(ARRAY(SELECT DISTINCT recommendation_id FROM new_rows));
    RETURN NULL;
END
$$;
CREATE TRIGGER recommendation_status_history_answers_insert
    AFTER INSERT ON recommendation_status_history REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_answers_inserted();

CREATE FUNCTION recommendation_answers_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recommendation_answers_resync(ARRAY(SELECT DISTINCT recommendation_id FROM old_rows));
    RETURN NULL;
END
$$;
CREATE TRIGGER recommendation_status_history_answers_delete
    AFTER DELETE ON recommendation_status_history REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_answers_deleted();

CREATE FUNCTION recommendation_answers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recommendation_answers_resync(ARRAY(SELECT recommendation_id FROM old_rows
                                                UNION SELECT recommendation_id FROM new_rows));
    RETURN NULL;
END
$$;
CREATE TRIGGER recommendation_status_history_answers_update
    AFTER UPDATE ON recommendation_status_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recommendation_answers_updated();

-- Rebuilds every row from the history, set-based: the backfill below, and the end of a bulk load (which defers the
-- per-statement rewrite with the engagement tallies' `hamkori.deferred_tallies`).
CREATE FUNCTION recommendation_answers_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE recommendation_answers;
    INSERT INTO recommendation_answers
           (recommendation_id, first_answered_on, agency_status, agency_first_answered_on)
    SELECT h.recommendation_id,
           min(h.effective_on) FILTER (WHERE h.status NOT IN ('issued', 'no_response')),
           (array_agg(h.status ORDER BY h.changed_at DESC, h.id DESC) FILTER (WHERE h.source = 'agency'))[1],
           min(h.effective_on) FILTER (WHERE h.source = 'agency' AND h.status NOT IN ('issued', 'no_response'))
      FROM recommendation_status_history h
     GROUP BY h.recommendation_id;
$$;

SELECT recommendation_answers_rebuild();
