-- Engagement tallies: how many engagements fall under each combination of the dimensions statistics group and
-- filter by most, so that `GET /stats/engagements` and the scorecards add up a few thousand rows instead of reading
-- every engagement (docs/statistics.md, "Tallies"). They are exact: every statement that changes an engagement,
-- its parties, an agency's place in the hierarchy or a council's visibility takes the engagements' contributions
-- out before the change and puts them back after it, in the same transaction.
--
-- A tally row carries what the read rule needs (visibility, kind, status, and for a council's meeting the council's
-- visibility), so that a caller whose rule depends on nothing else (anonymous readers, analysts, agency officers,
-- administrators) is answered from the tallies; a rule that names the caller's own records falls back to counting
-- the rows.

-- `council_visibility`: a meeting's council's visibility (null for other kinds and meetings without a council). The
-- key is the unique constraint (its nullable columns rule out a primary key over it); `id` is there because diesel
-- needs a primary key to describe a table.
CREATE TABLE engagement_tally (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               text NOT NULL,
    month              date NOT NULL,
    region_code        text,
    status             text NOT NULL,
    visibility         text NOT NULL,
    council_visibility text,
    engagements        bigint NOT NULL,
    CONSTRAINT engagement_tally_key
        UNIQUE NULLS NOT DISTINCT (kind, month, region_code, status, visibility, council_visibility)
);

-- Per agency: `party` counts each engagement the agency takes part in (in any role) once; `subtree` counts each
-- engagement in which it or any of its sub-agencies takes part once. (An organisation's engagements are few enough
-- to count from the party timeline.)
CREATE TABLE engagement_agency_tally (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id          uuid NOT NULL,
    scope              text NOT NULL CHECK (scope IN ('party', 'subtree')),
    month              date NOT NULL,
    kind               text NOT NULL,
    status             text NOT NULL,
    visibility         text NOT NULL,
    council_visibility text,
    engagements        bigint NOT NULL,
    CONSTRAINT engagement_agency_tally_key
        UNIQUE NULLS NOT DISTINCT (agency_id, scope, month, kind, status, visibility, council_visibility)
);

-- Each engagement of `ids` once per agency that takes part in it or has a sub-agency that does.
CREATE FUNCTION engagement_subtree_agencies(ids uuid[]) RETURNS TABLE (engagement_id uuid, agency_id uuid)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up (engagement_id, agency_id, parent_id) AS (
        SELECT t.engagement_id, a.id, a.parent_id
          FROM engagement_timeline t JOIN agencies a ON a.id = t.actor_id
         WHERE t.engagement_id = ANY(ids)
        UNION
        SELECT up.engagement_id, a.id, a.parent_id FROM up JOIN agencies a ON a.id = up.parent_id
    )
    SELECT DISTINCT engagement_id, agency_id FROM up;
$$;

-- Whether this transaction loads in bulk and rebuilds the tallies once at its end (`hamkori generate`): set by
-- `SET LOCAL hamkori.deferred_tallies = on`, which only our own loader issues.
CREATE FUNCTION engagement_tallies_deferred() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('hamkori.deferred_tallies', true), '') = 'on';
$$;

-- A transaction's changes to the tallies wait here until it commits, and are then added up and applied in one
-- statement, in key order (`engagement_tallies_apply`). Changing the tally rows as each statement ran had two
-- transactions moving engagements between the same two rows in opposite directions lock them in opposite orders
-- and deadlock; it also held the busiest rows (this month's) locked for the rest of each transaction.
CREATE TABLE engagement_tally_pending (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid               bigint NOT NULL DEFAULT txid_current(),
    kind               text NOT NULL,
    month              date NOT NULL,
    region_code        text,
    status             text NOT NULL,
    visibility         text NOT NULL,
    council_visibility text,
    engagements        bigint NOT NULL
);
CREATE INDEX engagement_tally_pending_txid_idx ON engagement_tally_pending (txid);
CREATE TABLE engagement_agency_tally_pending (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid               bigint NOT NULL DEFAULT txid_current(),
    agency_id          uuid NOT NULL,
    scope              text NOT NULL,
    month              date NOT NULL,
    kind               text NOT NULL,
    status             text NOT NULL,
    visibility         text NOT NULL,
    council_visibility text,
    engagements        bigint NOT NULL
);
CREATE INDEX engagement_agency_tally_pending_txid_idx ON engagement_agency_tally_pending (txid);

-- Adds `sign` times the engagements of `ids`, as they stand now, to this transaction's pending changes: -1 before a
-- change, +1 after it.
CREATE FUNCTION engagement_tallies_add(ids uuid[], sign integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO engagement_tally_pending
           (kind, month, region_code, status, visibility, council_visibility, engagements)
    SELECT e.kind, date_trunc('month', e.starts_on)::date, e.region_code, e.status, e.visibility, c.visibility,
           sign * count(*)
      FROM engagements e
      LEFT JOIN councils c ON c.id = e.council_id AND e.kind = 'meeting'
     WHERE e.id = ANY(ids) AND NOT engagement_tallies_deferred()
     GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO engagement_agency_tally_pending
           (agency_id, scope, month, kind, status, visibility, council_visibility, engagements)
    SELECT a.agency_id, a.scope, date_trunc('month', e.starts_on)::date, e.kind, e.status, e.visibility,
           c.visibility, sign * count(*)
      FROM (SELECT t.engagement_id, t.actor_id AS agency_id, 'party' AS scope
              FROM engagement_timeline t JOIN agencies ag ON ag.id = t.actor_id
             WHERE t.engagement_id = ANY(ids)
            UNION ALL
            SELECT engagement_id, agency_id, 'subtree' FROM engagement_subtree_agencies(ids)) a
      JOIN engagements e ON e.id = a.engagement_id
      LEFT JOIN councils c ON c.id = e.council_id AND e.kind = 'meeting'
     WHERE NOT engagement_tallies_deferred()
     GROUP BY 1, 2, 3, 4, 5, 6, 7;
$$;

-- At commit: this transaction's pending changes, added up per row, applied in key order (so that committing
-- transactions lock tally rows in one order), and removed. Fired by the first pending row's deferred trigger; the
-- later ones find nothing left.
CREATE FUNCTION engagement_tallies_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        DELETE FROM engagement_tally_pending WHERE txid = txid_current()
        RETURNING kind, month, region_code, status, visibility, council_visibility, engagements
    )
    INSERT INTO engagement_tally AS t
           (kind, month, region_code, status, visibility, council_visibility, engagements)
    SELECT kind, month, region_code, status, visibility, council_visibility, sum(engagements)
      FROM moved
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(engagements) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT engagement_tally_key
        DO UPDATE SET engagements = t.engagements + excluded.engagements;
    WITH moved AS (
        DELETE FROM engagement_agency_tally_pending WHERE txid = txid_current()
        RETURNING agency_id, scope, month, kind, status, visibility, council_visibility, engagements
    )
    INSERT INTO engagement_agency_tally AS t
           (agency_id, scope, month, kind, status, visibility, council_visibility, engagements)
    SELECT agency_id, scope, month, kind, status, visibility, council_visibility, sum(engagements)
      FROM moved
     GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(engagements) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT ON CONSTRAINT engagement_agency_tally_key
        DO UPDATE SET engagements = t.engagements + excluded.engagements;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER engagement_tally_pending_apply
    AFTER INSERT ON engagement_tally_pending DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION engagement_tallies_apply();
CREATE CONSTRAINT TRIGGER engagement_agency_tally_pending_apply
    AFTER INSERT ON engagement_agency_tally_pending DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION engagement_tallies_apply();

-- The timeline's resync, bracketed: the engagements' contributions leave the tallies before their actors change and
-- come back after.
CREATE OR REPLACE FUNCTION engagement_timeline_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    SELECT engagement_tallies_add(ids, -1);
    DELETE FROM engagement_timeline WHERE engagement_id = ANY(ids);
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id)
    SELECT DISTINCT a.actor_id, e.starts_on, e.id
      FROM engagements e
     CROSS JOIN LATERAL (
            SELECT e.owner_organization_id
            UNION ALL
            SELECT coalesce(p.organization_id, p.agency_id) FROM engagement_parties p WHERE p.engagement_id = e.id
           ) AS a (actor_id)
     WHERE e.id = ANY(ids) AND a.actor_id IS NOT NULL;
    SELECT engagement_tallies_add(ids, 1);
$$;

-- New engagements: the owner's timeline row, then their contributions.
CREATE OR REPLACE FUNCTION engagement_timeline_engagements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id)
    SELECT owner_organization_id, starts_on, id FROM new_engagements WHERE owner_organization_id IS NOT NULL;
    PERFORM engagement_tallies_add(ARRAY(SELECT id FROM new_engagements), 1);
    RETURN NULL;
END
$$;

-- A changed engagement: out before the row changes, back after. The AFTER trigger's name sorts before
-- `engagements_timeline_update`, whose resync (itself bracketed) must come second.
CREATE FUNCTION engagement_tallies_row_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(ARRAY[OLD.id], -1);
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE FUNCTION engagement_tallies_row_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(ARRAY[NEW.id], 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER engagements_a_tallies_out
    BEFORE UPDATE OF kind, starts_on, region_code, status, visibility, council_id ON engagements
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.starts_on IS DISTINCT FROM NEW.starts_on
                       OR OLD.region_code IS DISTINCT FROM NEW.region_code OR OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.visibility IS DISTINCT FROM NEW.visibility
                       OR OLD.council_id IS DISTINCT FROM NEW.council_id)
    EXECUTE FUNCTION engagement_tallies_row_out();
CREATE TRIGGER engagements_a_tallies_in
    AFTER UPDATE OF kind, starts_on, region_code, status, visibility, council_id ON engagements
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.starts_on IS DISTINCT FROM NEW.starts_on
                       OR OLD.region_code IS DISTINCT FROM NEW.region_code OR OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.visibility IS DISTINCT FROM NEW.visibility
                       OR OLD.council_id IS DISTINCT FROM NEW.council_id)
    EXECUTE FUNCTION engagement_tallies_row_in();
-- A deleted engagement leaves before its timeline rows are cascaded away.
CREATE TRIGGER engagements_a_tallies_delete
    BEFORE DELETE ON engagements
    FOR EACH ROW EXECUTE FUNCTION engagement_tallies_row_out();

-- An agency moved in the hierarchy changes the subtrees of its ancestors, old and new: the engagements of its own
-- subtree leave before the move and come back after.
CREATE FUNCTION engagement_tallies_agency_subtree(agency uuid) RETURNS uuid[] LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down (id) AS (
        SELECT agency
        UNION
        SELECT a.id FROM agencies a JOIN down ON a.parent_id = down.id
    )
    SELECT coalesce(array_agg(DISTINCT t.engagement_id), '{}')
      FROM engagement_timeline t WHERE t.actor_id IN (SELECT id FROM down);
$$;
CREATE FUNCTION engagement_tallies_agency_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(engagement_tallies_agency_subtree(OLD.id), -1);
    RETURN NEW;
END
$$;
CREATE FUNCTION engagement_tallies_agency_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(engagement_tallies_agency_subtree(NEW.id), 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER agencies_tallies_out
    BEFORE UPDATE OF parent_id ON agencies
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION engagement_tallies_agency_out();
CREATE TRIGGER agencies_tallies_in
    AFTER UPDATE OF parent_id ON agencies
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION engagement_tallies_agency_in();

-- A council's new visibility moves its meetings.
CREATE FUNCTION engagement_tallies_council_meetings(council uuid) RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(id), '{}') FROM engagements WHERE council_id = council AND kind = 'meeting';
$$;
CREATE FUNCTION engagement_tallies_council_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(engagement_tallies_council_meetings(OLD.id), -1);
    RETURN NEW;
END
$$;
CREATE FUNCTION engagement_tallies_council_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(engagement_tallies_council_meetings(NEW.id), 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER councils_tallies_out
    BEFORE UPDATE OF visibility ON councils
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION engagement_tallies_council_out();
CREATE TRIGGER councils_tallies_in
    AFTER UPDATE OF visibility ON councils
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION engagement_tallies_council_in();

-- Rebuilds both tallies from the engagements, set-based: the backfill below, and the end of a bulk load.
CREATE FUNCTION engagement_tallies_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE engagement_tally, engagement_agency_tally;
    INSERT INTO engagement_tally (kind, month, region_code, status, visibility, council_visibility, engagements)
    SELECT e.kind, date_trunc('month', e.starts_on)::date, e.region_code, e.status, e.visibility, c.visibility,
           count(*)
      FROM engagements e
      LEFT JOIN councils c ON c.id = e.council_id AND e.kind = 'meeting'
     GROUP BY 1, 2, 3, 4, 5, 6;
    WITH RECURSIVE up (engagement_id, agency_id, parent_id) AS (
        SELECT t.engagement_id, a.id, a.parent_id FROM engagement_timeline t JOIN agencies a ON a.id = t.actor_id
        UNION
        SELECT up.engagement_id, a.id, a.parent_id FROM up JOIN agencies a ON a.id = up.parent_id
    )
    INSERT INTO engagement_agency_tally
           (agency_id, scope, month, kind, status, visibility, council_visibility, engagements)
    SELECT a.agency_id, a.scope, date_trunc('month', e.starts_on)::date, e.kind, e.status, e.visibility,
           c.visibility, count(*)
      FROM (SELECT t.engagement_id, t.actor_id AS agency_id, 'party' AS scope
              FROM engagement_timeline t JOIN agencies ag ON ag.id = t.actor_id
            UNION ALL
            SELECT DISTINCT engagement_id, agency_id, 'subtree' FROM up) a
      JOIN engagements e ON e.id = a.engagement_id
      LEFT JOIN councils c ON c.id = e.council_id AND e.kind = 'meeting'
     GROUP BY 1, 2, 3, 4, 5, 6, 7;
$$;

SELECT engagement_tallies_rebuild();
