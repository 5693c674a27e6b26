//! Grants and other support to NGOs, and their 360Giving export.

pub mod handlers;
pub mod model;
pub mod money;
pub mod threesixty;

pub use model::Grant;
