//! HTTP handlers of public hearings.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use super::model::{self, CreateHearing, Hearing, HearingFilter, UpdateHearing};
use crate::auth::policy::{EngagementFacts, owner_of_new};
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::batch::Batch;
use crate::engagements::EngagementKind;
use crate::engagements::model::NEWEST;
use crate::engagements::write::{self, Core, Target, set_parties};
use crate::http::export::{self};
use crate::http::{ApiResult, FormatParam, Page, PageParams, ProblemResponses, Query};
use crate::state::AppState;

/// Lists the hearings the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "hearings", params(HearingFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Hearing> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/hearings")]
pub async fn list_hearings(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<HearingFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    if let Some(code) = &filter.region_code {
        crate::regions::ensure_exists(&mut *state.db().await?, code, "region_code").await?;
    }
    export::respond(
        &state,
        format.get(),
        &page,
        "hearings",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Checks a hearing body and writes the whole hearing: core, specific part, organisers, invitations, parties.
async fn save(
    conn: &mut Conn,
    actor: &Actor,
    target: Target,
    body: &CreateHearing,
) -> ApiResult<()> {
    let Target {
        id,
        owner,
        existing,
    } = target;
    let named = body.named()?;
    let core = Core {
        kind: EngagementKind::Hearing,
        title: body.title.clone(),
        summary: body.summary.clone(),
        status: body.status.into(),
        starts_on: body.starts_on,
        ends_on: None,
        region_code: body.region_code.clone(),
        sphere_codes: body.sphere_codes.clone(),
        visibility: body.visibility,
        owner_organization_id: owner,
        council_id: None,
        documents: Core::documents_json(&body.documents),
    };
    let mut batch = Batch::new(conn, existing);
    core.save(&mut batch, actor, id, named).await?;
    model::write_specific(&mut batch, id, body).await?;
    set_parties(&mut batch, id, &body.parties()).await?;
    Ok(batch.finish().await?)
}

/// The owner of a new hearing and what the access policy needs to know of it, as the body describes it.
fn new_hearing(actor: &Actor, body: &CreateHearing) -> (Option<Uuid>, EngagementFacts) {
    let owner = owner_of_new(actor, body.organizer_ids.first().copied());
    let facts = write::facts(EngagementKind::Hearing, owner, None, &body.parties());
    (owner, facts)
}

crate::engagement_create_handler! {
    tag: "hearings", record: Hearing, find: model::find, collection: "/hearings",
    /// Logs a hearing an NGO organised, alone or with partners (NGO members must list their own organisation).
    create_hearing(CreateHearing) => new_hearing, save,
}

crate::engagement_handlers! {
    tag: "hearings", record: Hearing, find: model::find,
    /// Gets one hearing.
    get_hearing: "/hearings/{id}",
    /// Changes a hearing; lists in the body replace the stored ones.
    update_hearing(UpdateHearing) => change,
    /// Deletes a hearing; 409 while recommendations come from it.
    delete_hearing,
    /// The change history of a hearing (admins, analysts and its organisers).
    hearing_history: "/hearings/{id}/history",
}

crate::engagement_withdraw_handler! {
    tag: "hearings", record: Hearing, find: model::find,
    /// Withdraws an organisation from a hearing another organisation recorded naming it co-organiser.
    withdraw_from_hearing: "/hearings/{id}/organizers/{organization_id}" => Organizer, model::remove_organizer,
}

/// Merges a PATCH into the hearing as it was and saves the result.
async fn change(
    conn: &mut Conn,
    actor: &Actor,
    before: &Hearing,
    changes: UpdateHearing,
) -> ApiResult<()> {
    let merged = changes.apply(before.clone());
    save(conn, actor, Target::replacing(before), &merged).await
}
