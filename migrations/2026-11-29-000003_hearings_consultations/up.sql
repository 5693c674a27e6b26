-- Public hearings, draft-law consultations, and the NGOs' submissions with the agencies' responses.
CREATE TABLE hearings (
    id                 uuid PRIMARY KEY REFERENCES engagements (id) ON DELETE CASCADE,
    location           text,
    participants_count integer CHECK (participants_count >= 0),
    findings           text,
    media              jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE hearing_organizers (
    hearing_id      uuid NOT NULL REFERENCES hearings (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    position        integer NOT NULL,
    PRIMARY KEY (hearing_id, organization_id)
);
CREATE INDEX hearing_organizers_organization_idx ON hearing_organizers (organization_id);

CREATE TABLE hearing_invited_agencies (
    hearing_id uuid NOT NULL REFERENCES hearings (id) ON DELETE CASCADE,
    agency_id  uuid NOT NULL REFERENCES agencies (id) ON DELETE RESTRICT,
    position   integer NOT NULL,
    attended   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (hearing_id, agency_id)
);
CREATE INDEX hearing_invited_agencies_agency_idx ON hearing_invited_agencies (agency_id);

CREATE TABLE consultations (
    id                    uuid PRIMARY KEY REFERENCES engagements (id) ON DELETE CASCADE,
    act_type              text NOT NULL CHECK (act_type IN ('law', 'code', 'decree', 'government_resolution', 'regulation',
                              'local_act', 'strategy', 'other')),
    responsible_agency_id uuid NOT NULL REFERENCES agencies (id) ON DELETE RESTRICT,
    level                 text NOT NULL CHECK (level IN ('national', 'regional', 'district', 'city', 'jamoat')),
    opens_on              date NOT NULL,
    closes_on             date NOT NULL,
    draft_url             text,
    adopted_act           jsonb,
    CONSTRAINT consultations_closes_after_opens CHECK (closes_on >= opens_on)
);
CREATE INDEX consultations_agency_idx ON consultations (responsible_agency_id);
-- "Open on a day" reads the core's (kind, starts_on) index: the period is also the core's starts_on/ends_on.

CREATE TABLE submissions (
    id              uuid PRIMARY KEY,
    consultation_id uuid NOT NULL REFERENCES consultations (id) ON DELETE RESTRICT,
    provision       text,
    proposal        text NOT NULL CHECK (proposal <> ''),
    rationale       text,
    submitted_on    date NOT NULL,
    response_status text NOT NULL DEFAULT 'pending' CHECK (response_status IN ('pending', 'accepted', 'partially_accepted',
                        'rejected', 'not_considered')),
    response_text   text,
    responded_on    date,
    responded_by    uuid,
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
);
CREATE INDEX submissions_consultation_idx ON submissions (consultation_id, submitted_on DESC, id DESC);
CREATE INDEX submissions_submitted_idx ON submissions (submitted_on DESC, id DESC);
CREATE INDEX submissions_response_idx ON submissions (response_status, submitted_on DESC, id DESC);

CREATE TABLE submission_organizations (
    submission_id   uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    position        integer NOT NULL,
    PRIMARY KEY (submission_id, organization_id)
);
CREATE INDEX submission_organizations_organization_idx ON submission_organizations (organization_id, submission_id);
