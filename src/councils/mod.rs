//! Councils: standing consultative bodies with branches, commissions and members (a public directory).

pub mod handlers;
pub mod members;
pub mod model;

pub use model::{Council, Member};
