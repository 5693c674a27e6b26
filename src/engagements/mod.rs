//! Engagements: the common core of every kind of interaction, its parties, and the cross-kind list.

pub mod handlers;
pub mod model;
pub mod write;

pub use crate::domain::{EngagementKind, PartyRole, Visibility};
pub use model::{Document, Engagement, NamedParty, Party};
