//! The registry's writes and the facts its rules need: each operation loads what the
//! measures check, asks `domain`, and writes in one transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    IntoActiveModel, ModelTrait, PrimaryKeyTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{
    appointment, barring, community, member_community, organization, planner, service_contract, street, team_member,
    workstation,
};
use super::{begin_write, lock_street};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::eligibility::{EligibilityOverride, LeadCandidate, check_lead};
use crate::domain::team::{Nominee, ensure_not_barred, ensure_team_shape};
use crate::domain::term::{ContractPeriod, ExistingContract, StreetAppointment, Term, ensure_single_team};
use crate::domain::values::{
    OrganizationKind, PersonName, Phone, Qualification, Specialty, TeamRole, TitleLevel, to_half_width,
};
use crate::error::{AppError, AppResult};

/// Loads one row by id or refuses with `NOT_FOUND` naming `what` and the input `field`.
pub async fn find<E, C>(db: &C, id: i64, what: &'static str, field: &str) -> AppResult<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(what, field).into())
}

/// `find`, locking the row until the transaction ends (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite's write transactions are already serialised by BEGIN IMMEDIATE). For
/// read-modify-write of one record, so two concurrent edits queue instead of both reading
/// the same old state (a lost update).
pub async fn find_for_update<E, C>(db: &C, id: i64, what: &'static str, field: &str) -> AppResult<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    C: ConnectionTrait,
{
    let q = E::find_by_id(id);
    let q = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q.lock_exclusive()
    } else {
        q
    };
    q.one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(what, field).into())
}

/// A short text a clerk typed: full-width folded, trimmed, not empty, bounded.
pub fn clean_text(raw: &str, field: &str, label: &str, max: usize) -> Result<String, DomainError> {
    bounded_text(to_half_width(raw).trim().to_string(), field, label, max)
}

/// Refuses an empty text or one longer than `max` characters, naming `label`.
pub fn bounded_text(s: String, field: &str, label: &str, max: usize) -> Result<String, DomainError> {
    if s.is_empty() {
        return Err(DomainError::bad_input(field, format!("{label}不能为空")));
    }
    if s.chars().count() > max {
        return Err(DomainError::bad_input(field, format!("{label}过长（最多{max}个字）")));
    }
    Ok(s)
}

// ---------------------------------------------------------------- communities

pub async fn create_community(
    db: &DatabaseConnection,
    actor: &Actor,
    street_id: i64,
    name: &str,
) -> AppResult<community::Model> {
    actor.require_street_write(street_id)?;
    let name = clean_text(name, "name", "社区名称", 50)?;
    let tx = begin_write(db).await?;
    find::<street::Entity, _>(&tx, street_id, "街道", "streetId").await?;
    ensure_community_name_free(&tx, street_id, &name, None).await?;
    let row = community::ActiveModel {
        street_id: Set(street_id),
        name: Set(name),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn rename_community(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    name: &str,
) -> AppResult<community::Model> {
    let name = clean_text(name, "name", "社区名称", 50)?;
    let tx = begin_write(db).await?;
    let row = find::<community::Entity, _>(&tx, id, "社区", "id").await?;
    actor.require_street_write(row.street_id)?;
    ensure_community_name_free(&tx, row.street_id, &name, Some(id)).await?;
    let mut am = row.into_active_model();
    am.name = Set(name);
    let row = am.update(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

async fn ensure_community_name_free<C: ConnectionTrait>(
    db: &C,
    street_id: i64,
    name: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let existing = community::Entity::find()
        .filter(community::Column::StreetId.eq(street_id))
        .filter(community::Column::Name.eq(name))
        .one(db)
        .await?;
    match existing {
        Some(c) if Some(c.id) != except => {
            Err(DomainError::conflict("name", format!("本街道已有名为“{name}”的社区")).into())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- organizations

pub async fn create_organization(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    kind: OrganizationKind,
) -> AppResult<organization::Model> {
    actor.require_registry_write()?;
    let name = clean_text(name, "name", "单位名称", 100)?;
    let tx = begin_write(db).await?;
    ensure_organization_name_free(&tx, &name, None).await?;
    let row = organization::ActiveModel {
        name: Set(name),
        kind: Set(kind.code().to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update_organization(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    name: Option<&str>,
    kind: Option<OrganizationKind>,
) -> AppResult<organization::Model> {
    actor.require_registry_write()?;
    let tx = begin_write(db).await?;
    let row = find::<organization::Entity, _>(&tx, id, "单位", "id").await?;
    let mut am = row.into_active_model();
    if let Some(name) = name {
        let name = clean_text(name, "name", "单位名称", 100)?;
        ensure_organization_name_free(&tx, &name, Some(id)).await?;
        am.name = Set(name);
    }
    if let Some(kind) = kind {
        am.kind = Set(kind.code().to_string());
    }
    let row = am.update(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

async fn ensure_organization_name_free<C: ConnectionTrait>(db: &C, name: &str, except: Option<i64>) -> AppResult<()> {
    let existing = organization::Entity::find()
        .filter(organization::Column::Name.eq(name))
        .one(db)
        .await?;
    match existing {
        Some(o) if Some(o.id) != except => Err(DomainError::conflict("name", format!("单位“{name}”已存在")).into()),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- planners

/// A planner's profile as entered; `None` fields of an update leave the stored value.
#[derive(Debug, Clone, Default)]
pub struct PlannerFields {
    pub name: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<i64>,
    pub title: Option<String>,
    pub title_level: Option<TitleLevel>,
    pub title_field: Option<Specialty>,
    pub qualifications: Option<Vec<Qualification>>,
    pub years_experience: Option<i32>,
    pub specialty: Option<Specialty>,
}

/// Qualifications are stored as their codes joined by commas.
pub fn encode_qualifications(q: &[Qualification]) -> String {
    let set: BTreeSet<_> = q.iter().copied().collect();
    set.iter().map(|q| q.code()).collect::<Vec<_>>().join(",")
}

pub fn decode_qualifications(s: &str) -> Vec<Qualification> {
    s.split(',').filter_map(Qualification::from_code).collect()
}

/// What 六(1)1 checks of this planner.
pub fn lead_candidate(p: &planner::Model) -> LeadCandidate {
    LeadCandidate {
        years_experience: u32::try_from(p.years_experience).unwrap_or(0),
        title_level: TitleLevel::from_code(&p.title_level).unwrap_or(TitleLevel::None),
        title_field: p.title_field.as_deref().and_then(Specialty::from_code),
        qualifications: decode_qualifications(&p.qualifications),
    }
}

fn apply_planner_fields(am: &mut planner::ActiveModel, f: PlannerFields) -> Result<(), DomainError> {
    if let Some(name) = f.name {
        am.name = Set(PersonName::parse(&name)?.into_inner());
    }
    if let Some(sex) = f.sex {
        let sex = to_half_width(&sex).trim().to_string();
        if !sex.is_empty() && sex != "男" && sex != "女" {
            return Err(DomainError::bad_input("sex", "性别应为“男”或“女”"));
        }
        am.sex = Set((!sex.is_empty()).then_some(sex));
    }
    if let Some(phone) = f.phone {
        am.phone = Set(if phone.trim().is_empty() {
            None
        } else {
            Some(Phone::parse(&phone)?.into_inner())
        });
    }
    if let Some(title) = f.title {
        let t = to_half_width(&title).trim().to_string();
        if t.chars().count() > 50 {
            return Err(DomainError::bad_input("title", "职称过长（最多50个字）"));
        }
        am.title = Set((!t.is_empty()).then_some(t));
    }
    if let Some(level) = f.title_level {
        am.title_level = Set(level.code().to_string());
    }
    if let Some(field) = f.title_field {
        am.title_field = Set(Some(field.code().to_string()));
    }
    if let Some(q) = f.qualifications {
        am.qualifications = Set(encode_qualifications(&q));
    }
    if let Some(y) = f.years_experience {
        if !(0..=70).contains(&y) {
            return Err(DomainError::bad_input("yearsExperience", "从业年限应在0到70年之间"));
        }
        am.years_experience = Set(y);
    }
    if let Some(s) = f.specialty {
        am.specialty = Set(Some(s.code().to_string()));
    }
    Ok(())
}

pub async fn create_planner(
    db: &DatabaseConnection,
    actor: &Actor,
    fields: PlannerFields,
) -> AppResult<planner::Model> {
    actor.require_registry_write()?;
    if fields.name.is_none() {
        return Err(DomainError::bad_input("name", "姓名不能为空").into());
    }
    let now = Utc::now();
    let mut am = planner::ActiveModel {
        title_level: Set(TitleLevel::None.code().to_string()),
        qualifications: Set(String::new()),
        years_experience: Set(0),
        sex: Set(None),
        phone: Set(None),
        title: Set(None),
        title_field: Set(None),
        specialty: Set(None),
        organization_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let org = fields.organization_id;
    apply_planner_fields(&mut am, fields)?;
    let tx = begin_write(db).await?;
    if let Some(org) = org {
        find::<organization::Entity, _>(&tx, org, "单位", "organizationId").await?;
        am.organization_id = Set(Some(org));
    }
    let row = am.insert(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update_planner(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    fields: PlannerFields,
) -> AppResult<planner::Model> {
    actor.require_registry_write()?;
    let tx = begin_write(db).await?;
    let row = find::<planner::Entity, _>(&tx, id, "规划师", "id").await?;
    let streets = planner_streets(&tx, &[id]).await?.remove(&id).unwrap_or_default();
    actor.may_edit_profile(&streets)?;
    let org = fields.organization_id;
    let mut am = row.into_active_model();
    apply_planner_fields(&mut am, fields)?;
    if let Some(org) = org {
        find::<organization::Entity, _>(&tx, org, "单位", "organizationId").await?;
        am.organization_id = Set(Some(org));
    }
    am.updated_at = Set(Utc::now());
    let row = am.update(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

/// The streets each planner serves on `on`: the streets of their teams whose term covers the
/// day and that were not ended before it.
pub async fn current_streets<C: ConnectionTrait>(
    db: &C,
    planner_ids: &[i64],
    on: NaiveDate,
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let members = team_member::Entity::find()
        .filter(team_member::Column::PlannerId.is_in(planner_ids.to_vec()))
        .all(db)
        .await?;
    let appointment_ids: Vec<i64> = members.iter().map(|m| m.appointment_id).collect();
    let streets: HashMap<i64, i64> = appointment::Entity::find()
        .filter(appointment::Column::Id.is_in(appointment_ids))
        .filter(appointment::Column::TermStart.lte(on))
        .filter(appointment::Column::TermEnd.gte(on))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| a.ended_on.is_none_or(|e| e >= on))
        .map(|a| (a.id, a.street_id))
        .collect();
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for m in members {
        if let Some(s) = streets.get(&m.appointment_id) {
            let v = out.entry(m.planner_id).or_default();
            if !v.contains(s) {
                v.push(*s);
            }
        }
    }
    Ok(out)
}

/// The streets whose teams (any term) each planner is on.
pub async fn planner_streets<C: ConnectionTrait>(db: &C, planner_ids: &[i64]) -> AppResult<HashMap<i64, Vec<i64>>> {
    let members = team_member::Entity::find()
        .filter(team_member::Column::PlannerId.is_in(planner_ids.to_vec()))
        .all(db)
        .await?;
    let appointment_ids: Vec<i64> = members.iter().map(|m| m.appointment_id).collect();
    let streets: HashMap<i64, i64> = appointment::Entity::find()
        .filter(appointment::Column::Id.is_in(appointment_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.street_id))
        .collect();
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for m in members {
        if let Some(s) = streets.get(&m.appointment_id) {
            let v = out.entry(m.planner_id).or_default();
            if !v.contains(s) {
                v.push(*s);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- barrings

/// Which of `planners` and `organizations` are barred.
pub async fn barred_sets<C: ConnectionTrait>(
    db: &C,
    planners: &[i64],
    organizations: &[i64],
) -> AppResult<(BTreeSet<i64>, BTreeSet<i64>)> {
    let rows = barring::Entity::find()
        .filter(
            barring::Column::PlannerId
                .is_in(planners.to_vec())
                .or(barring::Column::OrganizationId.is_in(organizations.to_vec())),
        )
        .all(db)
        .await?;
    let p = rows.iter().filter_map(|b| b.planner_id).collect();
    let o = rows.iter().filter_map(|b| b.organization_id).collect();
    Ok((p, o))
}

/// 五(5): records that a planner or an employer may not be appointed again.
pub async fn create_barring(
    db: &DatabaseConnection,
    actor: &Actor,
    planner_id: Option<i64>,
    organization_id: Option<i64>,
    reason: &str,
) -> AppResult<barring::Model> {
    actor.require_admin()?;
    if planner_id.is_some() == organization_id.is_some() {
        return Err(DomainError::bad_input("plannerId", "请在规划师和单位中指定且只指定一个").into());
    }
    let reason = clean_text(reason, "reason", "禁聘原因", 500)?;
    let tx = begin_write(db).await?;
    if let Some(p) = planner_id {
        find::<planner::Entity, _>(&tx, p, "规划师", "plannerId").await?;
    }
    if let Some(o) = organization_id {
        find::<organization::Entity, _>(&tx, o, "单位", "organizationId").await?;
    }
    let row = barring::ActiveModel {
        planner_id: Set(planner_id),
        organization_id: Set(organization_id),
        reason: Set(reason),
        assessment_id: Set(None),
        created_at: Set(Utc::now()),
        created_by: Set(Some(actor.user_id)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------- appointments

/// One person proposed for a team.
#[derive(Debug, Clone)]
pub struct MemberSpec {
    pub planner_id: i64,
    pub role: TeamRole,
    pub community_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub street_id: i64,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    pub members: Vec<MemberSpec>,
    pub override_reason: Option<String>,
    pub note: Option<String>,
}

/// Checks the nominees against 五(5) (barring) and the lead against 六(1)1.
async fn vet_nominees<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    street_id: i64,
    members: &[MemberSpec],
    override_reason: Option<&str>,
) -> AppResult<Option<EligibilityOverride>> {
    let ids: Vec<i64> = members.iter().map(|m| m.planner_id).collect();
    let planners: HashMap<i64, planner::Model> = planner::Entity::find()
        .filter(planner::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    if let Some(i) = ids.iter().position(|id| !planners.contains_key(id)) {
        return Err(DomainError::NotFound {
            what: "规划师",
            field: Some(format!("members[{i}].plannerId")),
        }
        .into());
    }
    // Street staff do not pull in another street's serving planner (auth::may_enlist).
    if !actor.is_admin() {
        let mut serving = current_streets(db, &ids, crate::domain::today()).await?;
        for m in members {
            let streets = serving.remove(&m.planner_id).unwrap_or_default();
            actor.may_enlist(street_id, &streets).map_err(|e| match e {
                DomainError::Forbidden { message } => DomainError::Forbidden {
                    message: format!("{}：{message}", planners[&m.planner_id].name),
                },
                other => other,
            })?;
        }
    }
    let org_ids: Vec<i64> = planners.values().filter_map(|p| p.organization_id).collect();
    let orgs: HashMap<i64, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(org_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let (barred_p, barred_o) = barred_sets(db, &ids, &org_ids).await?;
    let nominees: Vec<Nominee<'_>> = members
        .iter()
        .map(|m| {
            let p = &planners[&m.planner_id];
            Nominee {
                name: &p.name,
                planner_barred: barred_p.contains(&p.id),
                organization: p
                    .organization_id
                    .and_then(|o| orgs.get(&o))
                    .map(|o| (o.name.as_str(), barred_o.contains(&o.id))),
            }
        })
        .collect();
    ensure_not_barred(&nominees)?;

    let override_ = match override_reason {
        Some(r) => Some(EligibilityOverride::new(r, actor.role)?),
        None => None,
    };
    if let Some(lead) = members.iter().find(|m| m.role == TeamRole::Lead) {
        let p = &planners[&lead.planner_id];
        let unmet = check_lead(&p.name, &lead_candidate(p), override_.as_ref())?;
        // An override is recorded only where it was needed.
        return Ok(override_.filter(|_| !unmet.is_empty()));
    }
    Ok(None)
}

/// Community planners serve communities of the appointment's street (三 基层全覆盖); other
/// roles are not tied to communities.
async fn check_member_communities<C: ConnectionTrait>(db: &C, street_id: i64, members: &[MemberSpec]) -> AppResult<()> {
    let street_communities: BTreeSet<i64> = community::Entity::find()
        .filter(community::Column::StreetId.eq(street_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for (i, m) in members.iter().enumerate() {
        let field = format!("members[{i}].communityIds");
        match m.role {
            TeamRole::CommunityPlanner if m.community_ids.is_empty() => {
                return Err(DomainError::bad_input(field, "社区规划师须至少对接一个社区").into());
            }
            TeamRole::CommunityPlanner => {}
            _ if !m.community_ids.is_empty() => {
                return Err(DomainError::bad_input(field, "只有社区规划师对接社区").into());
            }
            _ => {}
        }
        if let Some(j) = m.community_ids.iter().position(|c| !street_communities.contains(c)) {
            return Err(DomainError::bad_input(
                format!("{field}[{j}]"),
                format!("所选的第{}个社区不属于该街道", j + 1),
            )
            .into());
        }
    }
    Ok(())
}

/// An error of a check run on one member outside a `members` list (`addTeamMember`,
/// `updateTeamMember`, `changeAppointmentLead`): its field is named as in that input
/// (`communityIds[0]`, not `members[0].communityIds[0]`).
fn single_member(e: AppError) -> AppError {
    match e {
        AppError::Domain(DomainError::BadInput { field, message }) => AppError::Domain(DomainError::BadInput {
            field: field.map(|f| f.strip_prefix("members[0].").map(str::to_string).unwrap_or(f)),
            message,
        }),
        AppError::Domain(DomainError::NotFound { what, field }) => AppError::Domain(DomainError::NotFound {
            what,
            field: field.map(|f| f.strip_prefix("members[0].").map(str::to_string).unwrap_or(f)),
        }),
        other => other,
    }
}

async fn street_appointments<C: ConnectionTrait>(
    db: &C,
    street_id: i64,
    except: Option<i64>,
) -> AppResult<Vec<StreetAppointment>> {
    let rows = appointment::Entity::find()
        .filter(appointment::Column::StreetId.eq(street_id))
        .all(db)
        .await?;
    rows.into_iter()
        .filter(|a| Some(a.id) != except)
        .map(|a| {
            Ok(StreetAppointment {
                id: a.id,
                term: Term::new(a.term_start, a.term_end)?,
                ended_on: a.ended_on,
            })
        })
        .collect()
}

async fn insert_member<C: ConnectionTrait>(
    db: &C,
    appointment_id: i64,
    m: &MemberSpec,
) -> AppResult<team_member::Model> {
    let row = team_member::ActiveModel {
        appointment_id: Set(appointment_id),
        planner_id: Set(m.planner_id),
        role: Set(m.role.code().to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    set_member_communities(db, row.id, &m.community_ids).await?;
    Ok(row)
}

async fn set_member_communities<C: ConnectionTrait>(db: &C, member_id: i64, community_ids: &[i64]) -> AppResult<()> {
    let before: BTreeSet<i64> = member_community::Entity::find()
        .filter(member_community::Column::TeamMemberId.eq(member_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.community_id)
        .collect();
    let after: BTreeSet<i64> = community_ids.iter().copied().collect();
    if before != after {
        // The links are replaced in bulk (no per-row hook): one audit row for the member.
        super::audit::record(
            db,
            super::audit::Action::Update,
            Some("TeamMember"),
            Some(member_id),
            None,
            &[super::audit::Change {
                field: "community_ids".into(),
                before: serde_json::json!(before),
                after: serde_json::json!(after),
            }],
        )
        .await?;
    }
    member_community::Entity::delete_many()
        .filter(member_community::Column::TeamMemberId.eq(member_id))
        .exec(db)
        .await?;
    let unique: BTreeSet<i64> = community_ids.iter().copied().collect();
    if unique.is_empty() {
        return Ok(());
    }
    member_community::Entity::insert_many(unique.into_iter().map(|c| member_community::ActiveModel {
        team_member_id: Set(member_id),
        community_id: Set(c),
        ..Default::default()
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// 六(2)3: the street appoints a team for a term.
pub async fn create_appointment(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewAppointment,
) -> AppResult<appointment::Model> {
    actor.require_street_write(new.street_id)?;
    let term = Term::new(new.term_start, new.term_end)?;
    let shape: Vec<(i64, TeamRole)> = new.members.iter().map(|m| (m.planner_id, m.role)).collect();
    ensure_team_shape(&shape)?;
    let note = new
        .note
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);

    let tx = begin_write(db).await?;
    find::<street::Entity, _>(&tx, new.street_id, "街道", "streetId").await?;
    lock_street(&tx, new.street_id).await?;
    ensure_single_team(&term, None, &street_appointments(&tx, new.street_id, None).await?)?;
    check_member_communities(&tx, new.street_id, &new.members).await?;
    let override_ = vet_nominees(&tx, actor, new.street_id, &new.members, new.override_reason.as_deref()).await?;
    let row = appointment::ActiveModel {
        street_id: Set(new.street_id),
        term_start: Set(term.start()),
        term_end: Set(term.end()),
        ended_on: Set(None),
        override_reason: Set(override_.as_ref().map(|o| o.reason().to_string())),
        override_by: Set(override_.as_ref().map(|_| actor.user_id)),
        note: Set(note),
        created_at: Set(Utc::now()),
        created_by: Set(Some(actor.user_id)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    for m in &new.members {
        insert_member(&tx, row.id, m).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Changes an appointment's term, ends it early, or edits its note.
pub async fn update_appointment(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    note: Option<String>,
) -> AppResult<appointment::Model> {
    let tx = begin_write(db).await?;
    let row = find::<appointment::Entity, _>(&tx, id, "聘任", "id").await?;
    actor.require_street_write(row.street_id)?;
    lock_street(&tx, row.street_id).await?;
    let term = Term::new(term_start.unwrap_or(row.term_start), term_end.unwrap_or(row.term_end))?;
    let ended = ended_on.or(row.ended_on);
    if let Some(e) = ended
        && (e < term.start() || e > term.end())
    {
        return Err(DomainError::bad_input("endedOn", "提前终止日期须在聘期之内").into());
    }
    ensure_single_team(&term, ended, &street_appointments(&tx, row.street_id, Some(id)).await?)?;
    let contracts = service_contract::Entity::find()
        .filter(service_contract::Column::AppointmentId.eq(id))
        .all(&tx)
        .await?;
    if let Some(c) = contracts
        .iter()
        .find(|c| c.start_date < term.start() || c.end_date > term.end())
    {
        return Err(DomainError::bad_input(
            "termEnd",
            format!(
                "已有服务合同（{}至{}）将落在新聘期之外，请先调整合同",
                c.start_date, c.end_date
            ),
        )
        .into());
    }
    let mut am = row.into_active_model();
    am.term_start = Set(term.start());
    am.term_end = Set(term.end());
    am.ended_on = Set(ended);
    if let Some(n) = note {
        let n = n.trim().to_string();
        am.note = Set((!n.is_empty()).then_some(n));
    }
    let row = am.update(&tx).await?;
    tx.commit().await?;
    Ok(row)
}

async fn members_of<C: ConnectionTrait>(db: &C, appointment_id: i64) -> AppResult<Vec<team_member::Model>> {
    Ok(team_member::Entity::find()
        .filter(team_member::Column::AppointmentId.eq(appointment_id))
        .order_by_asc(team_member::Column::Id)
        .all(db)
        .await?)
}

/// Adds a team member or community planner (not a lead: see `change_lead`).
pub async fn add_team_member(
    db: &DatabaseConnection,
    actor: &Actor,
    appointment_id: i64,
    spec: MemberSpec,
) -> AppResult<team_member::Model> {
    if spec.role == TeamRole::Lead {
        return Err(DomainError::bad_input("role", "更换驻街规划师请使用“更换团队负责人”").into());
    }
    let tx = begin_write(db).await?;
    let appt = find::<appointment::Entity, _>(&tx, appointment_id, "聘任", "appointmentId").await?;
    actor.require_street_write(appt.street_id)?;
    lock_street(&tx, appt.street_id).await?;
    let mut shape: Vec<(i64, TeamRole)> = members_of(&tx, appointment_id)
        .await?
        .iter()
        .map(|m| (m.planner_id, role_of(m)))
        .collect();
    shape.push((spec.planner_id, spec.role));
    ensure_team_shape(&shape).map_err(|e| match e {
        DomainError::Conflict { .. } => DomainError::conflict("plannerId", "该规划师已在团队中"),
        other => other,
    })?;
    check_member_communities(&tx, appt.street_id, std::slice::from_ref(&spec))
        .await
        .map_err(single_member)?;
    vet_nominees(&tx, actor, appt.street_id, std::slice::from_ref(&spec), None)
        .await
        .map_err(single_member)?;
    let row = insert_member(&tx, appointment_id, &spec).await?;
    tx.commit().await?;
    Ok(row)
}

pub fn role_of(m: &team_member::Model) -> TeamRole {
    TeamRole::from_code(&m.role).unwrap_or(TeamRole::Member)
}

/// Changes a member's role (between member and community planner) or communities.
pub async fn update_team_member(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: i64,
    role: Option<TeamRole>,
    community_ids: Option<Vec<i64>>,
) -> AppResult<team_member::Model> {
    let tx = begin_write(db).await?;
    let m = find::<team_member::Entity, _>(&tx, member_id, "团队成员", "id").await?;
    let appt = find::<appointment::Entity, _>(&tx, m.appointment_id, "聘任", "id").await?;
    actor.require_street_write(appt.street_id)?;
    let current = role_of(&m);
    let new_role = role.unwrap_or(current);
    if new_role == TeamRole::Lead || current == TeamRole::Lead {
        return Err(DomainError::bad_input("role", "更换驻街规划师请使用“更换团队负责人”").into());
    }
    let communities = match community_ids {
        Some(c) => c,
        None if new_role == TeamRole::CommunityPlanner => member_community::Entity::find()
            .filter(member_community::Column::TeamMemberId.eq(member_id))
            .all(&tx)
            .await?
            .into_iter()
            .map(|mc| mc.community_id)
            .collect(),
        None => Vec::new(),
    };
    let spec = MemberSpec {
        planner_id: m.planner_id,
        role: new_role,
        community_ids: communities,
    };
    check_member_communities(&tx, appt.street_id, std::slice::from_ref(&spec))
        .await
        .map_err(single_member)?;
    let mut am = m.into_active_model();
    am.role = Set(new_role.code().to_string());
    let m = am.update(&tx).await?;
    set_member_communities(&tx, member_id, &spec.community_ids).await?;
    tx.commit().await?;
    Ok(m)
}

pub async fn remove_team_member(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: i64,
) -> AppResult<appointment::Model> {
    let tx = begin_write(db).await?;
    let m = find::<team_member::Entity, _>(&tx, member_id, "团队成员", "id").await?;
    let appt = find::<appointment::Entity, _>(&tx, m.appointment_id, "聘任", "id").await?;
    actor.require_street_write(appt.street_id)?;
    if role_of(&m) == TeamRole::Lead {
        return Err(DomainError::bad_input("id", "不能移除驻街规划师（团队负责人），请先更换负责人").into());
    }
    m.delete(&tx).await?;
    tx.commit().await?;
    Ok(appt)
}

/// Makes `planner_id` the team lead (六(1)1 and 五(5) checked); the previous lead stays as
/// a team member.
pub async fn change_lead(
    db: &DatabaseConnection,
    actor: &Actor,
    appointment_id: i64,
    planner_id: i64,
    override_reason: Option<&str>,
) -> AppResult<appointment::Model> {
    let tx = begin_write(db).await?;
    let appt = find::<appointment::Entity, _>(&tx, appointment_id, "聘任", "appointmentId").await?;
    actor.require_street_write(appt.street_id)?;
    lock_street(&tx, appt.street_id).await?;
    let spec = MemberSpec {
        planner_id,
        role: TeamRole::Lead,
        community_ids: vec![],
    };
    let override_ = vet_nominees(&tx, actor, appt.street_id, std::slice::from_ref(&spec), override_reason)
        .await
        .map_err(single_member)?;
    for m in members_of(&tx, appointment_id).await? {
        let is_new_lead = m.planner_id == planner_id;
        let was_lead = role_of(&m) == TeamRole::Lead;
        if is_new_lead && was_lead {
            return Err(DomainError::bad_input("plannerId", "该规划师已是团队负责人").into());
        }
        if is_new_lead {
            set_member_communities(&tx, m.id, &[]).await?;
            m.delete(&tx).await?;
        } else if was_lead {
            let mut am = m.into_active_model();
            am.role = Set(TeamRole::Member.code().to_string());
            am.update(&tx).await?;
        }
    }
    insert_member(&tx, appointment_id, &spec).await?;
    let mut am = appt.into_active_model();
    am.override_reason = Set(override_.as_ref().map(|o| o.reason().to_string()));
    am.override_by = Set(override_.as_ref().map(|_| actor.user_id));
    let appt = am.update(&tx).await?;
    tx.commit().await?;
    Ok(appt)
}

// ---------------------------------------------------------------- contracts

#[derive(Debug, Clone)]
pub struct NewContract {
    pub appointment_id: i64,
    pub contract_no: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub signed_on: Option<NaiveDate>,
    pub amount_yuan: Option<i64>,
}

/// 六(2)3 一年一签: a service contract within the term.
pub async fn create_service_contract(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewContract,
) -> AppResult<service_contract::Model> {
    if new.amount_yuan.is_some_and(|a| a < 0) {
        return Err(DomainError::bad_input("amountYuan", "合同金额不能为负数").into());
    }
    let tx = begin_write(db).await?;
    let appt = find::<appointment::Entity, _>(&tx, new.appointment_id, "聘任", "appointmentId").await?;
    actor.require_street_write(appt.street_id)?;
    lock_street(&tx, appt.street_id).await?;
    let term = Term::new(appt.term_start, appt.term_end)?;
    let others: Vec<ExistingContract> = service_contract::Entity::find()
        .filter(service_contract::Column::AppointmentId.eq(appt.id))
        .all(&tx)
        .await?
        .into_iter()
        .map(|c| ExistingContract {
            id: c.id,
            period: ContractPeriod {
                start: c.start_date,
                end: c.end_date,
            },
        })
        .collect();
    let period = ContractPeriod::new(new.start_date, new.end_date, &term, &others)?;
    let contract_no = new
        .contract_no
        .map(|s| to_half_width(&s).trim().to_string())
        .filter(|s| !s.is_empty());
    let row = service_contract::ActiveModel {
        appointment_id: Set(appt.id),
        contract_no: Set(contract_no),
        start_date: Set(period.start),
        end_date: Set(period.end),
        signed_on: Set(new.signed_on),
        amount_yuan: Set(new.amount_yuan),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete_service_contract(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<appointment::Model> {
    let tx = begin_write(db).await?;
    let c = find::<service_contract::Entity, _>(&tx, id, "服务合同", "id").await?;
    let appt = find::<appointment::Entity, _>(&tx, c.appointment_id, "聘任", "id").await?;
    actor.require_street_write(appt.street_id)?;
    c.delete(&tx).await?;
    tx.commit().await?;
    Ok(appt)
}

// ---------------------------------------------------------------- workstations

#[derive(Debug, Clone, Default)]
pub struct WorkstationFields {
    pub address: Option<String>,
    pub opening_hours: Option<String>,
    pub phone: Option<String>,
    pub mailbox_open: Option<bool>,
}

/// 五(4) 建立平台: the street's workstation, created on first save.
pub async fn save_workstation(
    db: &DatabaseConnection,
    actor: &Actor,
    street_id: i64,
    f: WorkstationFields,
) -> AppResult<workstation::Model> {
    actor.require_street_write(street_id)?;
    let tx = begin_write(db).await?;
    find::<street::Entity, _>(&tx, street_id, "街道", "streetId").await?;
    let existing = workstation::Entity::find()
        .filter(workstation::Column::StreetId.eq(street_id))
        .one(&tx)
        .await?;
    let mut am = match existing {
        Some(w) => w.into_active_model(),
        None => {
            if f.address.is_none() || f.opening_hours.is_none() {
                return Err(DomainError::bad_input("address", "首次登记工作站须填写地址和开放时间").into());
            }
            workstation::ActiveModel {
                street_id: Set(street_id),
                phone: Set(None),
                mailbox_open: Set(true),
                ..Default::default()
            }
        }
    };
    if let Some(a) = f.address {
        am.address = Set(clean_text(&a, "address", "工作站地址", 200)?);
    }
    if let Some(h) = f.opening_hours {
        am.opening_hours = Set(clean_text(&h, "openingHours", "开放时间", 200)?);
    }
    if let Some(p) = f.phone {
        am.phone = Set(if p.trim().is_empty() {
            None
        } else {
            Some(Phone::parse(&p)?.into_inner())
        });
    }
    if let Some(m) = f.mailbox_open {
        am.mailbox_open = Set(m);
    }
    am.updated_at = Set(Utc::now());
    let row = am.save(&tx).await?;
    let row = find::<workstation::Entity, _>(&tx, *row.id.as_ref(), "工作站", "streetId").await?;
    tx.commit().await?;
    Ok(row)
}
