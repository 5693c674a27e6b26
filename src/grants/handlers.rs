//! HTTP handlers of grants and the 360Giving export.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use super::model::{self, CreateGrant, Grant, GrantFilter, NEWEST, UpdateGrant};
use super::threesixty;
use crate::auth::policy::{EngagementFacts, owner_of_new};
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::batch::Batch;
use crate::engagements::write::{self, Core, Target, set_parties};
use crate::engagements::{EngagementKind, Party, PartyRole};
use crate::http::export::{self, EXPORT_BATCH};
use crate::http::{ApiError, ApiResult, FormatParam, Page, PageParams, ProblemResponses, Query};
use crate::organizations::Named;
use crate::state::AppState;

pub async fn check_filter(state: &AppState, filter: &GrantFilter) -> ApiResult<()> {
    for (value, field) in [
        (&filter.amount_min, "amount_min"),
        (&filter.amount_max, "amount_max"),
    ] {
        if let Some(v) = value {
            super::money::filter_amount(v, field)?;
        }
    }
    if let Some(c) = &filter.currency
        && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(ApiError::field(
            "currency",
            "must be a three-letter ISO 4217 code",
        ));
    }
    let mut conn = state.db().await?;
    if let Some(code) = &filter.region_code {
        crate::regions::ensure_exists(&mut conn, code, "region_code").await?;
    }
    if let Some(code) = &filter.sphere_code {
        crate::spheres::ensure_all_exist(&mut conn, std::slice::from_ref(code), "sphere_code")
            .await?;
    }
    Ok(())
}

/// Lists the grants the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "grants", params(GrantFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Grant> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/grants")]
pub async fn list_grants(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<GrantFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    check_filter(&state, &filter).await?;
    export::respond(
        &state,
        format.get(),
        &page,
        "grants",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// The awarded grants the caller may read (with the list's filters) as a 360Giving Data Standard package,
/// `{"grants": [...]}`, streamed. Identifiers start with `360G-hamkori-`.
#[utoipa::path(tag = "grants", params(GrantFilter),
    responses((status = 200, description = "A 360Giving JSON package", content_type = "application/json", body = Object),
        ProblemResponses))]
#[get("/grants/export/360giving")]
pub async fn export_360giving(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<GrantFilter>,
) -> ApiResult<HttpResponse> {
    let filter = GrantFilter {
        awarded_only: true,
        ..filter.0
    };
    check_filter(&state, &filter).await?;
    Ok(export::stream_json_package(
        "grants",
        "grants-360giving.json",
        state.pool.clone(),
        NEWEST,
        Box::new(move |conn, cursor| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move {
                let grants = model::list(conn, &caller, &filter, cursor, EXPORT_BATCH - 1).await?;
                threesixty::convert(conn, grants, NEWEST).await
            })
        }),
    ))
}

async fn save(conn: &mut Conn, actor: &Actor, target: Target, body: &CreateGrant) -> ApiResult<()> {
    let Target {
        id,
        owner,
        existing,
    } = target;
    let (amount, starts_on) = body.check_rules()?;
    let mut orgs = vec![(
        "recipient_organization_id".to_owned(),
        body.recipient_organization_id,
    )];
    orgs.extend(
        body.funder_organization_id
            .map(|o| ("funder_organization_id".to_owned(), o)),
    );
    let agencies = body
        .funder_agency_id
        .map(|a| ("funder_agency_id".to_owned(), a))
        .into_iter()
        .collect();
    let named = Named::actors(orgs, agencies);
    let core = Core {
        kind: EngagementKind::Grant,
        title: body.title.clone(),
        summary: body.description.clone(),
        status: body.status.into(),
        starts_on,
        ends_on: body.ends_on,
        region_code: body.region_code.clone(),
        sphere_codes: body.sphere_codes.clone(),
        visibility: body.visibility,
        owner_organization_id: owner,
        council_id: None,
        documents: Core::documents_json(&body.documents),
    };
    let mut batch = Batch::new(conn, existing);
    core.save(&mut batch, actor, id, named).await?;
    model::write_specific(&mut batch, id, body, &amount).await?;
    set_parties(&mut batch, id, &body.parties()).await?;
    Ok(batch.finish().await?)
}

/// The owner of a new grant and what the access policy needs to know of it, as the body describes it.
fn new_grant(actor: &Actor, body: &CreateGrant) -> (Option<Uuid>, EngagementFacts) {
    let owner = owner_of_new(actor, Some(body.recipient_organization_id));
    let mut named = body.parties();
    named.extend(
        body.funder_organization_id
            .map(|o| Party::organization(o, PartyRole::Funder)),
    );
    let facts = write::facts(EngagementKind::Grant, owner, None, &named);
    (owner, facts)
}

crate::engagement_create_handler! {
    tag: "grants", record: Grant, find: model::find, collection: "/grants",
    /// Records support given to an NGO (admins, and members of the recipient or the funding organisation).
    create_grant(CreateGrant) => new_grant, save,
}

crate::engagement_handlers! {
    tag: "grants", record: Grant, find: model::find,
    /// Gets one grant.
    get_grant: "/grants/{id}",
    /// Changes a grant.
    update_grant(UpdateGrant) => change,
    /// Deletes a grant.
    delete_grant,
    /// The change history of a grant.
    grant_history: "/grants/{id}/history",
}

/// Merges a PATCH into the grant as it was and saves the result.
async fn change(
    conn: &mut Conn,
    actor: &Actor,
    before: &Grant,
    changes: UpdateGrant,
) -> ApiResult<()> {
    let merged = changes.apply(before.clone());
    save(conn, actor, Target::replacing(before), &merged).await
}
