//! The audit trail: every create, update and delete writes one row in the same transaction as the change.

pub mod handlers;
pub mod write;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::schema::audit_log;
use crate::db::{Conn, JsonColumn};
use crate::http::{ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// What a write did.
    pub enum AuditAction {
        /// A record was created.
        Create => "create",
        /// A record was changed.
        Update => "update",
        /// A record was deleted.
        Delete => "delete",
    }
}

/// One row of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// The entry id (time-ordered).
    pub id: Uuid,
    /// When the change was committed.
    pub occurred_at: DateTime<Utc>,
    /// The user who made it.
    pub actor_id: Option<Uuid>,
    /// What was done.
    pub action: AuditAction,
    /// The kind of record, e.g. `organization`.
    pub entity_type: String,
    /// The record's id (or code, for regions).
    pub entity_id: String,
    /// The record before the change (null on create).
    pub before: Option<serde_json::Value>,
    /// The record after the change (null on delete).
    pub after: Option<serde_json::Value>,
    /// The server's id of the request that made the change (always made by the server; the `X-Request-Id` of
    /// its answer).
    pub request_id: Option<String>,
    /// The `X-Request-Id` the client sent with that request, when it was 1–128 characters of `[A-Za-z0-9._:-]`
    /// (anything else is not kept).
    pub client_request_id: Option<String>,
}

/// An audit row as stored; its snapshots are read through `JsonColumn` like every JSON column, so that one
/// that is not JSON is reported as corrupt.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
struct AuditRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    action: AuditAction,
    entity_type: String,
    entity_id: String,
    before: Option<JsonColumn<serde_json::Value>>,
    after: Option<JsonColumn<serde_json::Value>>,
    request_id: Option<String>,
    client_request_id: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            occurred_at: row.occurred_at,
            actor_id: row.actor_id,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            before: row.before.map(JsonColumn::into_inner),
            after: row.after.map(JsonColumn::into_inner),
            request_id: row.request_id,
            client_request_id: row.client_request_id,
        }
    }
}

/// Sort order of the audit log: newest first.
pub const NEWEST: &str = "newest";

impl Keyed for AuditEntry {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, "", self.id)
    }
}

#[derive(Insertable)]
// `None` as NULL, not DEFAULT (no column has one): one insert text for every entry, kept prepared.
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct NewAuditEntry<'a> {
    id: Uuid,
    actor_id: Uuid,
    action: AuditAction,
    entity_type: &'a str,
    entity_id: &'a str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    request_id: &'a str,
    client_request_id: Option<&'a str>,
}

/// Writes an audit row. Call it inside the transaction of the change it records.
pub async fn record<T: Serialize>(
    conn: &mut Conn,
    actor: &Actor,
    action: AuditAction,
    entity_type: &str,
    entity_id: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> ApiResult<()> {
    let to_json = |v: Option<&T>| -> ApiResult<Option<serde_json::Value>> {
        v.map(serde_json::to_value)
            .transpose()
            .map_err(|e| anyhow::Error::new(e).context("audit snapshot").into())
    };
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            id: Uuid::now_v7(),
            actor_id: actor.id,
            action,
            entity_type,
            entity_id,
            before: to_json(before)?,
            after: to_json(after)?,
            request_id: &actor.request_id,
            client_request_id: actor.client_request_id.as_deref(),
        })
        .execute(conn)
        .await?;
    Ok(())
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this kind of record.
    pub entity_type: Option<String>,
    /// Only this record.
    pub entity_id: Option<String>,
    /// Only changes by this user.
    pub actor_id: Option<Uuid>,
    /// Leave out user accounts (their emails and bindings are for admins only).
    pub hide_users: bool,
    /// Only the directory (organisations, agencies, regions, facilities, councils that are not restricted, and
    /// their seats): what a non-admin may read in the log as a whole. Engagements' changes are read through each
    /// record's `/history`, which applies the record's own read rule.
    pub directory_only: bool,
}

const DIRECTORY_ONLY: &str = "(audit_log.entity_type IN ('organization', 'agency', 'region', 'facility') \
    OR (audit_log.entity_type = 'council' AND audit_log.entity_id IN \
        (SELECT id::text FROM councils WHERE visibility <> 'restricted')) \
    OR (audit_log.entity_type = 'council_member' AND audit_log.entity_id IN \
        (SELECT m.id::text FROM council_members m JOIN councils c ON c.id = m.council_id WHERE c.visibility <> 'restricted')))";

/// A page of the audit log, newest first (`limit + 1` rows; see `Page::from_rows`).
pub async fn list(
    conn: &mut Conn,
    filter: &AuditFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<AuditEntry>> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(t) = &filter.entity_type {
        query = query.filter(audit_log::entity_type.eq(t.clone()));
    }
    if let Some(id) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(id.clone()));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if filter.hide_users {
        query = query.filter(audit_log::entity_type.ne("user"));
    }
    if filter.directory_only {
        query = query.filter(crate::db::sql::Fragment::new(DIRECTORY_ONLY));
    }
    if let Some(cursor) = after {
        query = query.filter(audit_log::id.lt(cursor.id));
    }
    let rows: Vec<AuditRow> = query
        .order(audit_log::id.desc())
        .limit(limit + 1)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
