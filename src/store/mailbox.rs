//! The planner mailbox (驻街规划师信箱, 五(4)) and the residents' demand list (需求清单,
//! 四(5)). Anyone may write a letter to a street's workstation; the tracking code alone shows
//! its status and reply. The street's planners (and its staff, and the bureau) answer it,
//! close it, and may turn it into an item of the demand list.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

use super::begin_write;
use super::entities::{demand, letter, street};
use super::registry::{find, find_for_update};
use super::work::{check_community, check_project, clean_long_text, readable_streets, require_street_work};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::work::{IssueStatus, LetterCategory, LetterStatus, normalize_tracking_code, tracking_code};
use crate::error::AppResult;

/// Longest letter accepted, in characters.
pub const MAX_LETTER_CHARS: usize = 2_000;
/// Longest contact accepted, in characters.
pub const MAX_CONTACT_CHARS: usize = 100;

pub struct NewLetter {
    pub street_id: i64,
    pub community_id: Option<i64>,
    pub category: LetterCategory,
    pub content: String,
    pub contact: Option<String>,
}

/// Stores a resident's letter and returns it with its tracking code.
pub async fn submit_letter(db: &DatabaseConnection, l: NewLetter) -> AppResult<letter::Model> {
    let content = clean_long_text(&l.content, "content", "来信内容", MAX_LETTER_CHARS)?;
    let contact = match l.contact.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => {
            if c.chars().count() > MAX_CONTACT_CHARS {
                return Err(
                    DomainError::bad_input("contact", format!("联系方式过长（最多{MAX_CONTACT_CHARS}个字）")).into(),
                );
            }
            Some(c.to_string())
        }
        _ => None,
    };
    let tx = begin_write(db).await?;
    find::<street::Entity, _>(&tx, l.street_id, "街道", "streetId").await?;
    check_community(&tx, l.community_id, l.street_id).await?;
    let code = tracking_code(rand::random());
    let row = letter::ActiveModel {
        tracking_code: Set(code),
        street_id: Set(l.street_id),
        community_id: Set(l.community_id),
        category: Set(l.category.code().into()),
        content: Set(content),
        contact: Set(contact),
        status: Set(LetterStatus::Received.code().into()),
        reply: Set(None),
        replied_at: Set(None),
        replied_by: Set(None),
        closed_at: Set(None),
        demand_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    crate::notify::letter_submitted(&tx, row.id).await?;
    tx.commit().await?;
    Ok(row)
}

/// The letter a tracking code names, as typed by a resident; `NOT_FOUND` for anything else.
pub async fn letter_by_code<C: ConnectionTrait>(db: &C, raw: &str) -> AppResult<letter::Model> {
    let code =
        normalize_tracking_code(raw).ok_or_else(|| DomainError::not_found("查询码对应的来信", "trackingCode"))?;
    letter::Entity::find()
        .filter(letter::Column::TrackingCode.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("查询码对应的来信", "trackingCode").into())
}

#[derive(Debug, Clone, Default)]
pub struct LetterFilter {
    pub street_id: Option<i64>,
    pub status: Option<LetterStatus>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Letters the actor may read (the bureau and viewers all; staff their street; planners the
/// streets whose teams they are on), newest first.
pub async fn letters<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &LetterFilter,
) -> AppResult<sea_orm::Select<letter::Entity>> {
    let mut s = letter::Entity::find()
        .order_by_desc(letter::Column::CreatedAt)
        .order_by_desc(letter::Column::Id);
    if let Some(streets) = readable_streets(db, actor).await? {
        s = s.filter(letter::Column::StreetId.is_in(streets));
    }
    if let Some(v) = f.street_id {
        s = s.filter(letter::Column::StreetId.eq(v));
    }
    if let Some(v) = f.status {
        s = s.filter(letter::Column::Status.eq(v.code()));
    }
    if let Some(v) = f.from {
        s = s.filter(letter::Column::CreatedAt.gte(super::day_start_utc(v)));
    }
    if let Some(v) = f.to {
        s = s.filter(letter::Column::CreatedAt.lt(super::day_start_utc(v + chrono::Duration::days(1))));
    }
    Ok(s)
}

fn status_of(l: &letter::Model) -> LetterStatus {
    LetterStatus::from_code(&l.status).unwrap_or(LetterStatus::Received)
}

fn move_to(l: &letter::Model, next: LetterStatus) -> Result<(), DomainError> {
    let now = status_of(l);
    if now.can_become(next) {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "letterId",
            format!("来信当前状态为“{}”，不能改为“{}”", now.label(), next.label()),
        ))
    }
}

/// Answers a letter (a later answer replaces the earlier one until the letter is closed).
pub async fn reply_letter(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    reply: &str,
    today: NaiveDate,
) -> AppResult<letter::Model> {
    let tx = begin_write(db).await?;
    let l = find_for_update::<letter::Entity, _>(&tx, id, "来信", "letterId").await?;
    require_street_work(&tx, actor, l.street_id, today).await?;
    move_to(&l, LetterStatus::Replied)?;
    let reply = clean_long_text(reply, "reply", "答复内容", MAX_LETTER_CHARS)?;
    let mut am = l.into_active_model();
    am.status = Set(LetterStatus::Replied.code().into());
    am.reply = Set(Some(reply));
    am.replied_at = Set(Some(Utc::now()));
    am.replied_by = Set((actor.user_id > 0).then_some(actor.user_id));
    let l = am.update(&tx).await?;
    tx.commit().await?;
    Ok(l)
}

pub async fn close_letter(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    today: NaiveDate,
) -> AppResult<letter::Model> {
    let tx = begin_write(db).await?;
    let l = find_for_update::<letter::Entity, _>(&tx, id, "来信", "letterId").await?;
    require_street_work(&tx, actor, l.street_id, today).await?;
    move_to(&l, LetterStatus::Closed)?;
    let mut am = l.into_active_model();
    am.status = Set(LetterStatus::Closed.code().into());
    am.closed_at = Set(Some(Utc::now()));
    let l = am.update(&tx).await?;
    tx.commit().await?;
    Ok(l)
}

pub struct NewDemand {
    pub street_id: i64,
    pub community_id: Option<i64>,
    pub description: String,
}

async fn insert_demand<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    d: NewDemand,
    source: &str,
    letter_id: Option<i64>,
) -> AppResult<demand::Model> {
    check_community(db, d.community_id, d.street_id).await?;
    Ok(demand::ActiveModel {
        street_id: Set(d.street_id),
        community_id: Set(d.community_id),
        description: Set(clean_long_text(
            &d.description,
            "description",
            "需求内容",
            MAX_LETTER_CHARS,
        )?),
        source: Set(source.into()),
        letter_id: Set(letter_id),
        status: Set(IssueStatus::Open.code().into()),
        project_id: Set(None),
        created_at: Set(Utc::now()),
        created_by: Set((actor.user_id > 0).then_some(actor.user_id)),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Adds an item to the street's demand list (需求清单), collected on a visit or a meeting.
pub async fn create_demand(
    db: &DatabaseConnection,
    actor: &Actor,
    d: NewDemand,
    today: NaiveDate,
) -> AppResult<demand::Model> {
    let tx = begin_write(db).await?;
    require_street_work(&tx, actor, d.street_id, today).await?;
    let row = insert_demand(&tx, actor, d, "VISIT", None).await?;
    tx.commit().await?;
    Ok(row)
}

/// Turns a letter into an item of the demand list (once).
pub async fn demand_from_letter(
    db: &DatabaseConnection,
    actor: &Actor,
    letter_id: i64,
    description: Option<String>,
    today: NaiveDate,
) -> AppResult<(letter::Model, demand::Model)> {
    let tx = begin_write(db).await?;
    let l = find_for_update::<letter::Entity, _>(&tx, letter_id, "来信", "letterId").await?;
    require_street_work(&tx, actor, l.street_id, today).await?;
    if l.demand_id.is_some() {
        return Err(DomainError::conflict("letterId", "该来信已列入需求清单").into());
    }
    let d = insert_demand(
        &tx,
        actor,
        NewDemand {
            street_id: l.street_id,
            community_id: l.community_id,
            description: description
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| l.content.clone()),
        },
        "LETTER",
        Some(l.id),
    )
    .await?;
    let mut am = l.into_active_model();
    am.demand_id = Set(Some(d.id));
    let l = am.update(&tx).await?;
    tx.commit().await?;
    Ok((l, d))
}

pub async fn update_demand(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    status: Option<IssueStatus>,
    project_id: Option<i64>,
    today: NaiveDate,
) -> AppResult<demand::Model> {
    let tx = begin_write(db).await?;
    let d = find_for_update::<demand::Entity, _>(&tx, id, "需求", "demandId").await?;
    require_street_work(&tx, actor, d.street_id, today).await?;
    check_project(&tx, project_id, d.street_id).await?;
    let mut am = d.into_active_model();
    if let Some(s) = status {
        am.status = Set(s.code().into());
    }
    if project_id.is_some() {
        am.project_id = Set(project_id);
    }
    let d = am.update(&tx).await?;
    tx.commit().await?;
    Ok(d)
}
