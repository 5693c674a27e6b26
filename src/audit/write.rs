//! The one audited write path. Every create, update and delete of an engagement, a recommendation, a
//! submission or a directory record runs through [`create`], [`Existing::update`] or [`Existing::delete`], which
//! own what every write shares: the transaction, the row lock, the single read, the policy check, the `If-Match`
//! check, the re-read and the audit row. A record type supplies only what differs: its table, how to find it, its
//! rule and its save.

use diesel::prelude::*;
use diesel_async::{AnsiTransactionManager, RunQueryDsl, TransactionManager};
use serde::Serialize;
use uuid::Uuid;

use super::AuditAction;
use crate::auth::Actor;
use crate::db::Conn;
use crate::http::{ApiResult, IfMatch, Precondition};

/// A record the write path can version and audit.
pub trait Audited: Serialize {
    /// The entity type its audit rows carry, e.g. `hearing`.
    const ENTITY: &'static str;

    /// Its key in the audit log (an id, or a code for regions).
    fn audit_key(&self) -> String;

    /// The version `If-Match` is compared with.
    fn version(&self) -> i32;

    /// What the audit log keeps of it: the record itself unless it holds text the log must never store.
    fn audit_view(&self) -> impl Serialize + '_ {
        self
    }
}

/// Declares a record with an `id` and a `version` as [`Audited`] under an entity name:
/// `audited!(Recommendation, "recommendation")`.
#[macro_export]
macro_rules! audited {
    ($ty:ty, $entity:literal) => {
        impl $crate::audit::write::Audited for $ty {
            const ENTITY: &'static str = $entity;

            fn audit_key(&self) -> String {
                self.id.to_string()
            }

            fn version(&self) -> i32 {
                self.version
            }
        }
    };
}

/// Runs `body` in a transaction: committed when it succeeds, rolled back when it fails.
///
/// Written out rather than through `AsyncConnection::transaction`, whose callback must be a `Send` future:
/// the closures a record type passes in are generic, and actix handlers need not be `Send`.
pub async fn in_transaction<T>(
    conn: &mut Conn,
    body: impl AsyncFnOnce(&mut Conn) -> ApiResult<T>,
) -> ApiResult<T> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    match body(conn).await {
        Ok(value) => {
            // From here the data may have changed, whatever the commit answers: statistics kept from before are
            // stale (`crate::answers`).
            let _changed = crate::answers::NoteWriteOnDrop;
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn).await {
                // The connection is marked broken and the pool drops it; the first error is the one to report.
                tracing::warn!(error = %rollback, "rolling back a failed write");
            }
            Err(error)
        }
    }
}

async fn audit<T: Audited>(
    conn: &mut Conn,
    actor: &Actor,
    action: AuditAction,
    before: Option<&T>,
    after: Option<&T>,
) -> ApiResult<()> {
    let key = after.or(before).map(T::audit_key).unwrap_or_default();
    super::record(
        conn,
        actor,
        action,
        T::ENTITY,
        &key,
        before.map(T::audit_view).as_ref(),
        after.map(T::audit_view).as_ref(),
    )
    .await
}

/// Creates a record: `save` writes it once the caller's rule has passed, `find` reads it back for the answer and
/// the audit row.
pub async fn create<T: Audited>(
    conn: &mut Conn,
    actor: &Actor,
    save: impl AsyncFnOnce(&mut Conn) -> ApiResult<()>,
    find: impl AsyncFnOnce(&mut Conn) -> ApiResult<T>,
) -> ApiResult<T> {
    in_transaction(conn, async |conn| {
        save(conn).await?;
        let after = find(conn).await?;
        audit(conn, actor, AuditAction::Create, None, Some(&after)).await?;
        Ok(after)
    })
    .await
}

/// The tables whose rows the write path locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// The engagement core, which every kind's write locks.
    Engagements,
    /// Recommendations.
    Recommendations,
    /// Consultation submissions.
    Submissions,
    /// Organisations of the directory.
    Organizations,
    /// Agencies of the directory.
    Agencies,
    /// Councils of the directory.
    Councils,
    /// Seats on councils.
    CouncilMembers,
    /// Monitored facilities.
    Facilities,
    /// User accounts.
    Users,
}

/// Locks one row (404 when there is none) with a statement diesel prepares once per connection. The lock is
/// `FOR NO KEY UPDATE`: writes never change keys, and a stronger lock would block the foreign-key checks of
/// rows that point at it (a trigger re-deriving a council's meetings' parties) into a deadlock.
///
/// A submission's writes re-derive its consultation's parties from every submission, so a submission locks its
/// consultation's engagement row first: writes to one consultation's parties then run one after another, each
/// seeing what the one before committed, and always in the order a consultation's own writes lock (the
/// engagement, then what hangs from it), so that no two of them wait on each other.
pub async fn lock(conn: &mut Conn, table: Table, id: Uuid) -> ApiResult<()> {
    use crate::db::schema::{
        agencies, council_members, councils, engagements, facilities, organizations,
        recommendations, submissions, users,
    };
    macro_rules! lock {
        ($t:ident) => {
            lock!($t, id)
        };
        ($t:ident, $id:expr) => {
            $t::table
                .find($id)
                .select($t::id)
                .for_no_key_update()
                .first::<Uuid>(conn)
                .await?
        };
    }
    match table {
        Table::Engagements => lock!(engagements),
        Table::Recommendations => lock!(recommendations),
        Table::Submissions => {
            // A submission never moves to another consultation, so its consultation is read without a lock.
            let consultation: Uuid = submissions::table
                .find(id)
                .select(submissions::consultation_id)
                .first(conn)
                .await?;
            lock!(engagements, consultation);
            lock!(submissions)
        }
        Table::Organizations => lock!(organizations),
        Table::Agencies => lock!(agencies),
        Table::Councils => lock!(councils),
        Table::CouncilMembers => lock!(council_members),
        Table::Facilities => lock!(facilities),
        Table::Users => lock!(users),
    };
    Ok(())
}

/// Marks a record changed — `updated_at` now, version + 1 — for a write that touches only rows hanging from it
/// (an organisation withdrawing from it), so that its `ETag` moves as for any other change.
pub async fn touch(conn: &mut Conn, table: Table, id: Uuid) -> ApiResult<()> {
    use crate::db::schema::{
        agencies, council_members, councils, engagements, facilities, organizations,
        recommendations, submissions, users,
    };
    macro_rules! touch {
        ($t:ident) => {
            diesel::update($t::table.find(id))
                .set((
                    $t::updated_at.eq(diesel::dsl::now),
                    $t::version.eq($t::version + 1),
                ))
                .execute(conn)
                .await?
        };
    }
    match table {
        Table::Engagements => touch!(engagements),
        Table::Recommendations => touch!(recommendations),
        Table::Submissions => touch!(submissions),
        Table::Organizations => touch!(organizations),
        Table::Agencies => touch!(agencies),
        Table::Councils => touch!(councils),
        Table::CouncilMembers => touch!(council_members),
        Table::Facilities => touch!(facilities),
        Table::Users => touch!(users),
    };
    Ok(())
}

/// How the write path reaches an existing record: lock its row, then read it as the actor may see it.
pub struct Existing<F, R> {
    /// The table of the row to lock. The lock comes before anything is read, so that `If-Match` is compared
    /// with the version being replaced and two writers with the same tag cannot both pass.
    pub table: Table,
    /// The record's id.
    pub id: Uuid,
    /// Reads the record as the actor may see it (404 when they may not).
    pub find: F,
    /// The policy rule for this write (403 when it refuses); it may read what decides it, such as a
    /// recommendation's engagement.
    pub rule: R,
    /// Whether the write must carry `If-Match` (428 without it). Checked after the rule, so that a caller who
    /// may not see or change the record learns nothing more than 404 or 403.
    pub precondition: Precondition,
}

impl<F, R, T> Existing<F, R>
where
    T: Audited,
    F: AsyncFn(&mut Conn) -> ApiResult<T>,
    R: AsyncFnOnce(&mut Conn, &T) -> ApiResult<()>,
{
    /// Locks, reads once, checks the rule, then `If-Match`.
    async fn open(self, conn: &mut Conn, if_match: &IfMatch) -> ApiResult<(T, F)> {
        lock(conn, self.table, self.id).await?;
        let before = (self.find)(conn).await?;
        (self.rule)(conn, &before).await?;
        if_match.check(before.version(), self.precondition)?;
        Ok((before, self.find))
    }

    /// Changes the record: `change` gets the record as it was and writes the new state; the record is read once
    /// more for the answer and the audit row.
    pub async fn update(
        self,
        conn: &mut Conn,
        actor: &Actor,
        if_match: &IfMatch,
        change: impl AsyncFnOnce(&mut Conn, &T) -> ApiResult<()>,
    ) -> ApiResult<T> {
        in_transaction(conn, async |conn| {
            let (before, find) = self.open(conn, if_match).await?;
            change(conn, &before).await?;
            let after = find(conn).await?;
            audit(
                conn,
                actor,
                AuditAction::Update,
                Some(&before),
                Some(&after),
            )
            .await?;
            Ok(after)
        })
        .await
    }

    /// Deletes the record with `remove` (a row still referenced elsewhere makes it a 409).
    pub async fn delete(
        self,
        conn: &mut Conn,
        actor: &Actor,
        if_match: &IfMatch,
        remove: impl AsyncFnOnce(&mut Conn, &T) -> ApiResult<()>,
    ) -> ApiResult<()> {
        in_transaction(conn, async |conn| {
            let (before, _) = self.open(conn, if_match).await?;
            remove(conn, &before).await?;
            audit(conn, actor, AuditAction::Delete, Some(&before), None).await
        })
        .await
    }
}

/// How a withdrawal reads its record: as the actor for the read that decides, then whole for the audit row only.
/// The actor may no longer see what it left (a restricted record it was named on), and nothing read the second
/// time reaches the client.
pub struct ActorThenWhole {
    actor: crate::auth::Caller,
    whole: crate::auth::Caller,
    read: std::cell::Cell<bool>,
}

impl ActorThenWhole {
    /// The callers for `actor`.
    pub fn new(actor: &Actor) -> Self {
        Self {
            actor: actor.caller(),
            whole: crate::auth::Caller {
                actor: Some(Actor {
                    role: crate::domain::Role::Admin,
                    ..actor.clone()
                }),
            },
            read: std::cell::Cell::new(false),
        }
    }

    /// The caller of the next read: the actor the first time, the whole record after.
    pub fn next(&self) -> &crate::auth::Caller {
        if self.read.replace(true) {
            &self.whole
        } else {
            &self.actor
        }
    }
}
