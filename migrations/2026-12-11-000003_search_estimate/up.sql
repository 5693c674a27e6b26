-- The planner's estimate of how many search rows match a query (from the tsvector statistics; a fraction of a
-- millisecond): the search reads a common word's older matches in windows of days, a rare word's at once
-- (src/search/model.rs, `tail_windows`).
CREATE FUNCTION search_estimated_matches(q tsquery) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM search_entries WHERE document @@ %L::tsquery', q::text)
        INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric::bigint;
END
$$;
