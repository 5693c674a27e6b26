//! The write path every kind shares: the core row, its parties, and who may change it.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{
    Document, EngagementKind, EngagementRow, EngagementStatus, Party, PartyRole, Visibility,
};
use crate::auth::{Actor, Role};
use crate::db::schema::{engagement_parties, engagements};
use crate::db::{Conn, JsonColumn};
use crate::http::{ApiError, ApiResult, FieldError};
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
    /// Status, of the kind's own values.
    pub status: EngagementStatus,
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
    /// Documents.
    pub documents: JsonColumn<Vec<Document>>,
}

impl Core {
    /// The `documents` column for a body's documents.
    pub fn documents_json(documents: &[Document]) -> JsonColumn<Vec<Document>> {
        JsonColumn(documents.to_vec())
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

/// Fails with 422 naming each organisation or agency id (by its field path) that does not exist.
pub async fn ensure_actors_exist(
    conn: &mut Conn,
    organizations: &[(String, Uuid)],
    agencies: &[(String, Uuid)],
) -> ApiResult<()> {
    use crate::db::schema::{agencies as a, organizations as o};
    let org_ids: Vec<Uuid> = organizations.iter().map(|(_, id)| *id).collect();
    let agency_ids: Vec<Uuid> = agencies.iter().map(|(_, id)| *id).collect();
    let known_orgs: Vec<Uuid> = if org_ids.is_empty() {
        Vec::new()
    } else {
        o::table
            .select(o::id)
            .filter(o::id.eq_any(&org_ids))
            .load(conn)
            .await?
    };
    let known_agencies: Vec<Uuid> = if agency_ids.is_empty() {
        Vec::new()
    } else {
        a::table
            .select(a::id)
            .filter(a::id.eq_any(&agency_ids))
            .load(conn)
            .await?
    };
    let mut errors: Vec<FieldError> = organizations
        .iter()
        .filter(|(_, id)| !known_orgs.contains(id))
        .map(|(field, id)| FieldError::new(field.clone(), format!("unknown organisation `{id}`")))
        .collect();
    errors.extend(
        agencies
            .iter()
            .filter(|(_, id)| !known_agencies.contains(id))
            .map(|(field, id)| FieldError::new(field.clone(), format!("unknown agency `{id}`"))),
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
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

/// Re-derives one agency role on a set of engagements, after the record they take it from changes
/// (a council's host agency for its meetings, a facility's operator for its visits).
pub async fn replace_agency_role(
    conn: &mut Conn,
    ids: &[Uuid],
    role: PartyRole,
    agency: Option<Uuid>,
) -> ApiResult<()> {
    diesel::delete(
        engagement_parties::table
            .filter(engagement_parties::engagement_id.eq_any(ids))
            .filter(engagement_parties::role.eq(role))
            .filter(engagement_parties::agency_id.is_not_null()),
    )
    .execute(conn)
    .await?;
    if let Some(agency) = agency {
        let rows: Vec<_> = ids
            .iter()
            .map(|id| {
                (
                    engagement_parties::engagement_id.eq(*id),
                    engagement_parties::agency_id.eq(Some(agency)),
                    engagement_parties::role.eq(role),
                )
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(engagement_parties::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
    }
    Ok(())
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
