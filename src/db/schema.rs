// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    agencies (id) {
        id -> Uuid,
        name -> Text,
        short_name -> Nullable<Text>,
        level -> Text,
        kind -> Text,
        parent_id -> Nullable<Uuid>,
        region_code -> Nullable<Text>,
        website -> Nullable<Text>,
        description -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        request_id -> Nullable<Text>,
        client_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    consultations (id) {
        id -> Uuid,
        act_type -> Text,
        responsible_agency_id -> Uuid,
        level -> Text,
        opens_on -> Date,
        closes_on -> Date,
        draft_url -> Nullable<Text>,
        adopted_act -> Nullable<Jsonb>,
    }
}

diesel::table! {
    council_members (id) {
        id -> Uuid,
        council_id -> Uuid,
        organization_id -> Nullable<Uuid>,
        agency_id -> Nullable<Uuid>,
        role -> Text,
        representative_name -> Nullable<Text>,
        since -> Nullable<Date>,
        until -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    councils (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        level -> Text,
        host_agency_id -> Nullable<Uuid>,
        parent_id -> Nullable<Uuid>,
        region_code -> Nullable<Text>,
        sphere_codes -> Array<Text>,
        established_on -> Nullable<Date>,
        dissolved_on -> Nullable<Date>,
        legal_basis -> Nullable<Text>,
        description -> Nullable<Text>,
        visibility -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    engagement_agency_tally (id) {
        id -> Int8,
        agency_id -> Uuid,
        scope -> Text,
        month -> Date,
        kind -> Text,
        status -> Text,
        visibility -> Text,
        council_visibility -> Nullable<Text>,
        engagements -> Int8,
    }
}

diesel::table! {
    engagement_agency_tally_pending (id) {
        id -> Int8,
        txid -> Int8,
        agency_id -> Uuid,
        scope -> Text,
        month -> Date,
        kind -> Text,
        status -> Text,
        visibility -> Text,
        council_visibility -> Nullable<Text>,
        engagements -> Int8,
    }
}

diesel::table! {
    engagement_parties (id) {
        id -> Int8,
        engagement_id -> Uuid,
        organization_id -> Nullable<Uuid>,
        agency_id -> Nullable<Uuid>,
        role -> Text,
    }
}

diesel::table! {
    engagement_tally (id) {
        id -> Int8,
        kind -> Text,
        month -> Date,
        region_code -> Nullable<Text>,
        status -> Text,
        visibility -> Text,
        council_visibility -> Nullable<Text>,
        engagements -> Int8,
    }
}

diesel::table! {
    engagement_tally_pending (id) {
        id -> Int8,
        txid -> Int8,
        kind -> Text,
        month -> Date,
        region_code -> Nullable<Text>,
        status -> Text,
        visibility -> Text,
        council_visibility -> Nullable<Text>,
        engagements -> Int8,
    }
}

diesel::table! {
    engagement_timeline (actor_id, starts_on, engagement_id) {
        actor_id -> Uuid,
        starts_on -> Date,
        engagement_id -> Uuid,
        kind -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    engagements (id) {
        id -> Uuid,
        kind -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        status -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        region_code -> Nullable<Text>,
        sphere_codes -> Array<Text>,
        visibility -> Text,
        owner_organization_id -> Nullable<Uuid>,
        council_id -> Nullable<Uuid>,
        documents -> Jsonb,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        search -> Nullable<Tsvector>,
    }
}

diesel::table! {
    facilities (id) {
        id -> Uuid,
        name -> Text,
        facility_type -> Text,
        operating_agency_id -> Uuid,
        region_code -> Nullable<Text>,
        address -> Nullable<Text>,
        capacity -> Nullable<Int4>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    grant_funder_tally (id) {
        id -> Int8,
        funder_agency_id -> Nullable<Uuid>,
        funder_organization_id -> Nullable<Uuid>,
        year -> Date,
        status -> Text,
        visibility -> Text,
        support_type -> Text,
        currency -> Text,
        grants -> Int8,
        amount -> Numeric,
    }
}

diesel::table! {
    grant_funder_tally_pending (id) {
        id -> Int8,
        txid -> Int8,
        funder_agency_id -> Nullable<Uuid>,
        funder_organization_id -> Nullable<Uuid>,
        year -> Date,
        status -> Text,
        visibility -> Text,
        support_type -> Text,
        currency -> Text,
        grants -> Int8,
        amount -> Numeric,
    }
}

diesel::table! {
    grant_recipient_tally (id) {
        id -> Int8,
        recipient_organization_id -> Uuid,
        year -> Date,
        status -> Text,
        visibility -> Text,
        support_type -> Text,
        currency -> Text,
        grants -> Int8,
        amount -> Numeric,
    }
}

diesel::table! {
    grant_recipient_tally_pending (id) {
        id -> Int8,
        txid -> Int8,
        recipient_organization_id -> Uuid,
        year -> Date,
        status -> Text,
        visibility -> Text,
        support_type -> Text,
        currency -> Text,
        grants -> Int8,
        amount -> Numeric,
    }
}

diesel::table! {
    grant_tally (id) {
        id -> Int8,
        year -> Date,
        region_code -> Nullable<Text>,
        status -> Text,
        visibility -> Text,
        support_type -> Text,
        currency -> Text,
        grants -> Int8,
        amount -> Numeric,
    }
}

diesel::table! {
    grant_tally_pending (id) {
        id -> Int8,
        txid -> Int8,
        year -> Date,
        region_code -> Nullable<Text>,
        status -> Text,
        visibility -> Text,
        support_type -> Text,
        currency -> Text,
        grants -> Int8,
        amount -> Numeric,
    }
}

diesel::table! {
    grants (id) {
        id -> Uuid,
        support_type -> Text,
        funder_agency_id -> Nullable<Uuid>,
        funder_organization_id -> Nullable<Uuid>,
        recipient_organization_id -> Uuid,
        program -> Nullable<Text>,
        amount -> Numeric,
        currency -> Text,
        awarded_on -> Nullable<Date>,
        reports -> Jsonb,
    }
}

diesel::table! {
    hearing_invited_agencies (hearing_id, agency_id) {
        hearing_id -> Uuid,
        agency_id -> Uuid,
        position -> Int4,
        attended -> Bool,
    }
}

diesel::table! {
    hearing_organizers (hearing_id, organization_id) {
        hearing_id -> Uuid,
        organization_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    hearings (id) {
        id -> Uuid,
        location -> Nullable<Text>,
        participants_count -> Nullable<Int4>,
        findings -> Nullable<Text>,
        media -> Jsonb,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        fingerprint -> Bytea,
        status -> Nullable<Int2>,
        headers -> Nullable<Jsonb>,
        body -> Nullable<Bytea>,
        created_at -> Timestamptz,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Text,
        attempted_at -> Timestamptz,
        client -> Text,
    }
}

diesel::table! {
    meeting_attendance (meeting_id, position) {
        meeting_id -> Uuid,
        position -> Int4,
        organization_id -> Nullable<Uuid>,
        agency_id -> Nullable<Uuid>,
        representative_name -> Nullable<Text>,
        present -> Bool,
    }
}

diesel::table! {
    meetings (id) {
        id -> Uuid,
        starts_at -> Timestamptz,
        location -> Nullable<Text>,
        format -> Text,
        agenda -> Jsonb,
        minutes -> Nullable<Text>,
        minutes_recorded_on -> Nullable<Date>,
    }
}

diesel::table! {
    monitoring_visits (id) {
        id -> Uuid,
        facility_id -> Uuid,
        announced -> Bool,
        mandate_council_id -> Nullable<Uuid>,
        access -> Nullable<Text>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        registration_number -> Nullable<Text>,
        registered_on -> Nullable<Date>,
        region_code -> Nullable<Text>,
        settlement -> Nullable<Text>,
        sphere_codes -> Array<Text>,
        website -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        description -> Nullable<Text>,
        status -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    recommendation_facts (recommendation_id) {
        recommendation_id -> Uuid,
        first_answered_on -> Nullable<Date>,
        agency_status -> Nullable<Text>,
        agency_first_answered_on -> Nullable<Date>,
        engagement_id -> Uuid,
        addressed_to_agency_id -> Uuid,
        issuer_organization_id -> Nullable<Uuid>,
        issued_on -> Date,
        due_on -> Nullable<Date>,
        status -> Text,
        status_source -> Text,
        priority -> Text,
        kind -> Text,
        region_code -> Nullable<Text>,
        audience -> Int2,
        planned_visit -> Bool,
    }
}

diesel::table! {
    recommendation_status_history (id) {
        id -> Uuid,
        recommendation_id -> Uuid,
        status -> Text,
        note -> Nullable<Text>,
        changed_at -> Timestamptz,
        changed_by -> Nullable<Uuid>,
        recorder_role -> Nullable<Text>,
        recorder_organization_id -> Nullable<Uuid>,
        recorder_agency_id -> Nullable<Uuid>,
        effective_on -> Date,
        evidence_url -> Nullable<Text>,
        source -> Text,
    }
}

diesel::table! {
    recommendations (id) {
        id -> Uuid,
        engagement_id -> Uuid,
        text -> Text,
        addressed_to_agency_id -> Uuid,
        issued_on -> Date,
        due_on -> Nullable<Date>,
        priority -> Text,
        status -> Text,
        visibility -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        issuer_organization_id -> Nullable<Uuid>,
        status_source -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        client -> Nullable<Text>,
    }
}

diesel::table! {
    regions (code) {
        code -> Text,
        parent_code -> Nullable<Text>,
        level -> Text,
        name_ru -> Text,
        name_en -> Text,
        name_tg -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    search_entries (entity_id) {
        entity_id -> Uuid,
        entity_type -> Text,
        engagement_id -> Nullable<Uuid>,
        kind -> Nullable<Text>,
        region_code -> Nullable<Text>,
        sorts_on -> Date,
        title -> Text,
        body -> Text,
        title_doc -> Nullable<Tsvector>,
        document -> Nullable<Tsvector>,
    }
}

diesel::table! {
    spheres (code) {
        code -> Text,
        name_ru -> Text,
        name_en -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    submission_facts (id) {
        id -> Uuid,
        consultation_id -> Uuid,
        submitted_on -> Date,
        response_status -> Text,
        responded_on -> Nullable<Date>,
        response_source -> Nullable<Text>,
        responsible_agency_id -> Uuid,
        act_type -> Text,
        level -> Text,
        closes_on -> Date,
        audience -> Int2,
    }
}

diesel::table! {
    submission_organizations (submission_id, organization_id) {
        submission_id -> Uuid,
        organization_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    submissions (id) {
        id -> Uuid,
        consultation_id -> Uuid,
        provision -> Nullable<Text>,
        proposal -> Text,
        rationale -> Nullable<Text>,
        submitted_on -> Date,
        response_status -> Text,
        response_text -> Nullable<Text>,
        responded_on -> Nullable<Date>,
        responded_by -> Nullable<Uuid>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        response_recorder_role -> Nullable<Text>,
        response_recorder_organization_id -> Nullable<Uuid>,
        response_recorder_agency_id -> Nullable<Uuid>,
        response_recorded_at -> Nullable<Timestamptz>,
        response_evidence_url -> Nullable<Text>,
        response_source -> Nullable<Text>,
        owner_organization_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    user_councils (user_id, council_id) {
        user_id -> Uuid,
        council_id -> Uuid,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        display_name -> Text,
        role -> Text,
        organization_id -> Nullable<Uuid>,
        agency_id -> Nullable<Uuid>,
        password_hash -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        session_version -> Int4,
        disabled -> Bool,
    }
}

diesel::table! {
    visit_findings (visit_id, position) {
        visit_id -> Uuid,
        position -> Int4,
        category -> Text,
        severity -> Text,
        description -> Nullable<Text>,
        confidential -> Bool,
    }
}

diesel::table! {
    visit_monitors (visit_id, organization_id) {
        visit_id -> Uuid,
        organization_id -> Uuid,
        position -> Int4,
    }
}

diesel::joinable!(agencies -> regions (region_code));
diesel::joinable!(consultations -> agencies (responsible_agency_id));
diesel::joinable!(consultations -> engagements (id));
diesel::joinable!(council_members -> agencies (agency_id));
diesel::joinable!(council_members -> councils (council_id));
diesel::joinable!(council_members -> organizations (organization_id));
diesel::joinable!(councils -> agencies (host_agency_id));
diesel::joinable!(councils -> regions (region_code));
diesel::joinable!(engagement_parties -> agencies (agency_id));
diesel::joinable!(engagement_parties -> engagements (engagement_id));
diesel::joinable!(engagement_parties -> organizations (organization_id));
diesel::joinable!(engagement_timeline -> engagements (engagement_id));
diesel::joinable!(engagements -> councils (council_id));
diesel::joinable!(engagements -> organizations (owner_organization_id));
diesel::joinable!(engagements -> regions (region_code));
diesel::joinable!(facilities -> agencies (operating_agency_id));
diesel::joinable!(facilities -> regions (region_code));
diesel::joinable!(grants -> agencies (funder_agency_id));
diesel::joinable!(grants -> engagements (id));
diesel::joinable!(hearing_invited_agencies -> agencies (agency_id));
diesel::joinable!(hearing_invited_agencies -> hearings (hearing_id));
diesel::joinable!(hearing_organizers -> hearings (hearing_id));
diesel::joinable!(hearing_organizers -> organizations (organization_id));
diesel::joinable!(hearings -> engagements (id));
diesel::joinable!(meeting_attendance -> agencies (agency_id));
diesel::joinable!(meeting_attendance -> meetings (meeting_id));
diesel::joinable!(meeting_attendance -> organizations (organization_id));
diesel::joinable!(meetings -> engagements (id));
diesel::joinable!(monitoring_visits -> councils (mandate_council_id));
diesel::joinable!(monitoring_visits -> engagements (id));
diesel::joinable!(monitoring_visits -> facilities (facility_id));
diesel::joinable!(organizations -> regions (region_code));
diesel::joinable!(recommendation_facts -> recommendations (recommendation_id));
diesel::joinable!(recommendation_status_history -> recommendations (recommendation_id));
diesel::joinable!(recommendations -> agencies (addressed_to_agency_id));
diesel::joinable!(recommendations -> engagements (engagement_id));
diesel::joinable!(recommendations -> organizations (issuer_organization_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(search_entries -> engagements (engagement_id));
diesel::joinable!(submission_facts -> submissions (id));
diesel::joinable!(submission_organizations -> organizations (organization_id));
diesel::joinable!(submission_organizations -> submissions (submission_id));
diesel::joinable!(submissions -> consultations (consultation_id));
diesel::joinable!(submissions -> organizations (owner_organization_id));
diesel::joinable!(user_councils -> councils (council_id));
diesel::joinable!(user_councils -> users (user_id));
diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(visit_findings -> monitoring_visits (visit_id));
diesel::joinable!(visit_monitors -> monitoring_visits (visit_id));
diesel::joinable!(visit_monitors -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    audit_log,
    consultations,
    council_members,
    councils,
    engagement_agency_tally,
    engagement_agency_tally_pending,
    engagement_parties,
    engagement_tally,
    engagement_tally_pending,
    engagement_timeline,
    engagements,
    facilities,
    grant_funder_tally,
    grant_funder_tally_pending,
    grant_recipient_tally,
    grant_recipient_tally_pending,
    grant_tally,
    grant_tally_pending,
    grants,
    hearing_invited_agencies,
    hearing_organizers,
    hearings,
    idempotency_keys,
    login_failures,
    meeting_attendance,
    meetings,
    monitoring_visits,
    organizations,
    recommendation_facts,
    recommendation_status_history,
    recommendations,
    refresh_tokens,
    regions,
    search_entries,
    spheres,
    submission_facts,
    submission_organizations,
    submissions,
    user_councils,
    users,
    visit_findings,
    visit_monitors,
);
