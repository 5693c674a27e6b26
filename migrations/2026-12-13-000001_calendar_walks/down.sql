CREATE OR REPLACE FUNCTION engagement_timeline_engagements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id)
    SELECT owner_organization_id, starts_on, id FROM new_engagements WHERE owner_organization_id IS NOT NULL;
    PERFORM engagement_tallies_add(ARRAY(SELECT id FROM new_engagements), 1);
    RETURN NULL;
END
$$;

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

DROP INDEX engagement_timeline_kind_idx;
ALTER TABLE engagement_timeline DROP COLUMN kind;
DROP INDEX engagements_consultation_period_idx;
DROP INDEX engagements_consultation_region_closes_idx;
DROP INDEX engagements_calendar_region_idx;
