ALTER TABLE search_entries DROP COLUMN document;
ALTER TABLE search_entries
    ADD COLUMN document tsvector GENERATED ALWAYS AS (to_tsvector('russian', title || ' ' || body)
                                                      || to_tsvector('simple', title || ' ' || body)) STORED;
CREATE INDEX search_entries_document_idx ON search_entries USING gin (document) WITH (gin_pending_list_limit = 256);
ALTER TABLE search_entries ALTER COLUMN document SET STATISTICS 1000;
DROP FUNCTION search_calendar(date, date);
DROP FUNCTION search_calendar_lexemes(date);
DROP FUNCTION search_month_lexeme(date);
DROP FUNCTION search_year_lexeme(date);
ANALYZE search_entries;
