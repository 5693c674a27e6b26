DROP FUNCTION grant_tally_rebuild();
DROP TRIGGER grants_tally_in ON grants;
DROP TRIGGER grants_tally_out ON grants;
DROP TRIGGER grants_tally_insert ON grants;
DROP FUNCTION grant_tally_row_in();
DROP FUNCTION grant_tally_row_out();
DROP FUNCTION grant_tally_rows_inserted();
CREATE OR REPLACE FUNCTION engagement_tallies_add(ids uuid[], sign integer) RETURNS void LANGUAGE sql AS $$
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
DROP TRIGGER grant_recipient_tally_pending_apply ON grant_recipient_tally_pending;
DROP TRIGGER grant_funder_tally_pending_apply ON grant_funder_tally_pending;
DROP TRIGGER grant_tally_pending_apply ON grant_tally_pending;
DROP FUNCTION grant_tally_apply();
DROP FUNCTION grant_tally_add(uuid[], integer);
DROP TABLE grant_recipient_tally_pending, grant_funder_tally_pending, grant_tally_pending, grant_recipient_tally,
    grant_funder_tally, grant_tally;
