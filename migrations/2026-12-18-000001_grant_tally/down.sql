DROP FUNCTION grant_tally_rebuild();
DROP TRIGGER grants_tally_in ON grants;
DROP TRIGGER grants_tally_out ON grants;
DROP TRIGGER grants_tally_insert ON grants;
DROP FUNCTION grant_tally_row_in();
DROP FUNCTION grant_tally_row_out();
DROP FUNCTION grant_tally_rows_inserted();
CREATE OR REPLACE FUNCTION engagement_tallies_row_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(ARRAY[OLD.id], -1);
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION engagement_tallies_row_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_tallies_add(ARRAY[NEW.id], 1);
    RETURN NULL;
END
$$;
DROP TRIGGER grant_recipient_tally_pending_apply ON grant_recipient_tally_pending;
DROP TRIGGER grant_funder_tally_pending_apply ON grant_funder_tally_pending;
DROP TRIGGER grant_tally_pending_apply ON grant_tally_pending;
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
    RETURN NULL;
END
$$;
DROP FUNCTION grant_tally_add(uuid[], integer);
DROP TABLE grant_recipient_tally_pending, grant_funder_tally_pending, grant_tally_pending, grant_recipient_tally,
    grant_funder_tally, grant_tally;
