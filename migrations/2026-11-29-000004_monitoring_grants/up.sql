-- Monitored facilities, monitoring visits with (sometimes confidential) findings, and grants and other support.
CREATE TABLE facilities (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL CHECK (name <> ''),
    facility_type       text NOT NULL CHECK (facility_type IN ('temporary_detention', 'pretrial_detention', 'police_station',
                            'prison', 'psychiatric_institution', 'social_care_home', 'children_institution',
                            'migrant_detention', 'military', 'other')),
    operating_agency_id uuid NOT NULL REFERENCES agencies (id) ON DELETE RESTRICT,
    region_code         text REFERENCES regions (code) ON DELETE RESTRICT,
    address             text,
    capacity            integer CHECK (capacity >= 0),
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1
);
CREATE INDEX facilities_name_idx ON facilities (name, id);
CREATE INDEX facilities_created_at_idx ON facilities (created_at, id);
CREATE INDEX facilities_type_idx ON facilities (facility_type, name, id);
CREATE INDEX facilities_agency_idx ON facilities (operating_agency_id, name, id);
CREATE INDEX facilities_region_idx ON facilities (region_code, name, id);

CREATE TABLE monitoring_visits (
    id                 uuid PRIMARY KEY REFERENCES engagements (id) ON DELETE CASCADE,
    facility_id        uuid NOT NULL REFERENCES facilities (id) ON DELETE RESTRICT,
    announced          boolean NOT NULL DEFAULT false,
    mandate_council_id uuid REFERENCES councils (id) ON DELETE RESTRICT,
    access             text CHECK (access IN ('granted', 'partial', 'refused'))
);
CREATE INDEX monitoring_visits_facility_idx ON monitoring_visits (facility_id);
CREATE INDEX monitoring_visits_council_idx ON monitoring_visits (mandate_council_id);

CREATE TABLE visit_monitors (
    visit_id        uuid NOT NULL REFERENCES monitoring_visits (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    position        integer NOT NULL,
    PRIMARY KEY (visit_id, organization_id)
);
CREATE INDEX visit_monitors_organization_idx ON visit_monitors (organization_id);

CREATE TABLE visit_findings (
    visit_id     uuid NOT NULL REFERENCES monitoring_visits (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    category     text NOT NULL CHECK (category IN ('conditions', 'treatment', 'legal_safeguards', 'health_care', 'food_water',
                     'contact_with_outside', 'documentation', 'staff_conduct', 'other')),
    severity     text NOT NULL CHECK (severity IN ('info', 'minor', 'serious', 'critical')),
    description  text,
    confidential boolean NOT NULL DEFAULT false,
    PRIMARY KEY (visit_id, position)
);

CREATE TABLE grants (
    id                        uuid PRIMARY KEY REFERENCES engagements (id) ON DELETE CASCADE,
    support_type              text NOT NULL CHECK (support_type IN ('grant', 'subsidy', 'state_social_order', 'premises',
                                  'tax_benefit', 'in_kind', 'other')),
    funder_agency_id          uuid REFERENCES agencies (id) ON DELETE RESTRICT,
    funder_organization_id    uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    recipient_organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    program                   text,
    amount                    numeric NOT NULL CHECK (amount >= 0),
    currency                  text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    awarded_on                date,
    reports                   jsonb NOT NULL DEFAULT '[]',
    CONSTRAINT grants_one_funder CHECK ((funder_agency_id IS NULL) <> (funder_organization_id IS NULL))
);
CREATE INDEX grants_funder_agency_idx ON grants (funder_agency_id);
CREATE INDEX grants_funder_organization_idx ON grants (funder_organization_id);
CREATE INDEX grants_recipient_idx ON grants (recipient_organization_id);
CREATE INDEX grants_support_type_idx ON grants (support_type);
CREATE INDEX grants_currency_amount_idx ON grants (currency, amount);
