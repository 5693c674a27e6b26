//! Authentication: passwords, tokens, the caller extractor, login/refresh/logout, and the access policy.

pub mod caller;
pub mod handlers;
pub mod password;
pub mod policy;
pub mod token;

pub use caller::{Actor, Caller};
pub use token::TokenKeys;

crate::text_enum! {
    /// What a user may do (DESIGN.md §1, §5).
    pub enum Role {
        /// Manages users and reference data, may change anything.
        Admin => "admin",
        /// Reads every non-restricted record.
        Analyst => "analyst",
        /// Staff of one organisation.
        NgoMember => "ngo_member",
        /// Officer of one agency; answers what is addressed to it.
        AgencyOfficer => "agency_officer",
        /// Secretary of one or more councils.
        Secretary => "secretary",
    }
}
