//! Meetings of councils: status, time, place, format, agenda, attendance, minutes and documents.

pub mod handlers;
pub mod model;

pub use model::Meeting;
