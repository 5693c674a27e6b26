-- Every search document also holds its record's year and month as two lexemes ('@y 2026', '@m 202610'), so that a
-- search can ask the GIN index for "this word, in these months" in one scan. Reading a common word's part of the
-- order between two days used to take the word's whole posting list (~95,000 rows at a million engagements, 10-35
-- ms to gather) and a bitmap of every row in the day range from the day index; with the calendar in the query the
-- index intersects the two lists and skips through the longer one (0.5 ms for a month the word is not in, 13 ms for
-- eleven months that hold 2,000 of its matches). src/search/model.rs (`calendar`) says which part of a search uses
-- which months or years; docs/search.md.
--
-- The space in a calendar lexeme keeps any query a user types from producing one: the text-search parser splits
-- words on spaces, so a calendar lexeme matches only the queries the server builds.

CREATE FUNCTION search_year_lexeme(day date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '@y ' || extract(year FROM day)::int;

CREATE FUNCTION search_month_lexeme(day date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '@m ' || (extract(year FROM day)::int * 100 + extract(month FROM day)::int);

CREATE FUNCTION search_calendar_lexemes(day date) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN array_to_tsvector(ARRAY[search_year_lexeme(day), search_month_lexeme(day)]);

-- Any of the months from `since` to `until` (inclusive) when they are at most 13, otherwise any of their years
-- (NULL, which matches nothing, when `until` is before `since`).
CREATE FUNCTION search_calendar(since date, until date) RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery
      FROM (SELECT search_month_lexeme(month::date) AS lexeme
              FROM generate_series(date_trunc('month', since::timestamp), until::timestamp, interval '1 month') AS month
             WHERE until < since + interval '13 months'
            UNION ALL
            SELECT search_year_lexeme(year::date)
              FROM generate_series(date_trunc('year', since::timestamp), until::timestamp, interval '1 year') AS year
             WHERE until >= since + interval '13 months') AS calendar
);

-- The column is generated, so it is added anew (one rewrite of the table; about a minute at a million
-- engagements, docs/operations.md) with its index, the pending-list limit and the statistics target it had.
ALTER TABLE search_entries DROP COLUMN document;
ALTER TABLE search_entries
    ADD COLUMN document tsvector GENERATED ALWAYS AS (to_tsvector('russian', title || ' ' || body)
                                                      || to_tsvector('simple', title || ' ' || body)
                                                      || search_calendar_lexemes(sorts_on)) STORED;
CREATE INDEX search_entries_document_idx ON search_entries USING gin (document) WITH (gin_pending_list_limit = 256);
ALTER TABLE search_entries ALTER COLUMN document SET STATISTICS 1000;
ANALYZE search_entries;
