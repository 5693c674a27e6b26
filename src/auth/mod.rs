//! Authentication and authorisation: passwords, tokens, the caller extractor, revocation and the access policy.
//!
//! Below user accounts: the endpoints that log users in and out are in `sessions`.

pub mod caller;
pub mod password;
pub mod policy;
pub mod revocation;
pub mod session;
pub mod token;

pub use caller::{Actor, Caller};
pub use session::Sessions;
pub use token::TokenKeys;

pub use crate::domain::Role;
