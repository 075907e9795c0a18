//! What a fresh database gets on first start (API.md "Start-up"): the three Binjiang streets
//! with their official codes, and the `admin` account.

use chrono::Utc;
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait};

use super::entities::street;
use super::users;
use crate::domain::values::Role;
use crate::error::AppResult;

/// The streets of Binjiang District with their official division codes.
pub const STREETS: [(&str, &str); 3] = [
    ("330108001", "西兴街道"),
    ("330108002", "长河街道"),
    ("330108003", "浦沿街道"),
];

/// Seeds an empty database. Returns the generated admin password when one was made up (it is
/// printed once by the caller and never stored in clear).
pub async fn seed_if_empty(db: &DatabaseConnection, admin_password: Option<&str>) -> AppResult<Option<String>> {
    if street::Entity::find().count(db).await? == 0 {
        for (code, name) in STREETS {
            street::ActiveModel {
                code: Set(code.into()),
                name: Set(name.into()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    if users::count(db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match admin_password {
        Some(p) => (p.to_string(), false),
        None => (Alphanumeric.sample_string(&mut rand::rng(), 20), true),
    };
    users::create(
        db,
        "admin",
        &password,
        Role::DistrictAdmin,
        None,
        None,
        Some("区规划资源分局管理员"),
    )
    .await?;
    Ok(generated.then_some(password))
}
