-- The calendar's walks (src/calendar/model.rs, docs/benchmarks.md "the calendar at a million engagements").
--
-- A region's events of one kind in day order: without these the calendar of one region walked every event of the
-- window in day order and dropped the other regions' (174 ms at a million engagements, for 1,688 events).
CREATE INDEX engagements_calendar_region_idx ON engagements (kind, region_code, starts_on, id)
    WHERE kind IN ('meeting', 'hearing');
CREATE INDEX engagements_consultation_region_closes_idx ON engagements (region_code, ends_on, id)
    WHERE kind = 'consultation';
-- The longest comment period, read as one index entry: the calendar of an organisation or agency finds its
-- consultations closing in a window through the party timeline (ordered by the first day) from the window's first
-- day less this many days, which no consultation closing in the window can start before.
CREATE INDEX engagements_consultation_period_idx ON engagements ((ends_on - starts_on))
    WHERE kind = 'consultation';

-- The party timeline carries the engagement's kind (which never changes), so that an actor's calendar reads only
-- the ids of its meetings, hearings and consultations and looks up no grant or visit: the busiest agency's feed
-- looked up 3,590 engagements for its 1,215 events.
ALTER TABLE engagement_timeline ADD COLUMN kind text;
UPDATE engagement_timeline t SET kind = e.kind FROM engagements e WHERE e.id = t.engagement_id;
ALTER TABLE engagement_timeline ALTER COLUMN kind SET NOT NULL;
CREATE INDEX engagement_timeline_kind_idx ON engagement_timeline (actor_id, kind, starts_on, engagement_id);

CREATE OR REPLACE FUNCTION engagement_timeline_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    SELECT engagement_tallies_add(ids, -1);
    DELETE FROM engagement_timeline WHERE engagement_id = ANY(ids);
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id, kind)
    SELECT DISTINCT a.actor_id, e.starts_on, e.id, e.kind
      FROM engagements e
     CROSS JOIN LATERAL (
            SELECT e.owner_organization_id
            UNION ALL
            SELECT coalesce(p.organization_id, p.agency_id) FROM engagement_parties p WHERE p.engagement_id = e.id
           ) AS a (actor_id)
     WHERE e.id = ANY(ids) AND a.actor_id IS NOT NULL;
    SELECT engagement_tallies_add(ids, 1);
$$;

CREATE OR REPLACE FUNCTION engagement_timeline_engagements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id, kind)
    SELECT owner_organization_id, starts_on, id, kind FROM new_engagements WHERE owner_organization_id IS NOT NULL;
    PERFORM engagement_tallies_add(ARRAY(SELECT id FROM new_engagements), 1);
    RETURN NULL;
END
$$;
