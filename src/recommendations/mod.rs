//! Recommendations: issued from an engagement to an agency, followed through their lifecycle to the end.

pub mod handlers;
pub mod lifecycle;
pub mod model;

pub use lifecycle::RecommendationStatus;
pub use model::Recommendation;
