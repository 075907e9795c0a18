//! User accounts.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use super::entities::{planner, street, user};
use super::registry::find;
use crate::auth::{Actor, Verified, check_password_strength, hash_password};
use crate::domain::DomainError;
use crate::domain::values::Role;
use crate::error::AppResult;

pub async fn count<C: ConnectionTrait>(db: &C) -> AppResult<u64> {
    Ok(user::Entity::find().count(db).await?)
}

pub async fn by_username<C: ConnectionTrait>(db: &C, username: &str) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?)
}

/// The acting user for a verified token's subject; disabled or deleted accounts get none.
/// The active account a verified token names: `None` when it was deleted or disabled, or
/// its password changed after the token was issued (the versions differ).
pub async fn actor(db: &DatabaseConnection, token: Verified) -> AppResult<Option<Actor>> {
    let Some(u) = user::Entity::find_by_id(token.user_id).one(db).await? else {
        return Ok(None);
    };
    if u.token_version != token.version {
        return Ok(None);
    }
    Ok(to_actor(&u))
}

pub fn to_actor(u: &user::Model) -> Option<Actor> {
    if u.disabled {
        return None;
    }
    Some(Actor {
        user_id: u.id,
        username: u.username.clone(),
        role: Role::from_code(&u.role)?,
        token_version: u.token_version,
        street_id: u.street_id,
        planner_id: u.planner_id,
    })
}

/// Creates an account. `STREET_STAFF` needs a street; `PLANNER` needs a planner record.
pub async fn create(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
    role: Role,
    street_id: Option<i64>,
    planner_id: Option<i64>,
    display_name: Option<&str>,
) -> AppResult<user::Model> {
    let username = username.trim();
    if username.len() < 2
        || username.len() > 40
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(DomainError::bad_input("username", "用户名须为2到40位英文字母、数字或 . _ -").into());
    }
    check_password_strength(password)?;
    match role {
        Role::StreetStaff if street_id.is_none() => {
            return Err(DomainError::bad_input("streetId", "街道工作人员账号必须指定所属街道").into());
        }
        Role::Planner if planner_id.is_none() => {
            return Err(DomainError::bad_input("plannerId", "规划师账号必须关联规划师档案").into());
        }
        _ => {}
    }
    if let Some(s) = street_id {
        find::<street::Entity, _>(db, s, "街道", "streetId").await?;
    }
    if let Some(p) = planner_id {
        find::<planner::Entity, _>(db, p, "规划师", "plannerId").await?;
    }
    if by_username(db, username).await?.is_some() {
        return Err(DomainError::conflict("username", format!("用户名“{username}”已被使用")).into());
    }
    let hash = hash_password(password.to_string()).await?;
    let tx = super::begin_write(db).await?;
    let row = user::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(hash),
        role: Set(role.code().to_string()),
        street_id: Set(street_id.filter(|_| role == Role::StreetStaff)),
        planner_id: Set(planner_id.filter(|_| role == Role::Planner)),
        display_name: Set(display_name.map(str::to_string)),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        token_version: Set(0),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    crate::notify::account_changed_here(row.id);
    Ok(row)
}

/// Changes to an account by the bureau; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// Disables, re-enables, renames or resets the password of an account. An administrator
/// cannot disable their own account (so the bureau never locks itself out by accident).
pub async fn update(db: &DatabaseConnection, by: &Actor, user_id: i64, changes: UserChanges) -> AppResult<user::Model> {
    use sea_orm::IntoActiveModel;
    by.require_admin()?;
    let u = find::<user::Entity, _>(db, user_id, "账号", "id").await?;
    if changes.disabled == Some(true) && u.id == by.user_id {
        return Err(DomainError::bad_input("disabled", "不能停用自己的账号").into());
    }
    let current = u.clone();
    let mut am = u.into_active_model();
    if let Some(name) = changes.display_name {
        let name = name.trim().to_string();
        am.display_name = Set((!name.is_empty()).then_some(name));
    }
    if let Some(d) = changes.disabled {
        am.disabled = Set(d);
    }
    if let Some(p) = changes.password {
        check_password_strength(&p)?;
        am.password_hash = Set(hash_password(p).await?);
        // A new password ends every session of the old one.
        am.token_version = Set(current.token_version.wrapping_add(1));
    }
    // One transaction: the change, its audit row and (PostgreSQL, from the entity hook) the
    // notification that ends the account's cached sessions on every replica once it commits.
    let tx = super::begin_write(db).await?;
    let row = am.update(&tx).await?;
    tx.commit().await?;
    crate::notify::account_changed_here(row.id);
    Ok(row)
}

/// All accounts, by username (for the command line).
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<user::Model>> {
    use sea_orm::QueryOrder;
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?)
}
