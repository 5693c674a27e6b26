CREATE INDEX engagements_visibility_idx ON engagements (visibility, starts_on DESC, id DESC);
