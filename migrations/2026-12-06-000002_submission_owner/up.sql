-- A submission's owner: the organisation that made it. Co-submitters it names may read it and withdraw, not
-- change it (consent, DESIGN.md §2).
ALTER TABLE submissions ADD COLUMN owner_organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL;
UPDATE submissions s
SET owner_organization_id = coalesce(
        (SELECT u.organization_id FROM users u
         WHERE u.id = s.created_by AND u.role = 'ngo_member'
           AND EXISTS (SELECT 1 FROM submission_organizations so
                       WHERE so.submission_id = s.id AND so.organization_id = u.organization_id)),
        (SELECT so.organization_id FROM submission_organizations so
         WHERE so.submission_id = s.id ORDER BY so.position LIMIT 1));
