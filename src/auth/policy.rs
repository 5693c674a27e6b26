//! The access policy of DESIGN.md §5, in one place: who may change which part of the directory.

use uuid::Uuid;

use super::{Actor, Role};
use crate::http::ApiError;

impl Actor {
    /// Whether the actor is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Refuses anyone but an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Only an admin may do this."))
        }
    }

    /// Refuses anyone but the listed roles.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Your role may not do this."))
        }
    }

    /// Admins, and members of the organisation itself, may edit an organisation.
    pub fn may_edit_organization(&self, organization_id: Uuid) -> bool {
        self.is_admin()
            || (self.role == Role::NgoMember && self.organization_id == Some(organization_id))
    }

    /// Admins, and secretaries of the council, may edit a council and its members.
    pub fn may_edit_council(&self, council_id: Uuid) -> bool {
        self.is_admin() || (self.role == Role::Secretary && self.council_ids.contains(&council_id))
    }

    /// Admins and analysts read the whole audit log.
    pub fn may_read_audit(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Analyst)
    }
}

impl Actor {
    /// The actor of changes made by the server itself (start-up, the CLI, demo data): the nil user id.
    pub fn system() -> Self {
        Self {
            id: Uuid::nil(),
            role: Role::Admin,
            organization_id: None,
            agency_id: None,
            council_ids: Vec::new(),
            request_id: "system".to_owned(),
        }
    }
}
