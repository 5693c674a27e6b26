-- What each recommendation's status history says about its answers, kept beside it so that statistics read one row
-- per recommendation instead of searching its history (docs/statistics.md): the first day it was answered, and the
-- status and first answer the addressed agency recorded itself. Rewritten from the history by the statement that
-- changes the history, so it always equals what the history gives.
CREATE TABLE recommendation_answers (
    recommendation_id        uuid PRIMARY KEY REFERENCES recommendations (id) ON DELETE CASCADE,
    -- The earliest `effective_on` of an answer (any status but `issued` and `no_response`), whoever recorded it.
    first_answered_on        date,
    -- The last status the agency recorded itself (by `changed_at`, then id), if any.
    agency_status            text,
    -- The earliest `effective_on` of an answer the agency recorded itself.
    agency_first_answered_on date
);

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
