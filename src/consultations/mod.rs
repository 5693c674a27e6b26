//! Public consultations on draft laws and normative acts.

pub mod handlers;
pub mod model;

pub use model::Consultation;
