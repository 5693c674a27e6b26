-- The party timeline: one row per engagement and each organisation or agency in it (any party role, or the
-- owning organisation), carrying the engagement's `starts_on`, so that "an agency's (or an NGO's) engagements,
-- newest first" is a keyset walk of one index instead of gathering and sorting all of the actor's engagements
-- (docs/benchmarks.md, "the party timeline"). One row per actor and engagement, whatever the number of roles, so a page
-- never repeats an engagement. Kept by the triggers below in the statement that changes parties, owner or date.
CREATE TABLE engagement_timeline (
    actor_id      uuid NOT NULL,
    starts_on     date NOT NULL,
    engagement_id uuid NOT NULL REFERENCES engagements (id) ON DELETE CASCADE,
    -- Keyset pages walk this backwards: `(starts_on, engagement_id) < ($2, $3) ORDER BY starts_on DESC,
    -- engagement_id DESC` for one actor.
    PRIMARY KEY (actor_id, starts_on, engagement_id)
);
CREATE INDEX engagement_timeline_engagement_idx ON engagement_timeline (engagement_id);

-- Rewrites the timeline rows of these engagements from their parties, owner and date.
CREATE FUNCTION engagement_timeline_resync(ids uuid[]) RETURNS void LANGUAGE sql AS $$
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

CREATE FUNCTION engagement_timeline_parties_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_timeline_resync(ARRAY(SELECT DISTINCT engagement_id FROM new_parties));
    RETURN NULL;
END
$$;
CREATE TRIGGER engagement_parties_timeline_insert
    AFTER INSERT ON engagement_parties REFERENCING NEW TABLE AS new_parties
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_timeline_parties_inserted();

CREATE FUNCTION engagement_timeline_parties_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_timeline_resync(ARRAY(SELECT DISTINCT engagement_id FROM old_parties));
    RETURN NULL;
END
$$;
CREATE TRIGGER engagement_parties_timeline_delete
    AFTER DELETE ON engagement_parties REFERENCING OLD TABLE AS old_parties
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_timeline_parties_deleted();

CREATE FUNCTION engagement_timeline_parties_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_timeline_resync(ARRAY(SELECT engagement_id FROM old_parties
                                             UNION SELECT engagement_id FROM new_parties));
    RETURN NULL;
END
$$;
CREATE TRIGGER engagement_parties_timeline_update
    AFTER UPDATE ON engagement_parties REFERENCING OLD TABLE AS old_parties NEW TABLE AS new_parties
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_timeline_parties_updated();

CREATE FUNCTION engagement_timeline_engagements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id)
    SELECT owner_organization_id, starts_on, id FROM new_engagements WHERE owner_organization_id IS NOT NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER engagements_timeline_insert
    AFTER INSERT ON engagements REFERENCING NEW TABLE AS new_engagements
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_timeline_engagements_inserted();

CREATE FUNCTION engagement_timeline_engagement_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engagement_timeline_resync(ARRAY[NEW.id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER engagements_timeline_update
    AFTER UPDATE OF starts_on, owner_organization_id ON engagements
    FOR EACH ROW WHEN (OLD.starts_on IS DISTINCT FROM NEW.starts_on
                       OR OLD.owner_organization_id IS DISTINCT FROM NEW.owner_organization_id)
    EXECUTE FUNCTION engagement_timeline_engagement_changed();

INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id)
SELECT DISTINCT a.actor_id, e.starts_on, e.id
  FROM engagements e
 CROSS JOIN LATERAL (
        SELECT e.owner_organization_id
        UNION ALL
        SELECT coalesce(p.organization_id, p.agency_id) FROM engagement_parties p WHERE p.engagement_id = e.id
       ) AS a (actor_id)
 WHERE a.actor_id IS NOT NULL;
