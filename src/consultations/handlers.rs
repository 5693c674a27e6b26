//! HTTP handlers of consultations.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use super::model::{
    self, Consultation, ConsultationFilter, CreateConsultation, UpdateConsultation,
};
use crate::auth::policy::{EngagementFacts, owner_of_new};
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::batch::Batch;
use crate::engagements::model::NEWEST;
use crate::engagements::write::{self, Core, Target, set_parties};
use crate::engagements::{EngagementKind, Party, PartyRole};
use crate::http::export::{self};
use crate::http::{ApiResult, FormatParam, Page, PageParams, ProblemResponses, Query};
use crate::organizations::Named;
use crate::state::AppState;

/// Lists the consultations the caller may read, latest opening first; `open_on` finds those open on a day,
/// `open_from`/`open_to` those open at some time in a period; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "consultations", params(ConsultationFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Consultation> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/consultations")]
pub async fn list_consultations(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<ConsultationFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    filter.check()?;
    if let Some(code) = &filter.region_code {
        crate::regions::ensure_exists(&mut *state.db().await?, code, "region_code").await?;
    }
    export::respond(
        &state,
        format.get(),
        &page,
        "consultations",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

async fn save(
    conn: &mut Conn,
    actor: &Actor,
    target: Target,
    body: &CreateConsultation,
) -> ApiResult<()> {
    let Target {
        id,
        owner,
        existing,
    } = target;
    body.check_rules()?;
    let named = Named::actors(
        Vec::new(),
        vec![(
            "responsible_agency_id".to_owned(),
            body.responsible_agency_id,
        )],
    );
    let core = Core {
        kind: EngagementKind::Consultation,
        title: body.title.clone(),
        summary: body.summary.clone(),
        status: body.status.into(),
        starts_on: body.opens_on,
        ends_on: Some(body.closes_on),
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
    if batch.replacing() {
        // The submitters stay parties: read them back with the responsible agency.
        model::refresh_parties(batch.conn(), id).await
    } else {
        // A new consultation has no submissions yet: the responsible agency is its only party.
        let responsible = Party::agency(body.responsible_agency_id, PartyRole::Responsible);
        set_parties(&mut batch, id, &[responsible]).await?;
        Ok(batch.finish().await?)
    }
}

/// The owner of a new consultation and what the access policy needs to know of it (any NGO member may log one
/// for their organisation; the body names no organisation).
fn new_consultation(actor: &Actor, _: &CreateConsultation) -> (Option<Uuid>, EngagementFacts) {
    let owner = owner_of_new(actor, None);
    let facts = write::facts(EngagementKind::Consultation, owner, None, &[]);
    (owner, facts)
}

crate::engagement_create_handler! {
    tag: "consultations", record: Consultation, find: model::find, collection: "/consultations",
    /// Logs a consultation on a draft act (admins, and NGO members for their organisation).
    create_consultation(CreateConsultation) => new_consultation, save,
}

crate::engagement_handlers! {
    tag: "consultations", record: Consultation, find: model::find,
    /// Gets one consultation.
    get_consultation: "/consultations/{id}",
    /// Changes a consultation.
    update_consultation(UpdateConsultation) => change,
    /// Deletes a consultation; 409 while submissions or recommendations refer to it.
    delete_consultation,
    /// The change history of a consultation.
    consultation_history: "/consultations/{id}/history",
}

/// Merges a PATCH into the consultation as it was and saves the result.
async fn change(
    conn: &mut Conn,
    actor: &Actor,
    before: &Consultation,
    changes: UpdateConsultation,
) -> ApiResult<()> {
    let merged = changes.apply(before.clone());
    save(conn, actor, Target::replacing(before), &merged).await
}
