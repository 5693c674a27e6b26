-- Grants by recipient, then funding agency. `GET /stats/overlaps` looks up, for each seat an organisation holds now,
-- the grants the council's host agency gave that organisation. With the recipient alone indexed Postgres read every
-- grant and hashed it against the seats: 80-89 ms at a million engagements (200,000 grants, 1,100 seats held now),
-- against 25 ms along this index (docs/benchmarks.md, "a fresh data set with council seats"). It replaces the
-- recipient's own index, whose lookups it serves as well.
DROP INDEX grants_recipient_idx;
CREATE INDEX grants_recipient_funder_agency_idx ON grants (recipient_organization_id, funder_agency_id);
