-- The foundation: reference data, the directory of actors, users and their sessions, the audit log.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}(-[A-Z0-9]{1,12})*$'),
    parent_code text REFERENCES regions (code) ON DELETE RESTRICT,
    level       text NOT NULL CHECK (level IN ('country', 'region', 'district')),
    name_ru     text NOT NULL CHECK (name_ru <> ''),
    name_en     text NOT NULL CHECK (name_en <> ''),
    name_tg     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);
CREATE INDEX regions_parent_code_idx ON regions (parent_code);

CREATE TABLE spheres (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,62}$'),
    name_ru    text NOT NULL,
    name_en    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1
);

CREATE TABLE organizations (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL CHECK (name <> ''),
    short_name          text,
    kind                text NOT NULL CHECK (kind IN ('ngo', 'coalition', 'international_organization', 'donor', 'media', 'business', 'other')),
    registration_number text,
    registered_on       date,
    region_code         text REFERENCES regions (code) ON DELETE RESTRICT,
    settlement          text CHECK (settlement IN ('urban', 'rural')),
    sphere_codes        text[] NOT NULL DEFAULT '{}' CHECK (array_position(sphere_codes, NULL) IS NULL),
    website             text,
    email               text,
    phone               text,
    description         text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'dissolved')),
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1,
    CONSTRAINT organizations_registration_number_key UNIQUE (registration_number)
);
-- Keyset pages: every sort is (key, id); every filter has an index that leads with it.
CREATE INDEX organizations_name_idx ON organizations (name, id);
CREATE INDEX organizations_created_at_idx ON organizations (created_at, id);
CREATE INDEX organizations_kind_idx ON organizations (kind, name, id);
CREATE INDEX organizations_region_idx ON organizations (region_code, name, id);
CREATE INDEX organizations_status_idx ON organizations (status, name, id);
CREATE INDEX organizations_settlement_idx ON organizations (settlement, name, id);
CREATE INDEX organizations_spheres_idx ON organizations USING gin (sphere_codes);
CREATE INDEX organizations_q_idx ON organizations
    USING gin ((name || ' ' || coalesce(short_name, '')) gin_trgm_ops);

CREATE TABLE agencies (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    short_name  text,
    level       text NOT NULL CHECK (level IN ('national', 'regional', 'district', 'city', 'jamoat')),
    kind        text NOT NULL CHECK (kind IN ('parliament', 'presidential_administration', 'government', 'ministry',
                    'state_committee', 'agency', 'local_executive', 'law_enforcement', 'court', 'ombudsman', 'other')),
    parent_id   uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    region_code text REFERENCES regions (code) ON DELETE RESTRICT,
    website     text,
    description text,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    CONSTRAINT agencies_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX agencies_name_idx ON agencies (name, id);
CREATE INDEX agencies_created_at_idx ON agencies (created_at, id);
CREATE INDEX agencies_level_idx ON agencies (level, name, id);
CREATE INDEX agencies_kind_idx ON agencies (kind, name, id);
CREATE INDEX agencies_region_idx ON agencies (region_code, name, id);
CREATE INDEX agencies_parent_idx ON agencies (parent_id, name, id);
CREATE INDEX agencies_q_idx ON agencies
    USING gin ((name || ' ' || coalesce(short_name, '')) gin_trgm_ops);

-- Councils are part of the directory; a secretary is bound to them. Their endpoints come with meetings.
CREATE TABLE councils (
    id             uuid PRIMARY KEY,
    name           text NOT NULL CHECK (name <> ''),
    kind           text NOT NULL CHECK (kind IN ('public_council', 'coordination_council', 'expert_council', 'commission', 'working_group')),
    level          text NOT NULL CHECK (level IN ('national', 'regional', 'district', 'city', 'jamoat')),
    host_agency_id uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    parent_id      uuid REFERENCES councils (id) ON DELETE RESTRICT,
    region_code    text REFERENCES regions (code) ON DELETE RESTRICT,
    sphere_codes   text[] NOT NULL DEFAULT '{}' CHECK (array_position(sphere_codes, NULL) IS NULL),
    established_on date,
    dissolved_on   date,
    legal_basis    text,
    description    text,
    visibility     text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal', 'restricted')),
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    CONSTRAINT councils_dissolved_after_established CHECK (dissolved_on IS NULL OR established_on IS NULL OR dissolved_on >= established_on)
);
CREATE INDEX councils_host_agency_idx ON councils (host_agency_id);
CREATE INDEX councils_parent_idx ON councils (parent_id, name, id);

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    display_name    text NOT NULL CHECK (display_name <> ''),
    role            text NOT NULL CHECK (role IN ('admin', 'analyst', 'ngo_member', 'agency_officer', 'secretary')),
    organization_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    agency_id       uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    password_hash   text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_ngo_member_has_organization CHECK (role <> 'ngo_member' OR organization_id IS NOT NULL),
    CONSTRAINT users_agency_officer_has_agency CHECK (role <> 'agency_officer' OR agency_id IS NOT NULL)
);
CREATE INDEX users_created_at_idx ON users (created_at, id);
CREATE INDEX users_organization_idx ON users (organization_id);
CREATE INDEX users_agency_idx ON users (agency_id);

CREATE TABLE user_councils (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    council_id uuid NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, council_id)
);
CREATE INDEX user_councils_council_idx ON user_councils (council_id);

-- Refresh tokens are stored as SHA-256 digests; a family is one login, rotated on every refresh.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- Failed logins, kept in the database so that every API process sees the same count.
CREATE TABLE login_failures (
    id           bigserial PRIMARY KEY,
    email        text NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, attempted_at);
CREATE INDEX login_failures_attempted_idx ON login_failures (attempted_at);

CREATE TABLE audit_log (
    id          uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    action      text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    entity_type text NOT NULL,
    entity_id   text NOT NULL,
    before      jsonb,
    after       jsonb,
    request_id  text
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_type_idx ON audit_log (entity_type, id);

-- Reference data: the regions of Tajikistan and the spheres of cooperation named by the seed.
INSERT INTO regions (code, parent_code, level, name_ru, name_en, name_tg) VALUES
    ('TJ', NULL, 'country', 'Республика Таджикистан', 'Republic of Tajikistan', 'Ҷумҳурии Тоҷикистон'),
    ('TJ-DU', 'TJ', 'region', 'город Душанбе', 'Dushanbe', 'шаҳри Душанбе'),
    ('TJ-SU', 'TJ', 'region', 'Согдийская область', 'Sughd', 'вилояти Суғд'),
    ('TJ-KT', 'TJ', 'region', 'Хатлонская область', 'Khatlon', 'вилояти Хатлон'),
    ('TJ-GB', 'TJ', 'region', 'Горно-Бадахшанская автономная область', 'Gorno-Badakhshan', 'Вилояти Мухтори Кӯҳистони Бадахшон'),
    ('TJ-RA', 'TJ', 'region', 'Районы республиканского подчинения', 'Districts of Republican Subordination', 'Ноҳияҳои тобеи ҷумҳурӣ');

INSERT INTO spheres (code, name_ru, name_en) VALUES
    ('poverty_reduction', 'Сокращение бедности', 'Poverty reduction'),
    ('human_development', 'Развитие человеческого потенциала', 'Human development'),
    ('education', 'Образование', 'Education'),
    ('culture_leisure', 'Культура и досуг', 'Culture and leisure'),
    ('health', 'Здравоохранение', 'Health'),
    ('social_services', 'Социальные услуги', 'Social services'),
    ('human_rights', 'Права человека', 'Human rights'),
    ('environment', 'Охрана окружающей среды', 'Environment'),
    ('gender', 'Гендерное равенство', 'Gender equality'),
    ('vulnerable_groups', 'Уязвимые группы населения', 'Vulnerable groups'),
    ('minority_rights', 'Права меньшинств', 'Minority rights'),
    ('access_to_justice', 'Доступ к правосудию', 'Access to justice'),
    ('domestic_violence', 'Профилактика домашнего насилия', 'Domestic violence prevention'),
    ('migration', 'Миграция', 'Migration'),
    ('public_order', 'Общественный порядок', 'Public order');
