ALTER TABLE submissions DROP COLUMN owner_organization_id;
