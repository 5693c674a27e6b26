-- The calendar files a consultation under the last day of its comment period (the core row's `ends_on`);
-- meetings and hearings use `engagements_kind_idx` on `(kind, starts_on)`.
CREATE INDEX engagements_consultation_closes_idx ON engagements (ends_on, id) WHERE kind = 'consultation';
