//! `GET /engagements` and `GET /engagements/{id}`.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};

use super::model::{self, Engagement, EngagementFilter, NEWEST};
use crate::auth::Caller;
use crate::auth::policy::{self, Action, Record};
use crate::engagements::write::KindRecord;
use crate::http::export::{self};
use crate::http::{
    ApiResult, FormatParam, IdPath, Page, PageParams, Path, ProblemResponses, Query, ok_versioned,
};
use crate::state::AppState;
use crate::{regions, spheres};

/// Lists engagements of every kind the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "engagements", params(EngagementFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Engagement> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/engagements")]
pub async fn list_engagements(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<EngagementFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    let mut conn = state.db().await?;
    check_filter(&mut conn, &filter).await?;
    drop(conn);
    export::respond(
        &state,
        format.get(),
        &page,
        "engagements",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Refuses filters that name a region or sphere that does not exist, or a range that ends before it starts.
pub async fn check_filter(conn: &mut crate::db::Conn, filter: &EngagementFilter) -> ApiResult<()> {
    if let Some(code) = &filter.region_code {
        regions::ensure_exists(conn, code, "region_code").await?;
    }
    if let Some(code) = &filter.sphere_code {
        spheres::ensure_all_exist(conn, std::slice::from_ref(code), "sphere_code").await?;
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        return Err(crate::http::ApiError::field(
            "to",
            "must not be before `from`",
        ));
    }
    Ok(())
}

/// Gets one engagement's common core with its parties and documents.
#[utoipa::path(tag = "engagements", params(IdPath),
    responses((status = 200, body = Engagement, headers(("ETag" = String))), ProblemResponses))]
#[get("/engagements/{id}")]
pub async fn get_engagement(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let engagement = model::find(&mut conn, &caller, path.id).await?;
    Ok(ok_versioned(&engagement, engagement.version))
}

/// The change history of an engagement of any kind, for admins, analysts and those who may change it.
pub async fn history<T: KindRecord>(
    state: &AppState,
    actor: &crate::auth::Actor,
    record: &T,
    page: &PageParams,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    policy::check(
        actor,
        Action::ReadHistory,
        Record::Engagement(&record.facts()),
    )?;
    let filter = crate::audit::AuditFilter {
        entity_type: Some(T::ENTITY.to_owned()),
        entity_id: Some(record.id().to_string()),
        actor_id: None,
        hide_users: true,
        directory_only: false,
    };
    crate::audit::handlers::history_page(state, filter, page).await
}

/// Declares what every kind of engagement serves alike: its get (with `ETag`), its update and delete (through
/// the one audited write path, which requires `If-Match` on both; the kind's `change` merges a PATCH into the
/// record as it was and saves it; a delete is 409 while recommendations come from it) and its change history.
/// Each is still one function per route for the OpenAPI document; the kind names them, documents them and gives
/// their paths. The calling module imports actix-web's `get`, `patch` and `delete` attributes (utoipa reads them by
/// those names).
#[macro_export]
macro_rules! engagement_handlers {
    (
        tag: $tag:literal, record: $record:ty, find: $find:path,
        $(#[$get_doc:meta])* $get:ident: $item:literal,
        $(#[$update_doc:meta])* $update:ident($changes:ty) => $change:path,
        $(#[$delete_doc:meta])* $delete:ident,
        $(#[$history_doc:meta])* $history:ident: $history_path:literal $(,)?
    ) => {
        $(#[$get_doc])*
        #[utoipa::path(tag = $tag, params($crate::http::IdPath),
            responses((status = 200, body = $record, headers(("ETag" = String))), $crate::http::ProblemResponses))]
        #[get($item)]
        pub async fn $get(
            state: actix_web::web::Data<$crate::state::AppState>,
            caller: $crate::auth::Caller,
            path: $crate::http::Path<$crate::http::IdPath>,
        ) -> $crate::http::ApiResult<actix_web::HttpResponse> {
            let record = $find(&mut *state.db().await?, &caller, path.id).await?;
            Ok($crate::http::ok_versioned(&record, record.version))
        }

        $(#[$update_doc])*
        #[utoipa::path(tag = $tag, params($crate::http::IdPath, ("If-Match" = String, Header, description = "The ETag last read (required: 428 without it)")),
            request_body = $changes, security(("bearer" = [])),
            responses((status = 200, body = $record, headers(("ETag" = String))), $crate::http::PreconditionResponses, $crate::http::ProblemResponses))]
        #[patch($item)]
        pub async fn $update(
            state: actix_web::web::Data<$crate::state::AppState>,
            actor: $crate::auth::Actor,
            path: $crate::http::Path<$crate::http::IdPath>,
            if_match: $crate::http::IfMatch,
            body: $crate::http::Json<$changes>,
        ) -> $crate::http::ApiResult<actix_web::HttpResponse> {
            let changes = body.0;
            let record = $crate::engagements::write::existing(&actor, path.id, $crate::auth::policy::Action::Update, $find)
                .update(&mut *state.db().await?, &actor, &if_match, async |conn, before| {
                    $change(conn, &actor, before, changes).await
                })
                .await?;
            Ok($crate::http::ok_versioned(&record, record.version))
        }

        $(#[$delete_doc])*
        #[utoipa::path(tag = $tag, params($crate::http::IdPath, ("If-Match" = String, Header, description = "The ETag last read (required: 428 without it)")),
            security(("bearer" = [])), responses((status = 204, description = "Deleted"), $crate::http::PreconditionResponses, $crate::http::ProblemResponses))]
        #[delete($item)]
        pub async fn $delete(
            state: actix_web::web::Data<$crate::state::AppState>,
            actor: $crate::auth::Actor,
            path: $crate::http::Path<$crate::http::IdPath>,
            if_match: $crate::http::IfMatch,
        ) -> $crate::http::ApiResult<actix_web::HttpResponse> {
            use $crate::engagements::write;
            write::existing(&actor, path.id, $crate::auth::policy::Action::Delete, $find)
                .delete(&mut *state.db().await?, &actor, &if_match, write::remove)
                .await?;
            Ok(actix_web::HttpResponse::NoContent().finish())
        }

        $(#[$history_doc])*
        #[utoipa::path(tag = $tag, params($crate::http::IdPath, $crate::http::PageParams), security(("bearer" = [])),
            responses((status = 200, body = $crate::http::Page<$crate::audit::AuditEntry>), $crate::http::ProblemResponses))]
        #[get($history_path)]
        pub async fn $history(
            state: actix_web::web::Data<$crate::state::AppState>,
            actor: $crate::auth::Actor,
            path: $crate::http::Path<$crate::http::IdPath>,
            page: $crate::http::Query<$crate::http::PageParams>,
        ) -> $crate::http::ApiResult<actix_web::web::Json<$crate::http::Page<$crate::audit::AuditEntry>>> {
            // The kind's own find: 404 for an id of another kind, as on its other routes.
            let record = $find(&mut *state.db().await?, &actor.caller(), path.id).await?;
            $crate::engagements::handlers::history(&state, &actor, &record, &page).await
        }
    };
}

/// Declares the create route of a kind whose new records need nothing but the body: the kind's `new` gives the
/// owner and what the policy needs to know (`EngagementFacts`) from the actor and the body, its `save` writes the
/// record, and the one audited write path does the rest. The calling module imports actix-web's `post`.
#[macro_export]
macro_rules! engagement_create_handler {
    (
        tag: $tag:literal, record: $record:ty, find: $find:path, collection: $collection:literal,
        $(#[$doc:meta])* $create:ident($body:ty) => $new:path, $save:path $(,)?
    ) => {
        $(#[$doc])*
        #[utoipa::path(tag = $tag, request_body = $body, security(("bearer" = [])),
            responses((status = 201, body = $record, headers(("Location" = String), ("ETag" = String))), $crate::http::ProblemResponses))]
        #[post($collection)]
        pub async fn $create(
            state: actix_web::web::Data<$crate::state::AppState>,
            actor: $crate::auth::Actor,
            body: $crate::http::Json<$body>,
        ) -> $crate::http::ApiResult<actix_web::HttpResponse> {
            use $crate::engagements::write::{self, Target};
            let body = body.0;
            let id = uuid::Uuid::now_v7();
            let (owner, facts) = $new(&actor, &body);
            let save = async |conn: &mut $crate::db::Conn| {
                $save(conn, &actor, Target::new(id, owner), &body).await
            };
            let record = write::create(&mut *state.db().await?, &actor, &facts, id, save, $find).await?;
            let location = format!(concat!("/api/v1", $collection, "/{}"), id);
            Ok($crate::http::created(&location, &record, record.version))
        }
    };
}

/// Declares a kind's withdrawal route: an organisation named on the record by another leaves the role `$role`
/// (its members and admins may; the owner deletes the record instead; the last one cannot leave, 409). It answers
/// 204: the organisation may no longer read what it left.
/// `$unlink(conn, id, organization_id)` removes it from the kind's rows and answers how many remain. The calling
/// module imports actix-web's `delete` attribute.
#[macro_export]
macro_rules! engagement_withdraw_handler {
    (
        tag: $tag:literal, record: $record:ty, find: $find:path,
        $(#[$doc:meta])* $name:ident: $path:literal => $role:ident, $unlink:path $(,)?
    ) => {
        $(#[$doc])*
        #[utoipa::path(tag = $tag, params($crate::http::PartyPath, ("If-Match" = String, Header, description = "The ETag last read (required: 428 without it)")),
            security(("bearer" = [])),
            responses((status = 204, description = "Withdrawn"), $crate::http::PreconditionResponses, $crate::http::ProblemResponses))]
        #[delete($path)]
        pub async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            actor: $crate::auth::Actor,
            path: $crate::http::Path<$crate::http::PartyPath>,
            if_match: $crate::http::IfMatch,
        ) -> $crate::http::ApiResult<actix_web::HttpResponse> {
            let $crate::http::PartyPath { id, organization_id } = path.0;
            let withdrawal = $crate::engagements::write::Withdrawal {
                id,
                organization: organization_id,
                role: $crate::engagements::PartyRole::$role,
            };
            withdrawal
                .apply::<$record>(&mut *state.db().await?, &actor, &if_match, $find, async |conn| {
                    $unlink(conn, id, organization_id).await
                })
                .await?;
            Ok(actix_web::HttpResponse::NoContent().finish())
        }
    };
}
