//! `GET /search`: one ranked list across engagements, recommendations, submissions, organisations and agencies,
//! under the lists' read rules (docs/search.md).

pub mod handlers;
pub mod model;

pub use model::{SearchHit, SearchParams, SearchType};
