//! Authentication: passwords, tokens, the caller extractor, login/refresh/logout, and the access policy.

pub mod caller;
pub mod handlers;
pub mod password;
pub mod policy;
pub mod token;

pub use caller::{Actor, Caller};
pub use token::TokenKeys;

pub use crate::domain::Role;
