//! Users: rows, request bodies and queries. Password hashes never leave this module's queries.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::Conn;
use crate::db::schema::{councils, organizations, user_councils, users};
use crate::domain::Role;
use crate::http::extract::not_blank;
use crate::http::patch::{nullable, required};
use crate::http::{ApiError, ApiResult, Cursor, FieldError, Keyed};

/// The stored user, without the password hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
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
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i32,
}

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    pub council_ids: Vec<Uuid>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version, +1 on each change; also the `ETag`.
    pub version: i32,
}

crate::directory_record!(User, users, "user");

impl User {
    fn from_row(row: UserRow, council_ids: Vec<Uuid>) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
            organization_id: row.organization_id,
            agency_id: row.agency_id,
            council_ids,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

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

/// A new user.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login email.
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Name shown to others.
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Organisation (required for `ngo_member`).
    pub organization_id: Option<Uuid>,
    /// Agency (required for `agency_officer`).
    pub agency_id: Option<Uuid>,
    /// Councils (at least one for `secretary`).
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub council_ids: Vec<Uuid>,
    /// Password, 10 to 128 characters.
    #[validate(length(min = 10, max = 128))]
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: String,
}

/// Changes to a user: absent fields stay, `null` clears a nullable one.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// Login email.
    #[serde(default, deserialize_with = "required")]
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254, nullable = false)]
    pub email: Option<String>,
    /// Name shown to others.
    #[serde(default, deserialize_with = "required")]
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200, nullable = false)]
    pub display_name: Option<String>,
    /// Role.
    #[serde(default, deserialize_with = "required")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    /// Organisation.
    #[serde(default, deserialize_with = "nullable")]
    pub organization_id: Option<Option<Uuid>>,
    /// Agency.
    #[serde(default, deserialize_with = "nullable")]
    pub agency_id: Option<Option<Uuid>>,
    /// Councils (replaces the list).
    #[serde(default, deserialize_with = "required")]
    #[validate(length(max = 50))]
    #[schema(max_items = 50, nullable = false)]
    pub council_ids: Option<Vec<Uuid>>,
    /// New password.
    #[serde(default, deserialize_with = "required")]
    #[validate(length(min = 10, max = 128))]
    #[schema(min_length = 10, max_length = 128, format = Password, nullable = false)]
    pub password: Option<String>,
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
        if let Some(id) = self.organization_id {
            let found: bool = diesel::select(diesel::dsl::exists(organizations::table.find(id)))
                .get_result(conn)
                .await?;
            if !found {
                errors.push(FieldError::new(
                    "organization_id",
                    format!("unknown organisation `{id}`"),
                ));
            }
        }
        if let Some(id) = self.agency_id
            && let Err(ApiError::Validation(mut e)) =
                crate::agencies::Agency::ensure_exists(conn, id, "agency_id").await
        {
            errors.append(&mut e);
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
    /// One user.
    pub async fn find(conn: &mut Conn, id: Uuid) -> ApiResult<Self> {
        let row: UserRow = users::table
            .find(id)
            .select(UserRow::as_select())
            .first(conn)
            .await?;
        let councils = council_ids(conn, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(Self::from_row(row, councils))
    }

    /// A page (`limit + 1` rows) of users, oldest first; two queries whatever the page size.
    pub async fn list(conn: &mut Conn, after: Option<Cursor>, limit: i64) -> ApiResult<Vec<Self>> {
        let mut query = users::table.select(UserRow::as_select()).into_boxed();
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
        let rows: Vec<UserRow> = query
            .order((users::created_at.asc(), users::id.asc()))
            .limit(limit + 1)
            .load(conn)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut councils = council_ids(conn, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let c = councils.remove(&r.id).unwrap_or_default();
                Self::from_row(r, c)
            })
            .collect())
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

/// The councils of each of these users.
async fn council_ids(conn: &mut Conn, user_ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Vec<Uuid>>> {
    let pairs: Vec<(Uuid, Uuid)> = user_councils::table
        .filter(user_councils::user_id.eq_any(user_ids))
        .select((user_councils::user_id, user_councils::council_id))
        .order(user_councils::council_id.asc())
        .load(conn)
        .await?;
    let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (user, council) in pairs {
        map.entry(user).or_default().push(council);
    }
    Ok(map)
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
