//! Monitoring visits to facilities, with findings that may be confidential.

pub mod handlers;
pub mod model;

pub use model::Visit;
