//! The write path every kind shares: the core row, its parties, and who may change it.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{Document, EngagementKind, EngagementRow, Party, PartyRole, Visibility};
use crate::auth::{Actor, Role};
use crate::db::Conn;
use crate::db::schema::{engagement_parties, engagements};
use crate::http::{ApiError, ApiResult};
use crate::{regions, spheres};

/// The core fields a kind writes; the kind derives them from its own body.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = engagements, treat_none_as_null = true)]
pub struct Core {
    /// Kind.
    pub kind: EngagementKind,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Status (kind-specific value).
    pub status: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Owning organisation.
    pub owner_organization_id: Option<Uuid>,
    /// Council.
    pub council_id: Option<Uuid>,
    /// Documents, as JSON.
    pub documents: serde_json::Value,
}

impl Core {
    /// Serialises documents for the `documents` column.
    pub fn documents_json(documents: &[Document]) -> serde_json::Value {
        serde_json::to_value(documents).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
    }

    /// Checks the references every kind shares: region and spheres exist, the end is not before the start.
    pub async fn check(&self, conn: &mut Conn) -> ApiResult<()> {
        if let Some(code) = &self.region_code {
            regions::ensure_exists(conn, code, "region_code").await?;
        }
        spheres::ensure_all_exist(conn, &self.sphere_codes, "sphere_codes").await?;
        if let Some(end) = self.ends_on
            && end < self.starts_on
        {
            return Err(ApiError::field("ends_on", "must not be before the start"));
        }
        Ok(())
    }

    /// Inserts the core row.
    pub async fn insert(&self, conn: &mut Conn, id: Uuid, actor: &Actor) -> ApiResult<()> {
        diesel::insert_into(engagements::table)
            .values((
                self,
                engagements::id.eq(id),
                engagements::created_by.eq(actor.id),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Rewrites the core row and bumps its version.
    pub async fn update(&self, conn: &mut Conn, id: Uuid) -> ApiResult<()> {
        diesel::update(engagements::table.find(id))
            .set((
                self,
                engagements::updated_at.eq(diesel::dsl::now),
                engagements::version.eq(engagements::version + 1),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Replaces the parties of an engagement (duplicates collapse to one).
pub async fn set_parties(conn: &mut Conn, id: Uuid, parties: &[Party]) -> ApiResult<()> {
    diesel::delete(engagement_parties::table.filter(engagement_parties::engagement_id.eq(id)))
        .execute(conn)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<_> = parties
        .iter()
        .filter(|p| seen.insert((*p).clone()))
        .map(|p| {
            (
                engagement_parties::engagement_id.eq(id),
                engagement_parties::organization_id.eq(p.organization_id),
                engagement_parties::agency_id.eq(p.agency_id),
                engagement_parties::role.eq(p.role),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(engagement_parties::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Whether the actor may change an engagement (DESIGN.md §5): admins; secretaries for their councils' meetings;
/// members of the owning organisation or of an organiser, monitor or recipient.
pub fn may_write(actor: &Actor, row: &EngagementRow, parties: &[Party]) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Secretary => {
            row.kind == EngagementKind::Meeting
                && row
                    .council_id
                    .is_some_and(|c| actor.council_ids.contains(&c))
        }
        Role::NgoMember => actor.organization_id.is_some_and(|org| {
            row.owner_organization_id == Some(org)
                || parties.iter().any(|p| {
                    p.organization_id == Some(org)
                        && matches!(
                            p.role,
                            // A submitter edits its own submissions, not the consultation: sending one
                            // must not grant the right to change the draft's period or answerer.
                            PartyRole::Organizer | PartyRole::Monitor | PartyRole::Recipient
                        )
                })
        }),
        Role::Analyst | Role::AgencyOfficer => false,
    }
}

/// Locks an engagement for a change and checks that the actor may make it: 404 when they may not read it, 403
/// when they may not change it. The lock comes before any read, so that `If-Match` is compared with the version
/// that will be replaced and two writers cannot both pass with the same tag.
pub async fn lock_for_write(
    conn: &mut Conn,
    actor: &Actor,
    id: Uuid,
    forbidden: &'static str,
) -> ApiResult<()> {
    engagements::table
        .find(id)
        .select(engagements::id)
        .for_update()
        .first::<Uuid>(conn)
        .await?;
    let caller = crate::auth::Caller {
        actor: Some(actor.clone()),
    };
    let row = EngagementRow::find_readable(conn, &caller, id).await?;
    let parties = super::model::parties_of(conn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    if may_write(actor, &row, &parties) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(forbidden))
    }
}

/// Deletes an engagement of any kind (its kind's rows and parties cascade) with its audit row, once `If-Match`
/// agrees with the locked version; recommendations that come from it make this a 409.
pub async fn delete_audited<T: serde::Serialize>(
    conn: &mut Conn,
    actor: &Actor,
    id: Uuid,
    entity: &str,
    if_match: &crate::http::IfMatch,
    before: &T,
    version: i32,
) -> ApiResult<()> {
    if_match.check(version)?;
    diesel::delete(engagements::table.find(id))
        .execute(conn)
        .await?;
    crate::audit::record(
        conn,
        actor,
        crate::audit::AuditAction::Delete,
        entity,
        &id.to_string(),
        Some(before),
        None,
    )
    .await
}
