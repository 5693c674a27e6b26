// @generated automatically by Diesel CLI.

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
    login_failures (id) {
        id -> Int8,
        email -> Text,
        attempted_at -> Timestamptz,
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
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
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
    }
}

diesel::joinable!(agencies -> regions (region_code));
diesel::joinable!(councils -> agencies (host_agency_id));
diesel::joinable!(councils -> regions (region_code));
diesel::joinable!(organizations -> regions (region_code));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(user_councils -> councils (council_id));
diesel::joinable!(user_councils -> users (user_id));
diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(users -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    audit_log,
    councils,
    login_failures,
    organizations,
    refresh_tokens,
    regions,
    spheres,
    user_councils,
    users,
);
