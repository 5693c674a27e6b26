//! HTTP handlers of monitoring visits.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use super::model::{self, CreateVisit, NEWEST, OLDEST, UpdateVisit, Visit, VisitFilter};
use crate::auth::policy::{EngagementFacts, owner_of_new};
use crate::auth::{Actor, Caller, Role};
use crate::db::Conn;
use crate::db::batch::Batch;
use crate::db::sql::Fragment;
use crate::engagements::write::{self, Core, Target, set_parties};
use crate::engagements::{EngagementKind, Party, PartyRole};
use crate::facilities::Facility;
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, Output, Page, PageParams, Path, ProblemResponses,
    Query,
};
use crate::organizations::Named;
use crate::state::AppState;

async fn page(
    state: &AppState,
    caller: Caller,
    filter: VisitFilter,
    sort: &'static str,
    params: &PageParams,
    format: Output,
) -> ApiResult<HttpResponse> {
    if let Some(code) = &filter.region_code {
        crate::regions::ensure_exists(&mut *state.db().await?, code, "region_code").await?;
    }
    export::respond(
        state,
        format,
        params,
        "monitoring-visits",
        sort,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, sort, cursor, limit).await })
        }),
    )
    .await
}

/// Lists the visits the caller may read, newest first; confidential findings are redacted for outsiders.
#[utoipa::path(tag = "monitoring", params(VisitFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Visit> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/monitoring-visits")]
pub async fn list_visits(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<VisitFilter>,
    params: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    page(&state, caller, filter.0, NEWEST, &params, format.get()).await
}

/// A facility's visits, oldest first: what it was and what it became.
#[utoipa::path(tag = "monitoring", params(IdPath, VisitFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Visit> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/facilities/{id}/visits")]
pub async fn list_facility_visits(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
    filter: Query<VisitFilter>,
    params: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    Facility::find(&mut *state.db().await?, path.id).await?;
    let filter = VisitFilter {
        facility_id: Some(path.id),
        ..filter.0
    };
    page(&state, caller, filter, OLDEST, &params, format.get()).await
}

/// A new mandate, for the check of what a visit names: only a council the author may read, since the mandate makes
/// its secretaries readers of the visit. One they may not read gets exactly the 422 of one that does not exist, so
/// the answer cannot reveal a restricted council.
fn mandate(actor: &Actor, council: Option<Uuid>) -> Option<(Vec<(String, Uuid)>, Fragment)> {
    council.map(|council| {
        (
            vec![("mandate_council_id".to_owned(), council)],
            crate::councils::model::readable_sql(&actor.caller()),
        )
    })
}

async fn save(conn: &mut Conn, actor: &Actor, target: Target, body: &CreateVisit) -> ApiResult<()> {
    let Target {
        id,
        owner,
        existing,
    } = target;
    let facility = Facility::find_for_field(conn, body.facility_id, "facility_id").await?;
    let mut named = model::monitors_named(&body.monitor_organization_ids)?;
    if !existing {
        named.councils = mandate(actor, body.mandate_council_id);
    }
    let core = Core {
        kind: EngagementKind::MonitoringVisit,
        title: body
            .title
            .clone()
            .unwrap_or_else(|| format!("Мониторинговый визит: {}", facility.name)),
        summary: body.summary.clone(),
        status: body.status.into(),
        starts_on: body.visited_on,
        ends_on: None,
        region_code: facility.region_code.clone(),
        sphere_codes: body
            .sphere_codes
            .clone()
            .unwrap_or_else(|| vec!["human_rights".to_owned()]),
        visibility: body.visibility,
        owner_organization_id: owner,
        council_id: body.mandate_council_id,
        documents: Core::documents_json(&body.documents),
    };
    let mut batch = Batch::new(conn, existing);
    core.save(&mut batch, actor, id, named).await?;
    model::write_specific(&mut batch, id, body).await?;
    let mut parties: Vec<Party> = body
        .monitor_organization_ids
        .iter()
        .map(|o| Party::organization(*o, PartyRole::Monitor))
        .collect();
    parties.push(Party::agency(
        facility.operating_agency_id,
        PartyRole::Operator,
    ));
    set_parties(&mut batch, id, &parties).await?;
    Ok(batch.finish().await?)
}

/// The owner of a new visit and what the access policy needs to know of it, as the body describes it.
fn new_visit(actor: &Actor, body: &CreateVisit) -> (Option<Uuid>, EngagementFacts) {
    let owner = owner_of_new(actor, body.monitor_organization_ids.first().copied());
    let monitors: Vec<Party> = body
        .monitor_organization_ids
        .iter()
        .map(|o| Party::organization(*o, PartyRole::Monitor))
        .collect();
    let facts = write::facts(
        EngagementKind::MonitoringVisit,
        owner,
        body.mandate_council_id,
        &monitors,
    );
    (owner, facts)
}

crate::engagement_create_handler! {
    tag: "monitoring", record: Visit, find: model::find, collection: "/monitoring-visits",
    /// Records a monitoring visit (admins, and NGO members for visits their organisation monitors).
    create_visit(CreateVisit) => new_visit, save,
}

/// Merges a PATCH into the visit as it was and saves the result.
async fn change(
    conn: &mut Conn,
    actor: &Actor,
    before: &Visit,
    changes: UpdateVisit,
) -> ApiResult<()> {
    let stored = model::stored_findings(conn, before.id).await?;
    let merged = changes.apply(before.clone(), stored);
    if actor.role == Role::NgoMember
        && !actor
            .organization_id
            .is_some_and(|o| merged.monitor_organization_ids.contains(&o))
    {
        return Err(ApiError::field(
            "monitor_organization_ids",
            "must still include your organisation",
        ));
    }
    // Only a new mandate is checked: a monitor may edit a visit whose council they cannot read.
    if merged.mandate_council_id != before.mandate_council_id {
        let named = Named {
            councils: mandate(actor, merged.mandate_council_id),
            ..Named::default()
        };
        named.ensure_exist(conn).await?;
    }
    save(conn, actor, Target::replacing(before), &merged).await
}

crate::engagement_withdraw_handler! {
    tag: "monitoring", record: Visit, find: model::find,
    /// Withdraws an organisation from a visit another organisation recorded naming it co-monitor.
    withdraw_from_visit: "/monitoring-visits/{id}/monitors/{organization_id}" => Monitor, model::remove_monitor,
}

crate::engagement_handlers! {
    tag: "monitoring", record: Visit, find: model::find,
    /// Gets one visit; confidential findings are redacted for anyone but its monitors and admins.
    get_visit: "/monitoring-visits/{id}",
    /// Changes a visit; lists in the body replace the stored ones.
    update_visit(UpdateVisit) => change,
    /// Deletes a visit; 409 while recommendations come from it.
    delete_visit,
    /// The change history of a visit (admins, analysts and its monitors); confidential text is never in it.
    visit_history: "/monitoring-visits/{id}/history",
}
