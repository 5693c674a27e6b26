-- Provenance of every answer: who recorded a recommendation's status change or a submission's response, in
-- which role and for which organisation or agency, the day it took effect, evidence, and whose word it is
-- (`source`: `agency` when the addressed/responsible agency recorded it itself).

ALTER TABLE recommendation_status_history
    ADD COLUMN recorder_role            text CHECK (recorder_role IN ('admin', 'secretary', 'ngo_member',
                                            'agency_officer', 'analyst')),
    ADD COLUMN recorder_organization_id uuid,
    ADD COLUMN recorder_agency_id       uuid,
    ADD COLUMN effective_on             date,
    ADD COLUMN evidence_url             text CHECK (evidence_url <> ''),
    ADD COLUMN source                   text CHECK (source IN ('agency', 'ngo', 'secretary', 'admin'));

-- Rows written before: the recorder's current role and binding is the best that is known.
UPDATE recommendation_status_history h
SET recorder_role = u.role,
    recorder_organization_id = u.organization_id,
    recorder_agency_id = u.agency_id
FROM users u
WHERE u.id = h.changed_by;
UPDATE recommendation_status_history
SET effective_on = (changed_at AT TIME ZONE 'UTC')::date,
    source = CASE recorder_role
        WHEN 'agency_officer' THEN 'agency'
        WHEN 'ngo_member' THEN 'ngo'
        WHEN 'secretary' THEN 'secretary'
        ELSE 'admin' END;
ALTER TABLE recommendation_status_history
    ALTER COLUMN effective_on SET NOT NULL,
    ALTER COLUMN source SET NOT NULL;

-- The issuing organisation (for "our recommendations"), and the source of the current status (for lists and
-- statistics that count only what an agency itself recorded).
ALTER TABLE recommendations
    ADD COLUMN issuer_organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
    ADD COLUMN status_source text CHECK (status_source IN ('agency', 'ngo', 'secretary', 'admin'));
UPDATE recommendations r
SET issuer_organization_id = coalesce(
        (SELECT u.organization_id FROM users u
         WHERE u.id = r.created_by AND u.role = 'ngo_member'
           AND u.organization_id = (SELECT e.owner_organization_id FROM engagements e WHERE e.id = r.engagement_id)),
        (SELECT e.owner_organization_id FROM engagements e WHERE e.id = r.engagement_id));
UPDATE recommendations r
SET status_source = (SELECT h.source FROM recommendation_status_history h
                     WHERE h.recommendation_id = r.id ORDER BY h.id DESC LIMIT 1);
UPDATE recommendations SET status_source = 'admin' WHERE status_source IS NULL;
ALTER TABLE recommendations ALTER COLUMN status_source SET NOT NULL;
CREATE INDEX recommendations_issuer_idx ON recommendations (issuer_organization_id, issued_on DESC, id DESC);

ALTER TABLE submissions
    ADD COLUMN response_recorder_role            text CHECK (response_recorder_role IN ('admin', 'secretary',
                                                     'ngo_member', 'agency_officer', 'analyst')),
    ADD COLUMN response_recorder_organization_id uuid,
    ADD COLUMN response_recorder_agency_id       uuid,
    ADD COLUMN response_recorded_at              timestamptz,
    ADD COLUMN response_evidence_url             text CHECK (response_evidence_url <> ''),
    ADD COLUMN response_source                   text CHECK (response_source IN ('agency', 'ngo', 'secretary',
                                                     'admin'));
UPDATE submissions s
SET response_recorder_role = u.role,
    response_recorder_organization_id = u.organization_id,
    response_recorder_agency_id = u.agency_id,
    response_recorded_at = s.updated_at,
    response_source = CASE u.role
        WHEN 'agency_officer' THEN 'agency'
        WHEN 'ngo_member' THEN 'ngo'
        WHEN 'secretary' THEN 'secretary'
        ELSE 'admin' END
FROM users u
WHERE u.id = s.responded_by;
CREATE INDEX submissions_response_source_idx ON submissions (response_source, submitted_on DESC, id DESC)
    WHERE response_source IS NOT NULL;
