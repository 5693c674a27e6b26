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
DROP FUNCTION grant_tally_apply();
DROP FUNCTION grant_tally_add(uuid[], integer);
DROP TABLE grant_recipient_tally_pending, grant_funder_tally_pending, grant_tally_pending, grant_recipient_tally,
    grant_funder_tally, grant_tally;
