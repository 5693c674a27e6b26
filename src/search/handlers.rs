//! HTTP handler of search.

use actix_web::get;
use actix_web::web::{self, Data};

use super::model::{self, RANKED, SearchHit, SearchParams};
use crate::auth::Caller;
use crate::http::{ApiResult, Page, PageParams, ProblemResponses, Query};
use crate::state::AppState;

/// Searches engagements (title, summary, a meeting's agenda and minutes, a hearing's findings, a visit's
/// non-confidential findings), recommendations, submissions (provision, proposal, rationale, the answer),
/// organisations and agencies (name, short name, registration number, description): the records the caller may
/// read, titles matching first, then newest first. Russian words match in any form, other words as written.
/// Matching words are marked `⟦…⟧` in `snippet`. Confidential findings are never searched.
#[utoipa::path(tag = "search", params(SearchParams, PageParams),
    responses((status = 200, body = Page<SearchHit>), ProblemResponses))]
#[get("/search")]
pub async fn search(
    state: Data<AppState>,
    caller: Caller,
    params: Query<SearchParams>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<SearchHit>>> {
    params.check()?;
    let cursor = page.cursor(RANKED)?;
    let mut conn = state.db().await?;
    let rows = model::search(&mut conn, &caller, &params, cursor, page.limit()).await?;
    Ok(web::Json(Page::from_rows(rows, page.limit(), RANKED)))
}
