-- One search table for `GET /api/v1/search`: a row per engagement, recommendation, submission, organisation and
-- agency, holding the text that may be searched and two stored, GIN-indexed tsvectors. Triggers on the source
-- tables keep it in the statement that changes them (so in the same transaction as every write, `hamkori generate`'s
-- set-based inserts included), so search reflects a change at once.
--
-- What is NOT here, on purpose: who may read a row. The read rule (visibility, parties, councils, planned visits)
-- is evaluated at query time against the live `engagements` and `recommendations` rows, through the same
-- `readable_sql` the lists use, so a change of visibility or parties needs no re-indexing.
--
-- Confidential monitoring findings are never copied here: a visit's text takes only the findings with
-- `confidential = false`. So their text can be neither matched nor shown in a snippet, to anyone (monitors and
-- admins read it on the visit itself).
CREATE TABLE search_entries (
    -- The record's own id (ids are UUIDs, unique across tables).
    entity_id     uuid PRIMARY KEY,
    entity_type   text NOT NULL CHECK (entity_type IN ('engagement', 'recommendation', 'submission',
                                                        'organization', 'agency')),
    -- The engagement the record is or belongs to (a submission's consultation); its deletion takes the rows along.
    engagement_id uuid REFERENCES engagements (id) ON DELETE CASCADE,
    -- The engagement's kind (also for its recommendations and submissions); NULL for the directory.
    kind          text,
    region_code   text,
    -- The record's day (starts_on, issued_on, submitted_on; the directory: the day it was recorded): the order
    -- within a relevance tier, and what `from`/`to` filter (the directory has no day of its own and is left out
    -- when they are given).
    sorts_on      date NOT NULL,
    title         text NOT NULL,
    body          text NOT NULL DEFAULT '',
    -- Russian stemming (насилие = насилия = насилии) plus the unstemmed words ('simple'), so Tajik and English
    -- words, names and registration numbers also match exactly.
    title_doc     tsvector GENERATED ALWAYS AS (to_tsvector('russian', title) || to_tsvector('simple', title)) STORED,
    document      tsvector GENERATED ALWAYS AS (to_tsvector('russian', title || ' ' || body)
                                                || to_tsvector('simple', title || ' ' || body)) STORED
);
CREATE INDEX search_entries_document_idx ON search_entries USING gin (document);
-- Tier 1 (the title matches) of a word that is common in texts but rare in titles reads this, not every match.
CREATE INDEX search_entries_title_idx ON search_entries USING gin (title_doc);
-- A common word's page walks this newest first and stops after `limit + 1` readable matches.
CREATE INDEX search_entries_sorts_idx ON search_entries (sorts_on DESC, entity_id DESC);
CREATE INDEX search_entries_type_idx ON search_entries (entity_type, sorts_on DESC, entity_id DESC);
CREATE INDEX search_entries_engagement_idx ON search_entries (engagement_id);

-- The searchable text of each engagement: title; summary, a meeting's agenda and minutes, a hearing's findings and
-- a visit's NON-confidential findings.
CREATE VIEW search_engagement_source AS
SELECT e.id, e.kind, e.region_code, e.starts_on, e.title,
       concat_ws(E'\n', e.summary,
                 (SELECT string_agg(concat_ws(' ', a ->> 'title', a ->> 'presenter', a ->> 'notes'), E'\n')
                    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m.agenda) = 'array' THEN m.agenda END) a),
                 m.minutes, h.findings,
                 (SELECT string_agg(f.description, E'\n' ORDER BY f.position)
                    FROM visit_findings f WHERE f.visit_id = e.id AND NOT f.confidential)) AS body
FROM engagements e
LEFT JOIN meetings m ON m.id = e.id
LEFT JOIN hearings h ON h.id = e.id;

CREATE FUNCTION search_resync_engagements(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_entries (entity_id, entity_type, engagement_id, kind, region_code, sorts_on, title, body)
    SELECT id, 'engagement', id, kind, region_code, starts_on, title, body
      FROM search_engagement_source WHERE id IN (SELECT unnest(ids))
    ON CONFLICT (entity_id) DO UPDATE
       SET kind = EXCLUDED.kind, region_code = EXCLUDED.region_code, sorts_on = EXCLUDED.sorts_on,
           title = EXCLUDED.title, body = EXCLUDED.body
     WHERE (search_entries.kind, search_entries.region_code, search_entries.sorts_on, search_entries.title, search_entries.body)
           IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.region_code, EXCLUDED.sorts_on, EXCLUDED.title, EXCLUDED.body);
$$;

-- A changed engagement: its own row, and the kind and region of what hangs from it (filtered by them).
CREATE FUNCTION search_resync_changed_engagements(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    SELECT search_resync_engagements(ids);
    UPDATE search_entries s SET kind = e.kind, region_code = e.region_code
      FROM engagements e
     WHERE e.id IN (SELECT unnest(ids)) AND s.engagement_id = e.id AND s.entity_type <> 'engagement'
       AND (s.kind IS DISTINCT FROM e.kind OR s.region_code IS DISTINCT FROM e.region_code);
$$;

-- A recommendation: its text (the title is its opening words).
CREATE FUNCTION search_resync_recommendations(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_entries (entity_id, entity_type, engagement_id, kind, region_code, sorts_on, title, body)
    SELECT r.id, 'recommendation', r.engagement_id, e.kind, e.region_code, r.issued_on, left(r.text, 160), r.text
      FROM recommendations r JOIN engagements e ON e.id = r.engagement_id
     WHERE r.id IN (SELECT unnest(ids))
    ON CONFLICT (entity_id) DO UPDATE
       SET engagement_id = EXCLUDED.engagement_id, kind = EXCLUDED.kind, region_code = EXCLUDED.region_code,
           sorts_on = EXCLUDED.sorts_on, title = EXCLUDED.title, body = EXCLUDED.body
     WHERE (search_entries.engagement_id, search_entries.kind, search_entries.region_code, search_entries.sorts_on, search_entries.title, search_entries.body)
           IS DISTINCT FROM (EXCLUDED.engagement_id, EXCLUDED.kind, EXCLUDED.region_code, EXCLUDED.sorts_on, EXCLUDED.title, EXCLUDED.body);
$$;

-- A submission: provision, proposal, rationale and the agency's answer (the title is the proposal's opening words).
CREATE FUNCTION search_resync_submissions(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_entries (entity_id, entity_type, engagement_id, kind, region_code, sorts_on, title, body)
    SELECT s.id, 'submission', s.consultation_id, e.kind, e.region_code, s.submitted_on, left(s.proposal, 160),
           concat_ws(E'\n', s.provision, s.proposal, s.rationale, s.response_text)
      FROM submissions s JOIN engagements e ON e.id = s.consultation_id
     WHERE s.id IN (SELECT unnest(ids))
    ON CONFLICT (entity_id) DO UPDATE
       SET sorts_on = EXCLUDED.sorts_on, title = EXCLUDED.title, body = EXCLUDED.body
     WHERE (search_entries.sorts_on, search_entries.title, search_entries.body)
           IS DISTINCT FROM (EXCLUDED.sorts_on, EXCLUDED.title, EXCLUDED.body);
$$;

-- The directory: name, short name, registration number and description; all public.
CREATE FUNCTION search_resync_organizations(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_entries (entity_id, entity_type, region_code, sorts_on, title, body)
    SELECT o.id, 'organization', o.region_code, o.created_at::date, o.name,
           concat_ws(E'\n', o.short_name, o.registration_number, o.description)
      FROM organizations o WHERE o.id IN (SELECT unnest(ids))
    ON CONFLICT (entity_id) DO UPDATE
       SET region_code = EXCLUDED.region_code, sorts_on = EXCLUDED.sorts_on, title = EXCLUDED.title,
           body = EXCLUDED.body
     WHERE (search_entries.region_code, search_entries.sorts_on, search_entries.title, search_entries.body)
           IS DISTINCT FROM (EXCLUDED.region_code, EXCLUDED.sorts_on, EXCLUDED.title, EXCLUDED.body);
$$;

CREATE FUNCTION search_resync_agencies(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_entries (entity_id, entity_type, region_code, sorts_on, title, body)
    SELECT a.id, 'agency', a.region_code, a.created_at::date, a.name, concat_ws(E'\n', a.short_name, a.description)
      FROM agencies a WHERE a.id IN (SELECT unnest(ids))
    ON CONFLICT (entity_id) DO UPDATE
       SET region_code = EXCLUDED.region_code, sorts_on = EXCLUDED.sorts_on, title = EXCLUDED.title,
           body = EXCLUDED.body
     WHERE (search_entries.region_code, search_entries.sorts_on, search_entries.title, search_entries.body)
           IS DISTINCT FROM (EXCLUDED.region_code, EXCLUDED.sorts_on, EXCLUDED.title, EXCLUDED.body);
$$;

-- Statement-level triggers with transition tables: one set-based resync per statement, however many rows it
-- wrote (`hamkori generate` inserts a million engagements in one statement). The trigger passes the changed ids;
-- `TG_ARGV[0]` names the resync and `TG_ARGV[1]` the id column.
CREATE FUNCTION search_entries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT array_agg(DISTINCT %I) FROM old_rows', TG_ARGV[1]) INTO ids;
    ELSE
        EXECUTE format('SELECT array_agg(DISTINCT %I) FROM new_rows', TG_ARGV[1]) INTO ids;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_ARGV[0] = 'delete' THEN
        DELETE FROM search_entries WHERE entity_id = ANY(ids);
    ELSE
        EXECUTE format('SELECT %I($1)', 'search_resync_' || TG_ARGV[0]) USING ids;
    END IF;
    RETURN NULL;
END
$$;

-- New engagements. Meetings, hearings and monitoring visits are indexed when their own row is inserted, right
-- after the core in the same transaction, text and all: indexing the core first would write each of them twice
-- (measured: about a quarter of the triggers' cost in `hamkori generate`).
CREATE FUNCTION search_engagements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_resync_engagements(
        ARRAY(SELECT id FROM new_rows WHERE kind NOT IN ('meeting', 'hearing', 'monitoring_visit')));
    RETURN NULL;
END
$$;
CREATE TRIGGER engagements_search_insert AFTER INSERT ON engagements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_engagements_inserted();
-- Changed engagements (any column: the text, order or filters may have changed; unchanged rows are not
-- rewritten; the read rule needs nothing here, it reads the live row).
CREATE TRIGGER engagements_search_update AFTER UPDATE ON engagements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('changed_engagements', 'id');
CREATE TRIGGER monitoring_visits_search_insert AFTER INSERT ON monitoring_visits REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'id');
-- (A deleted engagement's rows go with it: `engagement_id … ON DELETE CASCADE`.)
CREATE TRIGGER meetings_search_insert AFTER INSERT ON meetings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'id');
CREATE TRIGGER meetings_search_update AFTER UPDATE ON meetings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'id');
CREATE TRIGGER hearings_search_insert AFTER INSERT ON hearings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'id');
CREATE TRIGGER hearings_search_update AFTER UPDATE ON hearings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'id');
CREATE TRIGGER visit_findings_search_insert AFTER INSERT ON visit_findings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'visit_id');
CREATE TRIGGER visit_findings_search_update AFTER UPDATE ON visit_findings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'visit_id');
CREATE TRIGGER visit_findings_search_delete AFTER DELETE ON visit_findings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('engagements', 'visit_id');

CREATE TRIGGER recommendations_search_insert AFTER INSERT ON recommendations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('recommendations', 'id');
CREATE TRIGGER recommendations_search_update AFTER UPDATE ON recommendations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('recommendations', 'id');
CREATE TRIGGER recommendations_search_delete AFTER DELETE ON recommendations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('delete', 'id');

CREATE TRIGGER submissions_search_insert AFTER INSERT ON submissions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('submissions', 'id');
CREATE TRIGGER submissions_search_update AFTER UPDATE ON submissions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('submissions', 'id');
CREATE TRIGGER submissions_search_delete AFTER DELETE ON submissions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('delete', 'id');

CREATE TRIGGER organizations_search_insert AFTER INSERT ON organizations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('organizations', 'id');
CREATE TRIGGER organizations_search_update AFTER UPDATE ON organizations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('organizations', 'id');
CREATE TRIGGER organizations_search_delete AFTER DELETE ON organizations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('delete', 'id');

CREATE TRIGGER agencies_search_insert AFTER INSERT ON agencies REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('agencies', 'id');
CREATE TRIGGER agencies_search_update AFTER UPDATE ON agencies REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('agencies', 'id');
CREATE TRIGGER agencies_search_delete AFTER DELETE ON agencies REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_entries_changed('delete', 'id');

-- What exists already.
SELECT search_resync_organizations(ARRAY(SELECT id FROM organizations));
SELECT search_resync_agencies(ARRAY(SELECT id FROM agencies));
SELECT search_resync_engagements(ARRAY(SELECT id FROM engagements));
SELECT search_resync_recommendations(ARRAY(SELECT id FROM recommendations));
SELECT search_resync_submissions(ARRAY(SELECT id FROM submissions));
