//! Agencies: government bodies, optionally under a parent agency (a public directory).

pub mod handlers;
pub mod model;

pub use model::{Agency, AgencyFilter, GovernmentLevel};
