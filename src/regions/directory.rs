//! What every record of the directory (organisations, agencies, councils and their seats, facilities, users)
//! shares: its way through the audited write path, its list's keyset page and export, and its change history.
//!
//! It sits under `regions`, the lowest module of the directory, so that every noun above may use it without two
//! nouns of one layer depending on each other.

use actix_web::HttpResponse;
use actix_web::web::Json;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use uuid::Uuid;

use crate::audit::write::{self, Audited, Existing, Table};
use crate::audit::{self, AuditEntry, AuditFilter};
use crate::auth::Actor;
use crate::db::Conn;
use crate::db::sql::DirectorySort;
use crate::http::export::{self, CsvRow};
use crate::http::{
    ApiError, ApiResult, Cursor, Keyed, Output, Page, PageParams, Precondition, created,
};
use crate::state::AppState;

/// Declares a directory record kept under its `id` in one table: [`Audited`] under an entity name, and
/// `remove(conn, record)`, its delete on the write path (409 while another row still refers to it: the foreign
/// key's error). With `find`, also `find(conn, id)`: the row by id, 404 when there is none.
/// `directory_record!(Agency, agencies, "agency", find)`.
#[macro_export]
macro_rules! directory_record {
    ($ty:ident, $table:ident, $entity:literal) => {
        $crate::audited!($ty, $entity);

        impl $ty {
            /// Deletes the row; 409 while another row still refers to it.
            pub async fn remove(
                conn: &mut $crate::db::Conn,
                record: &Self,
            ) -> $crate::http::ApiResult<()> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                diesel::delete($crate::db::schema::$table::table.find(record.id))
                    .execute(conn)
                    .await?;
                Ok(())
            }
        }
    };
    ($ty:ident, $table:ident, $entity:literal, find) => {
        $crate::directory_record!($ty, $table, $entity);

        impl $ty {
            /// One row by id (404 when there is none).
            pub async fn find(
                conn: &mut $crate::db::Conn,
                id: uuid::Uuid,
            ) -> $crate::http::ApiResult<Self> {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                Ok($crate::db::schema::$table::table
                    .find(id)
                    .select(Self::as_select())
                    .first(conn)
                    .await?)
            }
        }
    };
}

/// Writes `changes` (the table's `AsChangeset`) to one row of a directory table with the version bump and
/// `updated_at` every change makes: `directory_update!(conn, agencies, id, &changes)`. A macro because diesel
/// gives each table its own types; a generic function would need pages of bounds.
#[macro_export]
macro_rules! directory_update {
    ($conn:expr, $table:ident, $id:expr, $changes:expr) => {{
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use $crate::db::schema::$table as table;
        diesel::update(table::table.find($id))
            .set((
                $changes,
                table::updated_at.eq(diesel::dsl::now),
                table::version.eq(table::version + 1),
            ))
            .execute($conn)
            .await
            .map(drop)
            .map_err($crate::http::ApiError::from)
    }};
}

/// Ends a directory list's boxed query: the rows after the cursor in the [`DirectorySort`] order, sorted, one more
/// than `limit` (so that `Page::from_rows` sees whether another page follows). Fails on a cursor whose key does
/// not fit the sort. `directory_keyset!(query, "agencies", filter.sort(), after, limit)?`
#[macro_export]
macro_rules! directory_keyset {
    ($query:expr, $table:literal, $sort:expr, $after:expr, $limit:expr) => {{
        let sort: $crate::db::sql::DirectorySort = $sort;
        let query = $query;
        match $after {
            Some(cursor) => sort
                .after($table, &cursor.key, cursor.id)
                .map(|bound| query.filter(bound)),
            None => Ok(query),
        }
        .map(|query| query.order(sort.order_by($table)).limit($limit + 1))
    }};
}

/// Creates a directory record on the audited write path under a new id: `save` writes it once the handler's
/// checks pass, `find` reads it back for the answer and the audit row. Answers 201 with its `Location`
/// (`/api/v1/{collection}/{id}`) and `ETag`.
pub async fn create<T: Audited>(
    conn: &mut Conn,
    actor: &Actor,
    collection: &str,
    find: impl AsyncFnOnce(&mut Conn, Uuid) -> ApiResult<T>,
    save: impl AsyncFnOnce(&mut Conn, Uuid) -> ApiResult<()>,
) -> ApiResult<HttpResponse> {
    let id = Uuid::now_v7();
    let record = write::create(
        conn,
        actor,
        async |conn| save(conn, id).await,
        async |conn| find(conn, id).await,
    )
    .await?;
    let location = format!("/api/v1/{collection}/{id}");
    Ok(created(&location, &record, record.version()))
}

/// A directory record on the audited write path: its row in `table` locked, read once with `find` (404 when there
/// is none), then `rule` asked (403).
///
/// The directory's rules depend on the path alone (the record's id, its council), never on what the row says, so
/// `rule` takes no argument. A caller the rule refuses whatever the row ([`admins_only`], another council's
/// seats) is refused before this as well, as the directory always has: they get 403 and lock nothing.
pub fn existing<'a, T: Audited>(
    table: Table,
    id: Uuid,
    find: impl AsyncFn(&mut Conn, Uuid) -> ApiResult<T> + 'a,
    rule: impl FnOnce() -> ApiResult<()> + 'a,
) -> Existing<
    impl AsyncFn(&mut Conn) -> ApiResult<T> + 'a,
    impl AsyncFnOnce(&mut Conn, &T) -> ApiResult<()> + 'a,
> {
    Existing {
        table,
        id,
        find: async move |conn: &mut Conn| find(conn, id).await,
        rule: async move |_: &mut Conn, _: &T| rule(),
        precondition: Precondition::Optional,
    }
}

/// The rule of a record only admins may change (agencies, facilities, users; deleting organisations and councils)
/// for [`existing`]: anyone else is refused at once (403), before a row is read or locked.
pub fn admins_only(actor: &Actor) -> ApiResult<impl FnOnce() -> ApiResult<()> + '_> {
    actor.require_admin()?;
    Ok(|| actor.require_admin())
}

/// The cursor of a directory row in its list's [`DirectorySort`] order: its name or creation time, then its id.
pub fn cursor(sort: &str, name: &str, created_at: DateTime<Utc>, id: Uuid) -> Cursor {
    let sort = DirectorySort::parse(sort).unwrap_or(DirectorySort::Name);
    Cursor::new(sort.as_str(), sort.key(name, created_at), id)
}

/// Unless `found`, the 422 on `field` for a reference to a `what` that is not there: "unknown agency `…`".
pub fn known(found: bool, field: &str, what: &str, key: impl std::fmt::Display) -> ApiResult<()> {
    if found {
        Ok(())
    } else {
        Err(ApiError::field(field, format!("unknown {what} `{key}`")))
    }
}

/// Fails with 422 on `parent_id` when making `parent` the parent of `id` in `table`, a tree by `parent_id`, would
/// close a loop: when `parent` is `id` or one of its descendants. Moves within the table are serialised first, so
/// that two concurrent moves cannot close a loop between them. `table` is trusted SQL, never client input.
pub async fn ensure_no_loop(
    conn: &mut Conn,
    table: &'static str,
    what: &str,
    id: Uuid,
    parent: Uuid,
) -> ApiResult<()> {
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock(hashtext('{table}.parent_id'))"
    ))
    .execute(conn)
    .await?;
    let ancestors = format!(
        "EXISTS (WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM {table} WHERE id = "
    );
    let join = format!(
        " UNION SELECT t.id, t.parent_id FROM {table} t JOIN up ON t.id = up.parent_id) SELECT 1 FROM up WHERE id = "
    );
    let closes_loop: bool = diesel::select(
        sql::<Bool>(&ancestors)
            .bind::<SqlUuid, _>(parent)
            .sql(&join)
            .bind::<SqlUuid, _>(id)
            .sql(")"),
    )
    .get_result(conn)
    .await?;
    if closes_loop {
        let message = format!("would make the {what} its own ancestor");
        Err(ApiError::field("parent_id", message))
    } else {
        Ok(())
    }
}

/// `%q%` for `ILIKE`, with the `%`, `_` and `\` in `q` taken literally.
pub fn contains(q: &str) -> String {
    format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Answers a directory list: a keyset page, or with `format=csv|ndjson` the whole filtered list streamed. `list`
/// reads one page (`limit + 1` rows) after a cursor.
pub async fn respond<T, F>(
    state: &AppState,
    format: Output,
    page: &PageParams,
    name: &str,
    sort: DirectorySort,
    filter: F,
    list: impl AsyncFn(&mut Conn, &F, Option<Cursor>, i64) -> ApiResult<Vec<T>> + Copy + 'static,
) -> ApiResult<HttpResponse>
where
    T: CsvRow + Serialize + Keyed + 'static,
    F: Clone + 'static,
{
    export::respond(
        state,
        format,
        page,
        name,
        sort.as_str(),
        Box::new(move |conn, cursor, limit| {
            let filter = filter.clone();
            Box::pin(async move { list(conn, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// A page of a directory record's change history, newest first, once the handler has checked who may read it.
pub async fn history<T: Audited>(
    state: &AppState,
    id: Uuid,
    page: &PageParams,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let filter = AuditFilter {
        entity_type: Some(T::ENTITY.to_owned()),
        entity_id: Some(id.to_string()),
        ..AuditFilter::default()
    };
    audit::handlers::history_page(state, filter, page).await
}

/// Declares the admin-only delete route of a directory record: 403 for anyone else before anything is read, then
/// the one audited write path (409 while other records refer to it). `|actor| find` gives the record's find for
/// the acting user. The calling module imports actix-web's `delete` and the handler types it names.
#[macro_export]
macro_rules! directory_delete_handler {
    (
        tag: $tag:literal, table: $table:ident, remove: $remove:path, |$actor:ident| $find:expr,
        $(#[$doc:meta])* $name:ident: $path:literal $(,)?
    ) => {
        $(#[$doc])*
        #[utoipa::path(tag = $tag, params($crate::http::IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
            security(("bearer" = [])), responses((status = 204, description = "Deleted"), $crate::http::ProblemResponses))]
        #[delete($path)]
        pub async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            actor: $crate::auth::Actor,
            path: $crate::http::Path<$crate::http::IdPath>,
            if_match: $crate::http::IfMatch,
        ) -> $crate::http::ApiResult<actix_web::HttpResponse> {
            let $actor = &actor;
            let rule = $crate::regions::directory::admins_only($actor)?;
            $crate::regions::directory::existing($crate::audit::write::Table::$table, path.id, $find, rule)
                .delete(&mut *state.db().await?, $actor, &if_match, $remove)
                .await?;
            Ok(actix_web::HttpResponse::NoContent().finish())
        }
    };
}
