//! Facilities: the monitored places (a public directory; admins write).

pub mod handlers;
pub mod model;

pub use model::Facility;
