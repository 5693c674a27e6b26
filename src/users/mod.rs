//! User accounts: admins manage them; each user has one of five roles and the bindings the role needs.

pub mod handlers;
pub mod model;

pub use model::User;
