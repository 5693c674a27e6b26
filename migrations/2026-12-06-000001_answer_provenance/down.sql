DROP INDEX submissions_response_source_idx;
ALTER TABLE submissions
    DROP COLUMN response_recorder_role,
    DROP COLUMN response_recorder_organization_id,
    DROP COLUMN response_recorder_agency_id,
    DROP COLUMN response_recorded_at,
    DROP COLUMN response_evidence_url,
    DROP COLUMN response_source;
DROP INDEX recommendations_issuer_idx;
ALTER TABLE recommendations DROP COLUMN issuer_organization_id, DROP COLUMN status_source;
ALTER TABLE recommendation_status_history
    DROP COLUMN recorder_role,
    DROP COLUMN recorder_organization_id,
    DROP COLUMN recorder_agency_id,
    DROP COLUMN effective_on,
    DROP COLUMN evidence_url,
    DROP COLUMN source;
