DROP INDEX grants_recipient_funder_agency_idx;
CREATE INDEX grants_recipient_idx ON grants (recipient_organization_id);
