//! `GET /audit` and the shared `GET /<resource>/{id}/history` helper.

use actix_web::get;
use actix_web::web::{self, Data};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use super::{AuditEntry, AuditFilter, NEWEST};
use crate::auth::Actor;
use crate::http::{ApiError, ApiResult, Page, PageParams, ProblemResponses, Query};
use crate::state::AppState;

/// Filters of `GET /audit`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Kind of record: `organization`, `agency`, `user`, `region`, …
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub entity_type: Option<String>,
    /// The record's id (or a region's code).
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub entity_id: Option<String>,
    /// The user who made the changes.
    pub actor_id: Option<Uuid>,
}

/// Lists audit entries, newest first: everything for admins; for analysts the directory (engagements' changes
/// are read through each record's `/history`, under its own read rule).
#[utoipa::path(tag = "audit", params(AuditQuery, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEntry>), ProblemResponses))]
#[get("/audit")]
pub async fn list_audit(
    state: Data<AppState>,
    actor: Actor,
    filter: Query<AuditQuery>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    if !actor.may_read_audit() {
        return Err(ApiError::Forbidden(
            "Only admins and analysts may read the audit log.",
        ));
    }
    let filter = AuditFilter {
        entity_type: filter.0.entity_type,
        entity_id: filter.0.entity_id,
        actor_id: filter.0.actor_id,
        hide_users: !actor.is_admin(),
        directory_only: !actor.is_admin(),
    };
    history_page(&state, filter, &page).await
}

/// A page of audit entries; the nouns' `history` handlers call this after their own access check.
pub async fn history_page(
    state: &AppState,
    filter: AuditFilter,
    page: &PageParams,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    let mut conn = state.db().await?;
    let rows = super::list(&mut conn, &filter, page.cursor(NEWEST)?, page.limit()).await?;
    Ok(web::Json(Page::from_rows(rows, page.limit(), NEWEST)))
}
