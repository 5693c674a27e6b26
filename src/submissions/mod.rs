//! Submissions to consultations and the agencies' answers to them.

pub mod handlers;
pub mod model;

pub use model::Submission;
