//! Users: rows, request bodies and queries. Password hashes never leave this module's queries.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Conn;
use crate::db::schema::{councils, user_councils, users};
use crate::domain::Role;
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, FieldError, Keyed};
use crate::organizations::ensure_actors_exist;

/// A user as the API shows it.
// The stored row without its password hash, with the user's councils read in the same statement.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Login email (lower case).
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Organisation of an `ngo_member`.
    pub organization_id: Option<Uuid>,
    /// Agency of an `agency_officer`.
    pub agency_id: Option<Uuid>,
    /// Councils of a `secretary`.
    #[diesel(select_expression = crate::db::sql::static_sql::<Array<SqlUuid>>(COUNCIL_IDS))]
    #[diesel(select_expression_type = crate::db::sql::StaticSql<Array<SqlUuid>>)]
    pub council_ids: Vec<Uuid>,
    /// A disabled account cannot sign in, and its tokens are refused.
    pub disabled: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version, +1 on each change; also the `ETag`.
    pub version: i32,
}

/// A user's councils, read with the user in one statement (by the `user_councils` primary key).
const COUNCIL_IDS: &str = "ARRAY(SELECT uc.council_id FROM user_councils uc WHERE uc.user_id = users.id ORDER BY uc.council_id)";

crate::directory_record!(User, users, "user", find);

/// Sort order of the user list: oldest first.
pub const OLDEST: &str = "created_at";

impl Keyed for User {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(
            sort,
            self.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.id,
        )
    }
}

crate::body_types! {
    /// A new user.
    create CreateUser;
    /// Changes to a user: absent fields stay, `null` clears a nullable one.
    update UpdateUser;
    /// Login email.
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    email: String = required,
    /// Name shown to others.
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    display_name: String = required,
    /// Role.
    role: Role = required,
    /// Organisation (required for `ngo_member`).
    organization_id: Uuid = optional,
    /// Agency (required for `agency_officer`).
    agency_id: Uuid = optional,
    /// Councils (at least one for `secretary`).
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    council_ids: Vec<Uuid> = default,
    /// Password, 10 to 128 characters.
    #[validate(length(min = 10, max = 128))]
    #[schema(min_length = 10, max_length = 128, format = Password)]
    password: String = required,
    /// `true` disables the account: it cannot sign in and its tokens are refused; `false` enables it again.
    disabled: bool = update_only,
}

/// The fields a role depends on, after a create or an update is applied.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organization_id: Option<Uuid>,
    /// Agency.
    pub agency_id: Option<Uuid>,
    /// Councils.
    pub council_ids: Vec<Uuid>,
}

impl Binding {
    /// Keeps only what the role uses, so that a role change leaves no stale binding behind.
    pub fn normalized(mut self) -> Self {
        if self.role != Role::NgoMember {
            self.organization_id = None;
        }
        if self.role != Role::AgencyOfficer {
            self.agency_id = None;
        }
        if self.role != Role::Secretary {
            self.council_ids.clear();
        }
        self
    }

    /// Checks that the role has what it needs and that everything named exists.
    pub async fn check(&self, conn: &mut Conn) -> ApiResult<()> {
        let mut errors = Vec::new();
        match self.role {
            Role::NgoMember if self.organization_id.is_none() => {
                errors.push(FieldError::new(
                    "organization_id",
                    "is required for the ngo_member role",
                ));
            }
            Role::AgencyOfficer if self.agency_id.is_none() => {
                errors.push(FieldError::new(
                    "agency_id",
                    "is required for the agency_officer role",
                ));
            }
            Role::Secretary if self.council_ids.is_empty() => {
                errors.push(FieldError::new(
                    "council_ids",
                    "needs at least one council for the secretary role",
                ));
            }
            _ => {}
        }
        let org = Vec::from_iter(
            self.organization_id
                .map(|id| ("organization_id".into(), id)),
        );
        let agency = Vec::from_iter(self.agency_id.map(|id| ("agency_id".into(), id)));
        match ensure_actors_exist(conn, &org, &agency).await {
            Err(ApiError::Validation(mut unknown)) => errors.append(&mut unknown),
            other => other?,
        }
        if !self.council_ids.is_empty() {
            let known: Vec<Uuid> = councils::table
                .select(councils::id)
                .filter(councils::id.eq_any(&self.council_ids))
                .load(conn)
                .await?;
            if let Some(unknown) = self.council_ids.iter().find(|id| !known.contains(id)) {
                errors.push(FieldError::new(
                    "council_ids",
                    format!("unknown council `{unknown}`"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

impl User {
    /// A page (`limit + 1` rows) of users, oldest first, in one statement whatever the page size.
    pub async fn list(conn: &mut Conn, after: Option<Cursor>, limit: i64) -> ApiResult<Vec<Self>> {
        let mut query = users::table.select(Self::as_select()).into_boxed();
        if let Some(cursor) = after {
            let key = crate::db::sql::KeyValue::Time(cursor.time_key()?);
            query = query.filter(crate::db::sql::after(
                "users.created_at",
                "users.id",
                false,
                key,
                cursor.id,
            ));
        }
        Ok(query
            .order((users::created_at.asc(), users::id.asc()))
            .limit(limit + 1)
            .load(conn)
            .await?)
    }

    /// The id and password hash of the user with this email.
    pub async fn credentials(conn: &mut Conn, email: &str) -> ApiResult<Option<(Uuid, String)>> {
        Ok(users::table
            .filter(users::email.eq(email))
            .select((users::id, users::password_hash))
            .first(conn)
            .await
            .optional()?)
    }

    /// The id and password hash of the enabled user with this email: a disabled account signs in as an unknown
    /// one would not.
    pub async fn sign_in_credentials(
        conn: &mut Conn,
        email: &str,
    ) -> ApiResult<Option<(Uuid, String)>> {
        Ok(users::table
            .filter(users::email.eq(email))
            .filter(users::disabled.eq(false))
            .select((users::id, users::password_hash))
            .first(conn)
            .await
            .optional()?)
    }

    /// The user's session version (named in each access token) and whether the account is disabled.
    pub async fn session_state(conn: &mut Conn, id: Uuid) -> ApiResult<(i32, bool)> {
        Ok(users::table
            .find(id)
            .select((users::session_version, users::disabled))
            .first(conn)
            .await?)
    }

    /// Replaces a user's councils.
    pub async fn set_councils(
        conn: &mut Conn,
        user_id: Uuid,
        council_ids: &[Uuid],
    ) -> ApiResult<()> {
        diesel::delete(user_councils::table.filter(user_councils::user_id.eq(user_id)))
            .execute(conn)
            .await?;
        let rows: Vec<_> = council_ids
            .iter()
            .map(|c| {
                (
                    user_councils::user_id.eq(user_id),
                    user_councils::council_id.eq(*c),
                )
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(user_councils::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}

/// Normalises an email for storage and lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The columns written when a user is created.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Id.
    pub id: Uuid,
    /// Email, normalised.
    pub email: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organization_id: Option<Uuid>,
    /// Agency.
    pub agency_id: Option<Uuid>,
    /// Argon2id hash.
    pub password_hash: &'a str,
}

/// Inserts a user and their councils; the caller runs it in a transaction with the audit row.
pub async fn insert(conn: &mut Conn, new: NewUser<'_>, council_ids: &[Uuid]) -> ApiResult<()> {
    diesel::insert_into(users::table)
        .values(&new)
        .execute(conn)
        .await?;
    User::set_councils(conn, new.id, council_ids).await
}

/// Creates an admin with this email unless a user with it exists; returns whether one was created.
pub async fn ensure_admin(
    pool: &crate::db::DbPool,
    email: &str,
    password: &str,
) -> anyhow::Result<bool> {
    let email = normalize_email(email);
    let mut conn = pool.get().await?;
    if User::credentials(&mut conn, &email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_some()
    {
        return Ok(false);
    }
    let request = CreateUser {
        email,
        display_name: "Administrator".to_owned(),
        role: Role::Admin,
        organization_id: None,
        agency_id: None,
        council_ids: Vec::new(),
        password: password.to_owned(),
    };
    create_with_password(pool, &request).await?;
    Ok(true)
}

/// Validates, hashes and creates a user outside any request (the CLI).
pub async fn create_with_password(
    pool: &crate::db::DbPool,
    request: &CreateUser,
) -> anyhow::Result<User> {
    crate::http::extract::validate(request)
        .map_err(|e| anyhow::anyhow!("invalid user: {}", e.summary()))?;
    let hash = crate::auth::password::hash(request.password.clone()).await?;
    let mut conn = pool.get().await?;
    let actor = crate::auth::Actor::system();
    super::handlers::create(&mut conn, &actor, request, &hash)
        .await
        .map_err(|e| anyhow::anyhow!("creating the user: {}", e.summary()))
}
