//! Organisations: NGOs and other non-state actors (a public directory).

pub mod handlers;
pub mod model;

pub use model::{Named, Organization, OrganizationFilter, ensure_actors_exist};
