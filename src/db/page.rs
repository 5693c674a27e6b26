//! Loading what hangs off a page of rows in one query per table, never one per row.

use std::collections::HashMap;

use uuid::Uuid;

/// Groups `(parent id, child)` rows by parent, keeping their order within each parent.
pub fn group_by_parent<T>(rows: impl IntoIterator<Item = (Uuid, T)>) -> HashMap<Uuid, Vec<T>> {
    let mut map: HashMap<Uuid, Vec<T>> = HashMap::new();
    for (parent, child) in rows {
        map.entry(parent).or_default().push(child);
    }
    map
}

/// Loads the rows of `$table` whose `id` is among `$ids`, keyed by id: a kind's own row for each core row. It is a
/// future over a shared connection (`&Conn`), so that a page can send it together with its other loads
/// (pipelined, `futures_util::try_join!`): `load_by_id!(conn, hearings, HearingRow, &ids)`.
#[macro_export]
macro_rules! load_by_id {
    ($conn:expr, $table:ident, $row:ty, $ids:expr) => {
        // The caller's error type, converted from diesel's.
        ::futures_util::TryFutureExt::err_into(async {
            let rows: Vec<$row> = $table::table
                .filter($table::id.eq_any($ids))
                .select(<$row>::as_select())
                .load(&mut { $conn })
                .await?;
            diesel::QueryResult::Ok(
                rows.into_iter()
                    .map(|row| (row.id, row))
                    .collect::<std::collections::HashMap<uuid::Uuid, $row>>(),
            )
        })
    };
}

/// Loads the list items of a child table (`$parent` column, `position` order) for every parent in `$ids`, grouped
/// by parent; a future over a shared connection, as [`load_by_id!`]:
/// `load_children!(conn, hearing_organizers, hearing_id, &ids, hearing_organizers::organization_id => Uuid)`.
#[macro_export]
macro_rules! load_children {
    ($conn:expr, $table:ident, $parent:ident, $ids:expr, $select:expr => $item:ty) => {
        ::futures_util::TryFutureExt::err_into(async {
            let rows: Vec<(uuid::Uuid, $item)> = $table::table
                .filter($table::$parent.eq_any($ids))
                .order(($table::$parent, $table::position))
                .select(($table::$parent, $select))
                .load(&mut { $conn })
                .await?;
            diesel::QueryResult::Ok($crate::db::page::group_by_parent(rows))
        })
    };
}

/// Writes a kind's own row through a [`crate::db::batch::Batch`]: inserted with its id for a new record, updated
/// (all of `$values`, which must own their values) for an existing one.
#[macro_export]
macro_rules! save_row {
    ($batch:expr, $table:ident, $id:expr, $values:expr) => {
        if $batch.replacing() {
            $batch
                .run(diesel::update($table::table.find($id)).set($values))
                .await?;
        } else {
            $batch
                .run(diesel::insert_into($table::table).values(($table::id.eq($id), $values)))
                .await?;
        }
    };
}

/// Replaces the rows of a list through a [`crate::db::batch::Batch`]: an existing parent's old rows go, then
/// `$insert` writes the new ones — an `INSERT … SELECT … FROM unnest(…) WITH ORDINALITY` ([`crate::db::sql::Fragment`]),
/// one array per column, whose text is the same whatever their number, so that diesel keeps it prepared.
#[macro_export]
macro_rules! replace_children {
    ($batch:expr, $table:ident, $parent:ident, $id:expr, $insert:expr) => {
        if $batch.replacing() {
            $batch
                .run(diesel::delete(
                    $table::table.filter($table::$parent.eq($id)),
                ))
                .await?;
        }
        $batch.run($insert).await?;
    };
}

/// Removes one child row (`$child = $value`) of a parent and evaluates to how many children the parent keeps:
/// `remove_child!(conn, hearing_organizers, hearing_id, id, organization_id, org)`.
#[macro_export]
macro_rules! remove_child {
    ($conn:expr, $table:ident, $parent:ident, $id:expr, $child:ident, $value:expr) => {{
        diesel::delete(
            $table::table
                .filter($table::$parent.eq($id))
                .filter($table::$child.eq($value)),
        )
        .execute($conn)
        .await?;
        let remaining: i64 = $table::table
            .filter($table::$parent.eq($id))
            .count()
            .get_result($conn)
            .await?;
        usize::try_from(remaining).unwrap_or(usize::MAX)
    }};
}
