//! Sessions over HTTP: log in, refresh, log out, and who am I (`/auth/…`, tagged `auth` in the API document).
//!
//! These endpoints read user accounts, and user accounts use `auth` (passwords, the caller, revocation), so
//! they live here, above both, rather than in `auth`.

pub mod handlers;
pub mod throttle;
