DROP TRIGGER councils_tallies_in ON councils;
DROP TRIGGER councils_tallies_out ON councils;
DROP FUNCTION engagement_tallies_council_in();
DROP FUNCTION engagement_tallies_council_out();
DROP FUNCTION engagement_tallies_council_meetings(uuid);
DROP TRIGGER agencies_tallies_in ON agencies;
DROP TRIGGER agencies_tallies_out ON agencies;
DROP FUNCTION engagement_tallies_agency_in();
DROP FUNCTION engagement_tallies_agency_out();
DROP FUNCTION engagement_tallies_agency_subtree(uuid);
DROP TRIGGER engagements_a_tallies_delete ON engagements;
DROP TRIGGER engagements_a_tallies_in ON engagements;
DROP TRIGGER engagements_a_tallies_out ON engagements;
DROP FUNCTION engagement_tallies_row_in();
DROP FUNCTION engagement_tallies_row_out();
CREATE OR REPLACE FUNCTION engagement_timeline_engagements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id)
    SELECT owner_organization_id, starts_on, id FROM new_engagements WHERE owner_organization_id IS NOT NULL;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION engagement_timeline_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
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
$$;
DROP FUNCTION engagement_tallies_rebuild();
DROP TRIGGER engagement_agency_tally_pending_apply ON engagement_agency_tally_pending;
DROP TRIGGER engagement_tally_pending_apply ON engagement_tally_pending;
DROP FUNCTION engagement_tallies_apply();
DROP FUNCTION engagement_tallies_add(uuid[], integer);
DROP TABLE engagement_agency_tally_pending;
DROP TABLE engagement_tally_pending;
DROP FUNCTION engagement_tallies_deferred();
DROP FUNCTION engagement_subtree_agencies(uuid[]);
DROP TABLE engagement_agency_tally;
DROP TABLE engagement_tally;
