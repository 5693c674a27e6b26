-- Engagements (the common core every kind shares), their parties, council members, meetings,
-- and recommendations with their status history.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE council_members (
    id                  uuid PRIMARY KEY,
    council_id          uuid NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    organization_id     uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    agency_id           uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    role                text NOT NULL CHECK (role IN ('chair', 'deputy_chair', 'secretary', 'member', 'observer')),
    representative_name text,
    since               date,
    until               date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1,
    CONSTRAINT council_members_one_actor CHECK ((organization_id IS NULL) <> (agency_id IS NULL)),
    CONSTRAINT council_members_until_after_since CHECK (until IS NULL OR since IS NULL OR until >= since),
    -- One organisation holds one seat per council at a time: terms of the same organisation never overlap.
    CONSTRAINT council_members_one_seat_per_organization EXCLUDE USING gist (
        council_id WITH =, organization_id WITH =, daterange(since, until, '[]') WITH &&
    ) WHERE (organization_id IS NOT NULL)
);
CREATE INDEX council_members_council_idx ON council_members (council_id, id);
CREATE INDEX council_members_organization_idx ON council_members (organization_id);
CREATE INDEX council_members_agency_idx ON council_members (agency_id);
CREATE INDEX councils_name_idx ON councils (name, id);
CREATE INDEX councils_created_at_idx ON councils (created_at, id);
CREATE INDEX councils_kind_idx ON councils (kind, name, id);
CREATE INDEX councils_region_idx ON councils (region_code, name, id);
CREATE INDEX councils_q_idx ON councils USING gin (name gin_trgm_ops);

CREATE TABLE engagements (
    id                    uuid PRIMARY KEY,
    kind                  text NOT NULL CHECK (kind IN ('meeting', 'hearing', 'consultation', 'monitoring_visit', 'grant')),
    title                 text NOT NULL CHECK (title <> ''),
    summary               text,
    status                text NOT NULL,
    starts_on             date NOT NULL,
    ends_on               date,
    region_code           text REFERENCES regions (code) ON DELETE RESTRICT,
    sphere_codes          text[] NOT NULL DEFAULT '{}' CHECK (array_position(sphere_codes, NULL) IS NULL),
    visibility            text NOT NULL DEFAULT 'internal' CHECK (visibility IN ('public', 'internal', 'restricted')),
    owner_organization_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    council_id            uuid REFERENCES councils (id) ON DELETE RESTRICT,
    documents             jsonb NOT NULL DEFAULT '[]',
    created_by            uuid,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               integer NOT NULL DEFAULT 1,
    search                tsvector GENERATED ALWAYS AS (
        to_tsvector('russian', title || ' ' || coalesce(summary, ''))
    ) STORED,
    CONSTRAINT engagements_ends_after_starts CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
-- Keyset pages run newest first on (starts_on, id); every filter leads an index of its own.
CREATE INDEX engagements_starts_idx ON engagements (starts_on DESC, id DESC);
CREATE INDEX engagements_kind_idx ON engagements (kind, starts_on DESC, id DESC);
CREATE INDEX engagements_council_idx ON engagements (council_id, starts_on DESC, id DESC);
CREATE INDEX engagements_region_idx ON engagements (region_code, starts_on DESC, id DESC);
CREATE INDEX engagements_status_idx ON engagements (status, starts_on DESC, id DESC);
CREATE INDEX engagements_visibility_idx ON engagements (visibility, starts_on DESC, id DESC);
CREATE INDEX engagements_owner_idx ON engagements (owner_organization_id);
CREATE INDEX engagements_spheres_idx ON engagements USING gin (sphere_codes);
CREATE INDEX engagements_search_idx ON engagements USING gin (search);

CREATE TABLE engagement_parties (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engagement_id   uuid NOT NULL REFERENCES engagements (id) ON DELETE CASCADE,
    organization_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    agency_id       uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    role            text NOT NULL CHECK (role IN ('organizer', 'participant', 'invited', 'host', 'responsible',
                        'submitter', 'monitor', 'operator', 'funder', 'recipient')),
    CONSTRAINT engagement_parties_one_actor CHECK ((organization_id IS NULL) <> (agency_id IS NULL))
);
CREATE UNIQUE INDEX engagement_parties_unique_idx
    ON engagement_parties (engagement_id, coalesce(organization_id, agency_id), role);
CREATE INDEX engagement_parties_organization_idx ON engagement_parties (organization_id, engagement_id);
CREATE INDEX engagement_parties_agency_idx ON engagement_parties (agency_id, engagement_id);

CREATE TABLE meetings (
    id         uuid PRIMARY KEY REFERENCES engagements (id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    location   text,
    format     text NOT NULL DEFAULT 'in_person' CHECK (format IN ('in_person', 'online', 'hybrid')),
    agenda     jsonb NOT NULL DEFAULT '[]',
    minutes    text
);

CREATE TABLE meeting_attendance (
    meeting_id          uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position            integer NOT NULL,
    organization_id     uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    agency_id           uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    representative_name text,
    present             boolean NOT NULL DEFAULT true,
    PRIMARY KEY (meeting_id, position),
    CONSTRAINT meeting_attendance_one_actor CHECK ((organization_id IS NULL) <> (agency_id IS NULL))
);
CREATE INDEX meeting_attendance_organization_idx ON meeting_attendance (organization_id);
CREATE INDEX meeting_attendance_agency_idx ON meeting_attendance (agency_id);

CREATE TABLE recommendations (
    id                     uuid PRIMARY KEY,
    engagement_id          uuid NOT NULL REFERENCES engagements (id) ON DELETE RESTRICT,
    text                   text NOT NULL CHECK (text <> ''),
    addressed_to_agency_id uuid NOT NULL REFERENCES agencies (id) ON DELETE RESTRICT,
    issued_on              date NOT NULL,
    due_on                 date,
    priority               text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
    status                 text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'acknowledged', 'in_progress',
                               'implemented', 'partially_implemented', 'rejected', 'no_response')),
    visibility             text NOT NULL DEFAULT 'internal' CHECK (visibility IN ('public', 'internal', 'restricted')),
    created_by             uuid,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    version                integer NOT NULL DEFAULT 1,
    CONSTRAINT recommendations_due_after_issued CHECK (due_on IS NULL OR due_on >= issued_on)
);
CREATE INDEX recommendations_issued_idx ON recommendations (issued_on DESC, id DESC);
CREATE INDEX recommendations_agency_idx ON recommendations (addressed_to_agency_id, issued_on DESC, id DESC);
CREATE INDEX recommendations_status_idx ON recommendations (status, issued_on DESC, id DESC);
CREATE INDEX recommendations_engagement_idx ON recommendations (engagement_id, issued_on DESC, id DESC);
CREATE INDEX recommendations_open_due_idx ON recommendations (due_on)
    WHERE status NOT IN ('implemented', 'partially_implemented', 'rejected');

CREATE TABLE recommendation_status_history (
    id                uuid PRIMARY KEY,
    recommendation_id uuid NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
    status            text NOT NULL,
    note              text,
    changed_at        timestamptz NOT NULL DEFAULT now(),
    changed_by        uuid
);
CREATE INDEX recommendation_status_history_idx ON recommendation_status_history (recommendation_id, id);
