//! The write path every kind shares: the core row, its parties, and the kinds' part in `audit::write`.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{Document, EngagementKind, EngagementStatus, Party, PartyRole, Visibility};
use crate::audit::write::{ActorThenWhole, Audited, Existing, Table, touch};
use crate::auth::policy::{self, Action, EngagementFacts, Record};
use crate::auth::{Actor, Caller};
use crate::db::batch::Batch;
use crate::db::schema::{engagement_parties, engagements};
use crate::db::sql::{Fragment, Statement};
use crate::db::{Conn, JsonColumn};
use crate::http::{ApiError, ApiResult, FieldError, IfMatch, Precondition};
use crate::organizations::Named;

/// The core fields a kind writes; the kind derives them from its own body.
#[derive(Debug, Clone, Insertable, AsChangeset)]
// `None` is written as NULL, never as DEFAULT (the columns have none): the insert's text is then the same for
// every engagement, so diesel keeps it prepared instead of parsing it on every create.
#[diesel(table_name = engagements, treat_none_as_null = true, treat_none_as_default_value = false)]
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

    /// Checks the core's own rule (the end is not before the start) and that everything the record names exists:
    /// what the kind names (`named`) with the core's region and spheres, in one statement. Every field at fault is
    /// named in the one 422.
    async fn check(&self, conn: &mut Conn, mut named: Named) -> ApiResult<()> {
        let mut errors = Vec::new();
        if let Some(end) = self.ends_on
            && end < self.starts_on
        {
            errors.push(FieldError::new("ends_on", "must not be before the start"));
        }
        named.regions.extend(
            self.region_code
                .iter()
                .map(|code| ("region_code".to_owned(), code.clone())),
        );
        named.spheres.extend(
            self.sphere_codes
                .iter()
                .map(|code| ("sphere_codes".to_owned(), code.clone())),
        );
        match named.ensure_exist(conn).await {
            Err(ApiError::Validation(unknown)) => errors.extend(unknown),
            other => other?,
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    /// Checks the record (see [`Core::check`]) and writes the core row, at once and on its own (see
    /// [`crate::db::batch`]): inserted for a new engagement, rewritten (version + 1) for an existing one.
    pub async fn save(
        &self,
        batch: &mut Batch<'_>,
        actor: &Actor,
        id: Uuid,
        named: Named,
    ) -> ApiResult<()> {
        let replacing = batch.replacing();
        let conn = batch.conn();
        self.check(conn, named).await?;
        if replacing {
            self.update(conn, id).await
        } else {
            self.insert(conn, id, actor).await
        }
    }

    /// Inserts the core row.
    async fn insert(&self, conn: &mut Conn, id: Uuid, actor: &Actor) -> ApiResult<()> {
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
    async fn update(&self, conn: &mut Conn, id: Uuid) -> ApiResult<()> {
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

/// Writes the parties of an engagement (duplicates collapse to one) in one statement that diesel keeps prepared:
/// the rows come as one array per column, whatever their number (a multi-row `VALUES` would be a new statement for
/// each count, parsed on every write). A new engagement's parties join its batch; an existing one's replace its old
/// parties at once, the old rows going in a `WITH` that the insert waits for.
pub async fn set_parties(batch: &mut Batch<'_>, id: Uuid, parties: &[Party]) -> ApiResult<()> {
    let mut seen = std::collections::HashSet::new();
    let parties: Vec<&Party> = parties.iter().filter(|p| seen.insert(*p)).collect();
    let insert = Fragment::new(
        "INSERT INTO engagement_parties (engagement_id, organization_id, agency_id, role) SELECT ",
    )
    .uuid(id)
    .sql(", p.organization_id, p.agency_id, p.role FROM unnest(")
    .optional_uuids(parties.iter().map(|p| p.organization_id).collect())
    .sql(", ")
    .optional_uuids(parties.iter().map(|p| p.agency_id).collect())
    .sql(", ")
    .texts(parties.iter().map(|p| p.role.to_string()).collect())
    .sql(") AS p(organization_id, agency_id, role)");
    let statement = if batch.replacing() {
        Statement::new("WITH gone AS (DELETE FROM engagement_parties WHERE engagement_id = ")
            .fragment(Fragment::new("").uuid(id).sql(" RETURNING 1) "))
            .fragment(insert)
            // Counting `gone` makes the delete run first, so a party kept across the change is not a duplicate key.
            .sql(", (SELECT count(*) FROM gone) AS g")
    } else {
        Statement::new("").fragment(insert)
    };
    batch.run(statement).await?;
    Ok(())
}

/// Where a kind's save writes: a new engagement with its owner, or the existing one it replaces (which keeps its
/// owner).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The engagement's id.
    pub id: Uuid,
    /// The owning organisation.
    pub owner: Option<Uuid>,
    /// Whether the rows exist already (update) or are to be inserted (create).
    pub existing: bool,
}

impl Target {
    /// A new engagement.
    pub fn new(id: Uuid, owner: Option<Uuid>) -> Self {
        Self {
            id,
            owner,
            existing: false,
        }
    }

    /// The engagement `record` is, to be rewritten.
    pub fn replacing<T: KindRecord>(record: &T) -> Self {
        Self {
            id: record.id(),
            owner: record.facts().owner,
            existing: true,
        }
    }
}

/// A kind of engagement as the write path needs it.
pub trait KindRecord: Audited {
    /// The kind.
    const KIND: EngagementKind;

    /// The engagement's id.
    fn id(&self) -> Uuid;

    /// What the access policy needs to know of it.
    fn facts(&self) -> EngagementFacts;
}

/// The policy's facts of an engagement from its owner, council and parties.
pub fn facts<'a>(
    kind: EngagementKind,
    owner: Option<Uuid>,
    council_id: Option<Uuid>,
    parties: impl IntoIterator<Item = &'a Party>,
) -> EngagementFacts {
    EngagementFacts {
        kind,
        owner,
        council_id,
        organizations: parties
            .into_iter()
            .filter_map(|p| p.organization_id.map(|o| (o, p.role)))
            .collect(),
    }
}

/// Declares a kind's record type for the write path: its audit entity, version and policy facts.
/// `engagement_record!(Hearing, Hearing, "hearing", |h| (h.owner_organization_id, None))` gives the owner and
/// council of a record `h`.
#[macro_export]
macro_rules! engagement_record {
    ($ty:ty, $kind:ident, $entity:literal, |$r:ident| $owner_council:expr) => {
        $crate::audited!($ty, $entity);
        $crate::engagement_record!(@facts $ty, $kind, |$r| $owner_council);
    };
    (@facts $ty:ty, $kind:ident, |$r:ident| $owner_council:expr) => {
        impl $crate::engagements::write::KindRecord for $ty {
            const KIND: $crate::domain::EngagementKind = $crate::domain::EngagementKind::$kind;

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn facts(&self) -> $crate::auth::policy::EngagementFacts {
                let $r = self;
                let (owner, council) = $owner_council;
                $crate::engagements::write::facts(
                    Self::KIND,
                    owner,
                    council,
                    self.parties.iter().map(|p| &p.party),
                )
            }
        }
    };
}

/// An existing engagement of one kind on the write path: its core row locked, read once with the kind's `find`
/// as the actor may see it (404 otherwise), and the policy asked whether the actor may do `action` (403).
pub fn existing<'a, T: KindRecord>(
    actor: &'a Actor,
    id: Uuid,
    action: Action,
    find: impl AsyncFn(&mut Conn, &Caller, Uuid) -> ApiResult<T> + 'a,
) -> Existing<
    impl AsyncFn(&mut Conn) -> ApiResult<T>,
    impl AsyncFnOnce(&mut Conn, &T) -> ApiResult<()>,
> {
    let caller = actor.caller();
    Existing {
        table: Table::Engagements,
        id,
        find: async move |conn: &mut Conn| find(conn, &caller, id).await,
        rule: async move |_: &mut Conn, record: &T| {
            policy::check(actor, action, Record::Engagement(&record.facts()))
        },
        // Several organisations edit an engagement (DESIGN.md §3): a change or delete must name the version.
        precondition: match action {
            Action::Update | Action::Delete => Precondition::Required,
            _ => Precondition::Optional,
        },
    }
}

/// Records a new engagement once the policy allows it as the body would make it (`facts`): `save` writes it and
/// the kind's `find` reads it back.
pub async fn create<T: KindRecord>(
    conn: &mut Conn,
    actor: &Actor,
    facts: &EngagementFacts,
    id: Uuid,
    save: impl AsyncFnOnce(&mut Conn) -> ApiResult<()>,
    find: impl AsyncFnOnce(&mut Conn, &Caller, Uuid) -> ApiResult<T>,
) -> ApiResult<T> {
    may_create(actor, facts)?;
    create_ruled_within(conn, actor, id, save, find).await
}

/// Whether the policy lets `actor` record an engagement as `facts` describe it (403 otherwise).
pub fn may_create(actor: &Actor, facts: &EngagementFacts) -> ApiResult<()> {
    policy::check(actor, Action::Create, Record::Engagement(facts))
}

/// Records a new engagement whose rule can only be asked inside the transaction, once what it is recorded under has
/// been read and locked there (a meeting's council: 404 when the actor may not read it comes before the rule's
/// 403): `save` reads it, asks [`may_create`], and writes; the kind's `find` reads the record back.
pub async fn create_ruled_within<T: KindRecord>(
    conn: &mut Conn,
    actor: &Actor,
    id: Uuid,
    save: impl AsyncFnOnce(&mut Conn) -> ApiResult<()>,
    find: impl AsyncFnOnce(&mut Conn, &Caller, Uuid) -> ApiResult<T>,
) -> ApiResult<T> {
    let caller = actor.caller();
    crate::audit::write::create(conn, actor, save, async |conn| {
        find(conn, &caller, id).await
    })
    .await
}

/// An organisation leaving an engagement that another organisation recorded naming it (consent, DESIGN.md §2).
#[derive(Debug, Clone, Copy)]
pub struct Withdrawal {
    /// The engagement.
    pub id: Uuid,
    /// The organisation that leaves.
    pub organization: Uuid,
    /// The role it leaves (the kind's rows for that role are what `unlink` removes).
    pub role: PartyRole,
}

impl Withdrawal {
    /// Withdraws the organisation through the one audited write path: the engagement locked and read as the actor
    /// may see it, the policy asked (only the organisation's own members, never the owner), `If-Match` required;
    /// `unlink` removes it from the kind's rows and answers how many organisations remain in that role, and its
    /// party row goes with it. The last one cannot leave (409): the record would then be nobody's work.
    ///
    /// The organisation may no longer be able to read the record it left (a restricted one), so nothing of it is
    /// answered: the record is read once as the actor sees it, before, and whole afterwards, for the audit row only.
    pub async fn apply<T: KindRecord>(
        self,
        conn: &mut Conn,
        actor: &Actor,
        if_match: &IfMatch,
        find: impl AsyncFn(&mut Conn, &Caller, Uuid) -> ApiResult<T>,
        unlink: impl AsyncFnOnce(&mut Conn) -> ApiResult<usize>,
    ) -> ApiResult<()> {
        let readers = ActorThenWhole::new(actor);
        let Self {
            id,
            organization,
            role,
        } = self;
        let existing = Existing {
            table: Table::Engagements,
            id,
            find: async move |conn: &mut Conn| find(conn, readers.next(), id).await,
            rule: async move |_: &mut Conn, record: &T| {
                let engagement = record.facts();
                policy::check(
                    actor,
                    Action::Delete,
                    Record::NamedParty {
                        engagement: &engagement,
                        organization,
                    },
                )
            },
            precondition: Precondition::Required,
        };
        existing
            .update(conn, actor, if_match, async |conn, before| {
                if !before.facts().organizations.contains(&(organization, role)) {
                    return Err(ApiError::NotFound);
                }
                if unlink(conn).await? == 0 {
                    return Err(ApiError::Conflict(format!(
                        "the last {role} cannot withdraw; the record's owner may delete it"
                    )));
                }
                diesel::delete(
                    engagement_parties::table
                        .filter(engagement_parties::engagement_id.eq(id))
                        .filter(engagement_parties::organization_id.eq(organization))
                        .filter(engagement_parties::role.eq(role)),
                )
                .execute(conn)
                .await?;
                touch(conn, Table::Engagements, id).await
            })
            .await
            .map(drop)
    }
}

/// Deletes an engagement of any kind: its kind's rows and parties cascade; recommendations that come from it
/// make this a 409.
pub async fn remove<T: KindRecord>(conn: &mut Conn, record: &T) -> ApiResult<()> {
    diesel::delete(engagements::table.find(record.id()))
        .execute(conn)
        .await?;
    Ok(())
}
