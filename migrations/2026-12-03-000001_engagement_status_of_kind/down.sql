ALTER TABLE engagements DROP CONSTRAINT engagements_status_of_kind;
