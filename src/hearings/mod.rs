//! Public hearings organised by civil society, with officials and the media invited.

pub mod handlers;
pub mod model;

pub use model::Hearing;
