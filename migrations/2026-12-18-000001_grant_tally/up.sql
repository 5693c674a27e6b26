-- Grant tallies: how many grants, and their exact sum, per year, status, visibility, form of support and currency,
-- so that `GET /stats/grants` and the scorecards' grants add up a few thousand rows instead of joining every readable
-- engagement to its grant (docs/statistics.md, "Tallies"). Kept exact as the engagement tallies are: a grant's
-- contribution leaves this transaction's pending changes before a change of its engagement or of its own row and
-- comes back after it, and the pending changes are applied at commit, with the engagement tallies', in one order.
--
-- Three tallies, because the funder, the recipient and the region cannot share a key: with 2,300 funders over ten
-- years, a key of the funder and the region (or the month) has about as many rows as there are grants (196,589 for
-- 200,000 at a million engagements), which is no tally at all. `grant_tally` has the region and neither party (14,231
-- rows there); `grant_funder_tally` the funder (166,476 rows) and `grant_recipient_tally` the recipient (170,874
-- rows), each without the region: one party's rows are a few thousand at most, read through the key's index.
--
-- A row carries the read rule's inputs for a grant (its visibility: grants are never meetings or planned visits),
-- so the callers the engagement tallies answer are answered here too, with the same rule.

CREATE TABLE grant_tally (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year         date NOT NULL,
    region_code  text,
    status       text NOT NULL,
    visibility   text NOT NULL,
    support_type text NOT NULL,
    currency     text NOT NULL,
    grants       bigint NOT NULL,
    amount       numeric NOT NULL,
    CONSTRAINT grant_tally_key UNIQUE NULLS NOT DISTINCT
        (year, region_code, status, visibility, support_type, currency)
);
CREATE TABLE grant_funder_tally (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    funder_agency_id       uuid,
    funder_organization_id uuid,
    year                   date NOT NULL,
    status                 text NOT NULL,
    visibility             text NOT NULL,
    support_type           text NOT NULL,
    currency               text NOT NULL,
    grants                 bigint NOT NULL,
    amount                 numeric NOT NULL,
    CONSTRAINT grant_funder_tally_key UNIQUE NULLS NOT DISTINCT
        (funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency)
);
-- One organisation's rows (the key's index serves an agency's).
CREATE INDEX grant_funder_tally_organization_idx ON grant_funder_tally (funder_organization_id);
CREATE TABLE grant_recipient_tally (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_organization_id uuid NOT NULL,
    year                      date NOT NULL,
    status                    text NOT NULL,
    visibility                text NOT NULL,
    support_type              text NOT NULL,
    currency                  text NOT NULL,
    grants                    bigint NOT NULL,
    amount                    numeric NOT NULL,
    CONSTRAINT grant_recipient_tally_key UNIQUE
        (recipient_organization_id, year, status, visibility, support_type, currency)
);

CREATE TABLE grant_tally_pending (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid         bigint NOT NULL DEFAULT txid_current(),
    year         date NOT NULL,
    region_code  text,
    status       text NOT NULL,
    visibility   text NOT NULL,
    support_type text NOT NULL,
    currency     text NOT NULL,
    grants       bigint NOT NULL,
    amount       numeric NOT NULL
);
CREATE INDEX grant_tally_pending_txid_idx ON grant_tally_pending (txid);
CREATE TABLE grant_funder_tally_pending (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid                   bigint NOT NULL DEFAULT txid_current(),
    funder_agency_id       uuid,
    funder_organization_id uuid,
    year                   date NOT NULL,
    status                 text NOT NULL,
    visibility             text NOT NULL,
    support_type           text NOT NULL,
    currency               text NOT NULL,
    grants                 bigint NOT NULL,
    amount                 numeric NOT NULL
);
CREATE INDEX grant_funder_tally_pending_txid_idx ON grant_funder_tally_pending (txid);
CREATE TABLE grant_recipient_tally_pending (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid                      bigint NOT NULL DEFAULT txid_current(),
    recipient_organization_id uuid NOT NULL,
    year                      date NOT NULL,
    status                    text NOT NULL,
    visibility                text NOT NULL,
    support_type              text NOT NULL,
    currency                  text NOT NULL,
    grants                    bigint NOT NULL,
    amount                    numeric NOT NULL
);
CREATE INDEX grant_recipient_tally_pending_txid_idx ON grant_recipient_tally_pending (txid);

-- Adds `sign` times the grants of `ids` (engagement ids; those that are grants), as they stand now, to this
-- transaction's pending changes. A grant whose engagement is gone adds nothing: a deleted engagement's grant left
-- with the engagement's own contribution, before the row was deleted.
-- (PL/pgSQL keeps each statement's plan for the session; a SQL function's are planned at every call.)
CREATE FUNCTION grant_tally_add(ids uuid[], sign integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF engagement_tallies_deferred() THEN
        RETURN;
    END IF;
    -- One statement: the grants and their engagements are read once for the three tallies.
    WITH changed AS (
        SELECT date_trunc('year', e.starts_on)::date AS year, e.region_code, e.status, e.visibility,
               g.support_type, g.currency, g.funder_agency_id, g.funder_organization_id,
               g.recipient_organization_id, g.amount
          FROM grants g JOIN engagements e ON e.id = g.id
         WHERE g.id = ANY(ids)
    ), by_funder AS (
        INSERT INTO grant_funder_tally_pending
               (funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency, grants,
                amount)
        SELECT funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency,
               sign * count(*), sign * sum(amount)
          FROM changed
         GROUP BY 1, 2, 3, 4, 5, 6, 7
    ), by_recipient AS (
        INSERT INTO grant_recipient_tally_pending
               (recipient_organization_id, year, status, visibility, support_type, currency, grants, amount)
        SELECT recipient_organization_id, year, status, visibility, support_type, currency, sign * count(*),
               sign * sum(amount)
          FROM changed
         GROUP BY 1, 2, 3, 4, 5, 6
    )
    INSERT INTO grant_tally_pending (year, region_code, status, visibility, support_type, currency, grants, amount)
    SELECT year, region_code, status, visibility, support_type, currency, sign * count(*), sign * sum(amount)
      FROM changed
     GROUP BY 1, 2, 3, 4, 5, 6;
END
$$;

-- At commit: one function applies the pending changes of all five tallies, in one fixed order (the engagement
-- tallies, then the grants', each in key order), whichever pending row's deferred trigger fires first; the later
-- ones find nothing left. With an apply of their own, the grant tallies were locked before the engagement tallies in
-- a transaction that wrote a grant's row first (a PATCH of its funder) and after them in one that wrote the
-- engagement first (a create): two such writes at once could deadlock.
CREATE OR REPLACE FUNCTION engagement_tallies_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
    WITH moved AS (
        DELETE FROM grant_tally_pending WHERE txid = txid_current()
        RETURNING year, region_code, status, visibility, support_type, currency, grants, amount
    )
    INSERT INTO grant_tally AS t (year, region_code, status, visibility, support_type, currency, grants, amount)
    SELECT year, region_code, status, visibility, support_type, currency, sum(grants), sum(amount)
      FROM moved
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(grants) <> 0 OR sum(amount) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT grant_tally_key
        DO UPDATE SET grants = t.grants + excluded.grants, amount = t.amount + excluded.amount;
    WITH moved AS (
        DELETE FROM grant_funder_tally_pending WHERE txid = txid_current()
        RETURNING funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency, grants,
                  amount
    )
    INSERT INTO grant_funder_tally AS t
           (funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency, grants,
            amount)
    SELECT funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency, sum(grants),
           sum(amount)
      FROM moved
     GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(grants) <> 0 OR sum(amount) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT ON CONSTRAINT grant_funder_tally_key
        DO UPDATE SET grants = t.grants + excluded.grants, amount = t.amount + excluded.amount;
    WITH moved AS (
        DELETE FROM grant_recipient_tally_pending WHERE txid = txid_current()
        RETURNING recipient_organization_id, year, status, visibility, support_type, currency, grants, amount
    )
    INSERT INTO grant_recipient_tally AS t
           (recipient_organization_id, year, status, visibility, support_type, currency, grants, amount)
    SELECT recipient_organization_id, year, status, visibility, support_type, currency, sum(grants), sum(amount)
      FROM moved
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(grants) <> 0 OR sum(amount) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT grant_recipient_tally_key
        DO UPDATE SET grants = t.grants + excluded.grants, amount = t.amount + excluded.amount;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER grant_tally_pending_apply
    AFTER INSERT ON grant_tally_pending DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION engagement_tallies_apply();
CREATE CONSTRAINT TRIGGER grant_funder_tally_pending_apply
    AFTER INSERT ON grant_funder_tally_pending DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION engagement_tallies_apply();
CREATE CONSTRAINT TRIGGER grant_recipient_tally_pending_apply
    AFTER INSERT ON grant_recipient_tally_pending DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION engagement_tallies_apply();

-- An engagement's change that moves it between tally rows (its day, region, status or visibility; the triggers of
-- the engagement tallies) moves its grant too, and its deletion takes the grant out while both rows are there. Its
-- parties, its agencies' places in the hierarchy and a council's visibility are no part of a grant's tally rows, so
-- the brackets of those changes leave the grants alone.
CREATE OR REPLACE FUNCTION engagement_tallies_row_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(ARRAY[OLD.id], -1);
    PERFORM grant_tally_add(ARRAY[OLD.id], -1);
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION engagement_tallies_row_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(ARRAY[NEW.id], 1);
    PERFORM grant_tally_add(ARRAY[NEW.id], 1);
    RETURN NULL;
END
$$;

-- A grant's own row: its contribution added when it is written (after its engagement's row), out before a change of
-- what the tallies hold and back after. Its deletion needs nothing of its own: a grant goes only with its engagement,
-- whose deletion took the grant's contribution out while both rows were there.
CREATE FUNCTION grant_tally_rows_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grant_tally_add(ARRAY(SELECT id FROM new_grants), 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER grants_tally_insert
    AFTER INSERT ON grants REFERENCING NEW TABLE AS new_grants
    FOR EACH STATEMENT EXECUTE FUNCTION grant_tally_rows_inserted();
CREATE FUNCTION grant_tally_row_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grant_tally_add(ARRAY[OLD.id], -1);
    RETURN NEW;
END
$$;
CREATE FUNCTION grant_tally_row_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grant_tally_add(ARRAY[NEW.id], 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER grants_tally_out
    BEFORE UPDATE OF funder_agency_id, funder_organization_id, recipient_organization_id, support_type, currency, amount
    ON grants
    FOR EACH ROW WHEN (OLD.funder_agency_id IS DISTINCT FROM NEW.funder_agency_id
                       OR OLD.funder_organization_id IS DISTINCT FROM NEW.funder_organization_id
                       OR OLD.recipient_organization_id IS DISTINCT FROM NEW.recipient_organization_id
                       OR OLD.support_type IS DISTINCT FROM NEW.support_type
                       OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION grant_tally_row_out();
CREATE TRIGGER grants_tally_in
    AFTER UPDATE OF funder_agency_id, funder_organization_id, recipient_organization_id, support_type, currency, amount
    ON grants
    FOR EACH ROW WHEN (OLD.funder_agency_id IS DISTINCT FROM NEW.funder_agency_id
                       OR OLD.funder_organization_id IS DISTINCT FROM NEW.funder_organization_id
                       OR OLD.recipient_organization_id IS DISTINCT FROM NEW.recipient_organization_id
                       OR OLD.support_type IS DISTINCT FROM NEW.support_type
                       OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION grant_tally_row_in();

-- Rebuilds the three tallies from the grants, set-based: the backfill below, and the end of a bulk load.
CREATE FUNCTION grant_tally_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE grant_tally, grant_funder_tally, grant_recipient_tally;
    INSERT INTO grant_tally (year, region_code, status, visibility, support_type, currency, grants, amount)
    SELECT date_trunc('year', e.starts_on)::date, e.region_code, e.status, e.visibility, g.support_type, g.currency,
           count(*), sum(g.amount)
      FROM grants g JOIN engagements e ON e.id = g.id
     GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO grant_funder_tally
           (funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency, grants,
            amount)
    SELECT g.funder_agency_id, g.funder_organization_id, date_trunc('year', e.starts_on)::date, e.status,
           e.visibility, g.support_type, g.currency, count(*), sum(g.amount)
      FROM grants g JOIN engagements e ON e.id = g.id
     GROUP BY 1, 2, 3, 4, 5, 6, 7;
    INSERT INTO grant_recipient_tally
           (recipient_organization_id, year, status, visibility, support_type, currency, grants, amount)
    SELECT g.recipient_organization_id, date_trunc('year', e.starts_on)::date, e.status, e.visibility,
           g.support_type, g.currency, count(*), sum(g.amount)
      FROM grants g JOIN engagements e ON e.id = g.id
     GROUP BY 1, 2, 3, 4, 5, 6;
$$;

SELECT grant_tally_rebuild();
