//! The rows of one record written together: for a new record, its inserts sent as one statement (each a
//! data-modifying `WITH` part); for an existing one, each write run at once and in order, so that its old child rows
//! are gone before the new ones come.
//!
//! Only writes whose triggers do not depend on one another may share a statement: Postgres runs the parts of one
//! statement in no promised order, and fires their statement triggers at its end. An engagement's core row is
//! therefore written on its own, before its kind's rows and parties (its insert trigger and the parties' both keep
//! the party timeline and the tallies).

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel_async::RunQueryDsl;

use super::Conn;

/// A write as it waits to be sent.
type Part = Box<dyn QueryFragment<Pg> + Send>;

/// The writes of one record, over its transaction's connection.
#[must_use = "a new record's rows are written by `finish`"]
pub struct Batch<'c> {
    conn: &'c mut Conn,
    /// The inserts of a new record, until `finish`; `None` for an existing record, whose writes run at once.
    gathered: Option<Vec<Part>>,
}

impl<'c> Batch<'c> {
    /// The writes of a new record (`existing` false: gathered, sent by [`Batch::finish`] as one statement) or of an
    /// existing one (each run when it is given).
    pub fn new(conn: &'c mut Conn, existing: bool) -> Self {
        Self {
            conn,
            gathered: (!existing).then(Vec::new),
        }
    }

    /// Whether the record exists already (its rows are replaced) rather than being inserted.
    pub fn replacing(&self) -> bool {
        self.gathered.is_none()
    }

    /// The connection, for what must be read or written before the gathered rows (checks, an engagement's core).
    pub fn conn(&mut self) -> &mut Conn {
        self.conn
    }

    /// Runs `write` now for an existing record, or keeps it for the one statement of a new record.
    pub async fn run<W>(&mut self, write: W) -> QueryResult<()>
    where
        W: QueryFragment<Pg> + QueryId + Send + 'static,
    {
        match &mut self.gathered {
            Some(parts) => parts.push(Box::new(write)),
            None => {
                write.execute(self.conn).await?;
            }
        }
        Ok(())
    }

    /// Sends a new record's gathered rows, all in one statement.
    pub async fn finish(self) -> QueryResult<()> {
        match self.gathered {
            Some(parts) if !parts.is_empty() => {
                Together(parts).execute(self.conn).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// `WITH w0 AS (…), w1 AS (…) … SELECT 1`: data-modifying parts in one statement (Postgres runs each to the end
/// whether or not it is referenced). diesel keeps it prepared when every part is cacheable.
struct Together(Vec<Part>);

impl QueryId for Together {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Together {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (i, part) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{i} AS ("));
            part.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(" SELECT 1");
        Ok(())
    }
}
