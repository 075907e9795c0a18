//! Roster import (花名册导入): one transaction, every row checked before anything is
//! written, idempotent, and a dry run that is the real import rolled back.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use super::entities::{
    appointment, barring, community, member_community, organization, planner, roster_import, street, team_member,
};
use super::registry::{encode_qualifications, lead_candidate, role_of};
use super::{begin_write, lock_street};
use crate::auth::Actor;
use crate::domain::DomainError;
use crate::domain::roster::{RosterEntry, codes, infer_field, infer_title_level};
use crate::domain::term::{StreetAppointment, Term, ensure_single_team};
use crate::domain::values::{OrganizationKind, Role, Specialty, TeamRole, TitleLevel, to_half_width};
use crate::error::AppResult;
use crate::sheets::reader::{SheetLimits, check_data_rows, read_workbook};
use crate::sheets::roster::{self as sheet_roster, Column, Problem, RowOrigin};
use crate::sheets::roster_export::RosterLine;

/// What an import did, or would do (`dry_run`), or why it did nothing (`errors`).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows_read: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<Problem>,
    pub skipped_sheets: Vec<(String, String)>,
    pub ignored_columns: Vec<(String, String, String)>,
    pub sha256: String,
    /// The history record of a real, successful import.
    pub import_id: Option<i64>,
    /// The rows the errors are in, as the importer read them.
    pub error_rows: Vec<crate::sheets::table::ReadRow>,
    /// What the import changes beyond its own rows and the clerk should know first (a team's
    /// lead replaced): reported by the dry run as by the import; they do not stop it.
    pub notices: Vec<Problem>,
}

/// Imports a roster file. A file that is not a readable spreadsheet is an error
/// (`INVALID_SPREADSHEET`, `PAYLOAD_TOO_LARGE`); problems in its rows are the report's `errors`,
/// and then nothing is written.
pub async fn import_roster(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
    dry_run: bool,
    limits: SheetLimits,
) -> AppResult<ImportReport> {
    crate::telemetry::import(
        "roster",
        import_roster_unmeasured(db, actor, file_name, bytes, dry_run, limits),
    )
    .await
}

async fn import_roster_unmeasured(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
    dry_run: bool,
    limits: SheetLimits,
) -> AppResult<ImportReport> {
    if !matches!(actor.role, Role::DistrictAdmin | Role::StreetStaff) {
        return Err(DomainError::forbidden("只有区规划资源分局和街道工作人员可以导入花名册").into());
    }
    // Parsing is blocking work: off the async runtime.
    let (sha256, parsed, sheets) = tokio::task::spawn_blocking(move || {
        let sha = hex::encode(Sha256::digest(&bytes));
        let sheets = read_workbook(&bytes, &limits)?;
        let mut parsed = sheet_roster::parse(&sheets);
        check_data_rows(parsed.rows_read, &limits)?;
        crate::sheets::table::tidy_problems(&mut parsed.problems);
        for (sheet, _, header) in &mut parsed.ignored_columns {
            *sheet = crate::sheets::budget::quote(sheet, 31);
            *header = crate::sheets::budget::quote(header, 30);
        }
        for (sheet, _) in &mut parsed.skipped_sheets {
            *sheet = crate::sheets::budget::quote(sheet, 31);
        }
        Ok::<_, DomainError>((sha, parsed, sheets))
    })
    .await??;
    let mut report = ImportReport {
        dry_run,
        rows_read: parsed.rows_read,
        errors: parsed.problems,
        skipped_sheets: parsed.skipped_sheets,
        ignored_columns: parsed.ignored_columns,
        sha256,
        ..Default::default()
    };
    if parsed.entries.is_empty() && report.errors.is_empty() {
        report.errors.push(Problem {
            sheet: String::new(),
            row: None,
            column: None,
            code: codes::MISSING_VALUE,
            message: "文件中没有找到任何花名册数据行".into(),
        });
    }

    let tx = begin_write(db).await?;
    let plan = ImportPlan::load(&tx, actor, &parsed.entries, &mut report.errors).await?;
    if !report.errors.is_empty() {
        tx.rollback().await?;
        report.errors.sort_by(|a, b| (&a.sheet, a.row).cmp(&(&b.sheet, b.row)));
        // Problems found against the registry quote the file's cells too: cut them as the
        // reader's own problems are, so no report repeats a huge cell.
        for p in &mut report.errors {
            p.message = crate::sheets::budget::shorten_quotes(&p.message);
        }
        report.error_rows = crate::sheets::table::rows_of(&sheets, &parsed.header_rows, &report.errors);
        return Ok(report);
    }
    let counts = plan.apply(&tx, &parsed.entries).await?;
    report.created = counts.0;
    report.updated = counts.1;
    report.unchanged = counts.2;
    report.notices = counts.3;
    if dry_run {
        tx.rollback().await?;
        return Ok(report);
    }
    let history = roster_import::ActiveModel {
        user_id: Set((actor.user_id > 0).then_some(actor.user_id)),
        actor: Set(actor.username.clone()),
        file_name: Set(file_name.chars().take(200).collect()),
        sha256: Set(report.sha256.clone()),
        rows_read: Set(report.rows_read as i32),
        created: Set(report.created as i32),
        updated: Set(report.updated as i32),
        unchanged: Set(report.unchanged as i32),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    report.import_id = Some(history.id);
    Ok(report)
}

/// Names as stored: half-width, trimmed.
fn norm(s: &str) -> String {
    to_half_width(s).trim().to_string()
}

fn organization_kind(name: &str) -> OrganizationKind {
    if name.contains("大学") || name.contains("学院") {
        OrganizationKind::University
    } else if name.contains("研究所") || name.contains("研究中心") || name.contains("科学院") {
        OrganizationKind::Research
    } else if name.contains("院") {
        OrganizationKind::Institute
    } else if name.contains("公司") || name.contains("事务所") {
        OrganizationKind::DesignFirm
    } else {
        OrganizationKind::Other
    }
}

/// Everything resolved against the registry, ready to write.
/// What the clerk must know before importing a row that names a new lead for a team the
/// registry holds: who is replaced (and stays as a member), and the assessment begun for them.
async fn lead_replaced(
    tx: &DatabaseTransaction,
    origin: &RowOrigin,
    e: &RosterEntry,
    appointment_id: i64,
    old_planner: i64,
) -> AppResult<Problem> {
    let old = planner::Entity::find_by_id(old_planner)
        .one(tx)
        .await?
        .map_or_else(|| "原驻街规划师".to_string(), |p| p.name);
    let appt = appointment::Entity::find_by_id(appointment_id).one(tx).await?;
    let street = match &appt {
        Some(a) => street::Entity::find_by_id(a.street_id).one(tx).await?.map(|s| s.name),
        None => None,
    }
    .unwrap_or_else(|| e.street.clone());
    let (start, end) = appt
        .as_ref()
        .map_or((e.term_start, e.term_end), |a| (a.term_start, a.term_end));
    let mut message = format!(
        "{street}{start}至{end}的驻街规划师将由{old}更换为{}，{old}改为团队成员",
        e.name
    );
    if let Some(a) = super::entities::assessment::Entity::find()
        .filter(super::entities::assessment::Column::AppointmentId.eq(appointment_id))
        .one(tx)
        .await?
    {
        let state = match a.status.as_str() {
            super::assessments::DRAFT => "评分中",
            super::assessments::SUBMITTED => "已提交区分局",
            _ => "已定稿",
        };
        message.push_str(&format!("；该聘期已建立的聘期考核（{state}）仍是对{old}的考核"));
    }
    Ok(origin.problem(Some(Column::Role), codes::LEAD_REPLACED, message))
}

struct ImportPlan {
    street_of_row: Vec<i64>,
    communities_of_row: Vec<Vec<i64>>,
    /// Existing planner per row, if the person is known.
    planner_of_row: Vec<Option<planner::Model>>,
    organizations: HashMap<String, i64>,
    /// Existing appointment per team key (street id, start).
    appointments: HashMap<(i64, NaiveDate), appointment::Model>,
}

impl ImportPlan {
    async fn load(
        tx: &DatabaseTransaction,
        actor: &Actor,
        entries: &[(RowOrigin, RosterEntry)],
        problems: &mut Vec<Problem>,
    ) -> AppResult<ImportPlan> {
        // Streets by name, short name and code.
        let streets = street::Entity::find().all(tx).await?;
        let mut street_ids: HashMap<String, i64> = HashMap::new();
        let street_names: HashMap<i64, String> = streets.iter().map(|s| (s.id, s.name.clone())).collect();
        for s in &streets {
            street_ids.insert(s.name.clone(), s.id);
            street_ids.insert(s.name.trim_end_matches("街道").to_string(), s.id);
            street_ids.insert(s.code.clone(), s.id);
        }
        let mut street_of_row = Vec::with_capacity(entries.len());
        // Rows of a street the caller may not import: refused, and checked no further, so
        // nothing about that street (its teams, terms, communities, people) shows in the report.
        let mut forbidden_rows: BTreeSet<(String, u32)> = BTreeSet::new();
        for (o, e) in entries {
            let id = street_ids.get(&norm(&e.street)).copied();
            if id.is_some_and(|id| actor.require_street_write(id).is_err()) {
                forbidden_rows.insert((o.sheet.clone(), o.row));
            }
            match id {
                None => problems.push(o.problem(
                    Some(Column::Street),
                    codes::UNKNOWN_STREET,
                    format!("街道“{}”不存在（滨江区街道：西兴街道、长河街道、浦沿街道）", e.street),
                )),
                Some(id) if actor.require_street_write(id).is_err() => problems.push(o.problem(
                    Some(Column::Street),
                    codes::FORBIDDEN,
                    format!("只能导入本街道的花名册，不能导入“{}”的人员", e.street),
                )),
                _ => {}
            }
            street_of_row.push(if forbidden_rows.contains(&(o.sheet.clone(), o.row)) {
                0
            } else {
                id.unwrap_or(0)
            });
        }
        let used_streets: BTreeSet<i64> = street_of_row.iter().copied().filter(|s| *s > 0).collect();
        for s in &used_streets {
            lock_street(tx, *s).await?;
        }

        // Communities of those streets, by name with or without 社区.
        let communities = community::Entity::find()
            .filter(community::Column::StreetId.is_in(used_streets.iter().copied()))
            .all(tx)
            .await?;
        let mut community_ids: HashMap<(i64, String), i64> = HashMap::new();
        for c in &communities {
            community_ids.insert((c.street_id, c.name.clone()), c.id);
            community_ids.insert((c.street_id, c.name.trim_end_matches("社区").to_string()), c.id);
        }
        let mut communities_of_row = Vec::with_capacity(entries.len());
        for ((o, e), street) in entries.iter().zip(&street_of_row) {
            let mut ids = Vec::new();
            for name in &e.communities {
                match community_ids.get(&(*street, norm(name))) {
                    Some(id) => ids.push(*id),
                    None if *street > 0 => problems.push(o.problem(
                        Some(Column::Community),
                        codes::UNKNOWN_COMMUNITY,
                        format!(
                            "{}没有名为“{name}”的社区，请先在系统中添加该社区或核对名称",
                            street_names.get(street).map_or(e.street.as_str(), String::as_str)
                        ),
                    )),
                    None => {}
                }
            }
            communities_of_row.push(ids);
        }

        // Organizations by name; planners by name, then identity (name + phone, or name + employer).
        let organizations: HashMap<String, i64> = organization::Entity::find()
            .all(tx)
            .await?
            .into_iter()
            .map(|o| (o.name, o.id))
            .collect();
        let names: BTreeSet<String> = entries.iter().map(|(_, e)| e.name.clone()).collect();
        let names: Vec<String> = names.into_iter().collect();
        let mut known: Vec<planner::Model> = Vec::new();
        for chunk in names.chunks(500) {
            known.extend(
                planner::Entity::find()
                    .filter(planner::Column::Name.is_in(chunk.iter().cloned()))
                    .order_by_asc(planner::Column::Id)
                    .all(tx)
                    .await?,
            );
        }
        // Indexes into `known` (no copies of the rows): by (name, phone), by (name, employer),
        // and the people of a name with neither.
        let mut by_phone: HashMap<(&str, &str), usize> = HashMap::new();
        let mut bare: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_org: HashMap<(&str, i64), usize> = HashMap::new();
        for (i, p) in known.iter().enumerate() {
            if p.phone.is_none() && p.organization_id.is_none() {
                bare.entry(p.name.as_str()).or_default().push(i);
            }
            if let Some(ph) = &p.phone {
                by_phone.entry((p.name.as_str(), ph.as_str())).or_insert(i);
            }
            if let Some(org) = p.organization_id {
                by_org.entry((p.name.as_str(), org)).or_insert(i);
            }
        }
        let found: Vec<Option<usize>> = entries
            .iter()
            .map(|(_, e)| {
                let org = e
                    .employer
                    .as_deref()
                    .map(norm)
                    .and_then(|n| organizations.get(&n).copied());
                e.phone
                    .as_ref()
                    .and_then(|ph| by_phone.get(&(e.name.as_str(), ph.as_str())).copied())
                    .or_else(|| {
                        org.and_then(|o| {
                            by_org
                                .get(&(e.name.as_str(), o))
                                .copied()
                                .filter(|&p| known[p].phone.is_none() || e.phone.is_none())
                        })
                    })
                    // Neither phone nor employer on either side: the one person of that name.
                    .or_else(|| match bare.get(e.name.as_str()) {
                        Some(v) if v.len() == 1 && e.phone.is_none() && e.employer.is_none() => Some(v[0]),
                        _ => None,
                    })
            })
            .collect();
        // One copy per row that names a known person (the plan keeps them).
        let planner_of_row: Vec<Option<planner::Model>> = found.iter().map(|f| f.map(|i| known[i].clone())).collect();

        // 五(5): nobody barred, personally or through the employer.
        let bars = barring::Entity::find().all(tx).await?;
        let barred_planners: BTreeSet<i64> = bars.iter().filter_map(|b| b.planner_id).collect();
        let barred_orgs: BTreeSet<i64> = bars.iter().filter_map(|b| b.organization_id).collect();
        for (i, (o, e)) in entries.iter().enumerate() {
            let org = e
                .employer
                .as_deref()
                .map(norm)
                .and_then(|n| organizations.get(&n).copied())
                .or(planner_of_row[i].as_ref().and_then(|p| p.organization_id));
            if planner_of_row[i]
                .as_ref()
                .is_some_and(|p| barred_planners.contains(&p.id))
            {
                problems.push(o.problem(
                    Some(Column::Name),
                    codes::BARRED,
                    format!("{}因聘期考核不合格，不得再聘任为驻街规划师", e.name),
                ));
            } else if org.is_some_and(|id| barred_orgs.contains(&id)) {
                problems.push(o.problem(
                    Some(Column::Employer),
                    codes::BARRED,
                    format!("{}所在单位因聘期考核不合格，不得再聘任为驻街规划师", e.name),
                ));
            }
        }

        // 六(1)1: every lead meets the qualification (an override is the bureau's decision in
        // the registry, not something a roster can carry).
        for (i, (o, e)) in entries.iter().enumerate() {
            if e.role != TeamRole::Lead {
                continue;
            }
            let merged = merged_profile(planner_of_row[i].as_ref(), e);
            let unmet = lead_candidate(&merged).unmet_criteria();
            if !unmet.is_empty() {
                let reasons: Vec<&str> = unmet.iter().map(|c| c.message()).collect();
                problems.push(o.problem(
                    Some(Column::Role),
                    codes::INELIGIBLE,
                    format!(
                        "{}不符合驻街规划师（团队负责人）聘任资格：{}",
                        e.name,
                        reasons.join("；")
                    ),
                ));
            }
        }

        // Teams: an existing appointment of the street starting the same day is the same team;
        // a new one needs a lead and must not overlap another team of the street.
        let existing = appointment::Entity::find()
            .filter(appointment::Column::StreetId.is_in(used_streets.iter().copied()))
            .all(tx)
            .await?;
        let appointments: HashMap<(i64, NaiveDate), appointment::Model> = existing
            .iter()
            .map(|a| ((a.street_id, a.term_start), a.clone()))
            .collect();
        let mut teams: HashMap<(i64, NaiveDate), Vec<usize>> = HashMap::new();
        for (i, s) in street_of_row.iter().enumerate() {
            if *s > 0 {
                teams.entry((*s, entries[i].1.term_start)).or_default().push(i);
            }
        }
        for ((street, start), rows) in &teams {
            let first = &entries[rows[0]];
            let end = first.1.term_end;
            if let Some(&r) = rows.iter().find(|&&r| entries[r].1.term_end != end) {
                let (o, e) = &entries[r];
                problems.push(o.problem(
                    Some(Column::TermEnd),
                    codes::BAD_DATE,
                    format!("同一团队（{}，{}起）的聘期结束日期不一致", e.street, start),
                ));
                continue;
            }
            let term = match Term::new(*start, end) {
                Ok(t) => t,
                Err(_) => continue,
            };
            let current = appointments.get(&(*street, *start));
            let others: Vec<StreetAppointment> = existing
                .iter()
                .filter(|a| a.street_id == *street && Some(a.id) != current.map(|c| c.id))
                .filter_map(|a| {
                    Term::new(a.term_start, a.term_end).ok().map(|t| StreetAppointment {
                        id: a.id,
                        term: t,
                        ended_on: a.ended_on,
                    })
                })
                .collect();
            if let Err(e) = ensure_single_team(&term, current.and_then(|c| c.ended_on), &others) {
                problems.push(first.0.problem(Some(Column::TermStart), codes::CONFLICT, e.message()));
            }
            let has_lead = rows.iter().any(|&r| entries[r].1.role == TeamRole::Lead);
            if current.is_none() && !has_lead {
                problems.push(first.0.problem(
                    Some(Column::Role),
                    codes::NO_LEAD,
                    format!(
                        "{}{}起的新团队没有驻街规划师（团队负责人），请在表中注明",
                        first.1.street, start
                    ),
                ));
            }
        }
        if !actor.is_admin() {
            Self::check_staff_rows(
                tx,
                actor,
                entries,
                &street_of_row,
                &planner_of_row,
                &organizations,
                &appointments,
                problems,
            )
            .await?;
        }
        problems.retain(|p| {
            p.code == codes::FORBIDDEN || !p.row.is_some_and(|r| forbidden_rows.contains(&(p.sheet.clone(), r)))
        });
        Ok(ImportPlan {
            street_of_row,
            communities_of_row,
            planner_of_row,
            organizations,
            appointments,
        })
    }

    /// The rules of the single mutations, row by row, for street staff: a known planner on
    /// another street's team keeps the profile that street gave them (`updatePlanner`,
    /// `Actor::may_edit_profile`), and a planner serving another street's team today is not
    /// pulled onto this street's team (`addTeamMember`, `Actor::may_enlist`).
    #[allow(clippy::too_many_arguments)]
    async fn check_staff_rows(
        tx: &DatabaseTransaction,
        actor: &Actor,
        entries: &[(RowOrigin, RosterEntry)],
        street_of_row: &[i64],
        planner_of_row: &[Option<planner::Model>],
        organizations: &HashMap<String, i64>,
        appointments: &HashMap<(i64, NaiveDate), appointment::Model>,
        problems: &mut Vec<Problem>,
    ) -> AppResult<()> {
        let known: Vec<i64> = planner_of_row.iter().flatten().map(|p| p.id).collect();
        if known.is_empty() {
            return Ok(());
        }
        let mut any_term = HashMap::new();
        let mut serving = HashMap::new();
        for chunk in known.chunks(500) {
            any_term.extend(super::registry::planner_streets(tx, chunk).await?);
            serving.extend(super::registry::current_streets(tx, chunk, crate::domain::today()).await?);
        }
        let appointment_ids: Vec<i64> = appointments.values().map(|a| a.id).collect();
        let mut memberships: BTreeSet<(i64, i64)> = BTreeSet::new();
        for chunk in appointment_ids.chunks(500) {
            for m in team_member::Entity::find()
                .filter(team_member::Column::AppointmentId.is_in(chunk.to_vec()))
                .all(tx)
                .await?
            {
                memberships.insert((m.appointment_id, m.planner_id));
            }
        }
        for (i, (o, e)) in entries.iter().enumerate() {
            let Some(existing) = &planner_of_row[i] else {
                continue;
            };
            let org = e.employer.as_deref().map(norm);
            let new_org = org.as_ref().is_some_and(|n| !organizations.contains_key(n));
            let merged = merged_profile_with_org(Some(existing), e, org.and_then(|n| organizations.get(&n).copied()));
            let streets = any_term.get(&existing.id).map_or(&[][..], Vec::as_slice);
            if (new_org || merged != *existing)
                && let Err(err) = actor.may_edit_profile(streets)
            {
                problems.push(o.problem(
                    Some(Column::Name),
                    codes::FORBIDDEN,
                    format!("{}：{}（本行与系统中的信息不同）", e.name, err.message()),
                ));
                continue;
            }
            let already_member = appointments
                .get(&(street_of_row[i], e.term_start))
                .is_some_and(|a| memberships.contains(&(a.id, existing.id)));
            let current = serving.get(&existing.id).map_or(&[][..], Vec::as_slice);
            if !already_member && let Err(err) = actor.may_enlist(street_of_row[i], current) {
                problems.push(o.problem(
                    Some(Column::Name),
                    codes::FORBIDDEN,
                    format!("{}：{}", e.name, err.message()),
                ));
            }
        }
        Ok(())
    }

    /// Writes the plan; returns (created, updated, unchanged) rows.
    async fn apply(
        mut self,
        tx: &DatabaseTransaction,
        entries: &[(RowOrigin, RosterEntry)],
    ) -> AppResult<(usize, usize, usize, Vec<Problem>)> {
        let now = Utc::now();
        let mut notices = Vec::new();
        // Organizations the registry does not know yet.
        let new_orgs: BTreeSet<String> = entries
            .iter()
            .filter_map(|(_, e)| e.employer.as_deref().map(norm))
            .filter(|n| !self.organizations.contains_key(n))
            .collect();
        for chunk in new_orgs.into_iter().collect::<Vec<_>>().chunks(300) {
            let rows = chunk.iter().map(|n| organization::ActiveModel {
                name: Set(n.clone()),
                kind: Set(organization_kind(n).code().to_string()),
                created_at: Set(now),
                ..Default::default()
            });
            let inserted = organization::Entity::insert_many(rows).exec_with_returning(tx).await?;
            super::audit::record_inserted::<organization::Entity, _>(tx, &inserted, "Organization", "id").await?;
            for o in inserted {
                self.organizations.insert(o.name, o.id);
            }
        }

        // Planners: update the known ones that differ, create the new ones (once per person).
        let mut row_created = vec![false; entries.len()];
        let mut row_changed = vec![false; entries.len()];
        let mut planner_id_of_key: HashMap<String, i64> = HashMap::new();
        let mut new_people: Vec<(String, planner::ActiveModel)> = Vec::new();
        let mut new_keys: BTreeSet<String> = BTreeSet::new();
        for (i, (_, e)) in entries.iter().enumerate() {
            let key = e.person_key();
            if let Some(existing) = &self.planner_of_row[i] {
                if planner_id_of_key.insert(key, existing.id).is_none() {
                    let merged = self.profile(Some(existing), e);
                    if merged != *existing {
                        let mut am = merged.clone().into_active_model().reset_all();
                        am.id = sea_orm::ActiveValue::Unchanged(existing.id);
                        am.created_at = sea_orm::ActiveValue::Unchanged(existing.created_at);
                        am.updated_at = Set(now);
                        am.update(tx).await?;
                        row_changed[i] = true;
                    }
                }
            } else if !planner_id_of_key.contains_key(&key) && new_keys.insert(key.clone()) {
                let m = self.profile(None, e);
                new_people.push((
                    key,
                    planner::ActiveModel {
                        name: Set(m.name),
                        sex: Set(m.sex),
                        phone: Set(m.phone),
                        organization_id: Set(m.organization_id),
                        title: Set(m.title),
                        title_level: Set(m.title_level),
                        title_field: Set(m.title_field),
                        qualifications: Set(m.qualifications),
                        years_experience: Set(m.years_experience),
                        specialty: Set(m.specialty),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    },
                ));
                row_created[i] = true;
            }
        }
        for chunk in new_people.chunks(500) {
            let inserted = planner::Entity::insert_many(chunk.iter().map(|(_, am)| am.clone()))
                .exec_with_returning(tx)
                .await?;
            super::audit::record_inserted::<planner::Entity, _>(tx, &inserted, "Planner", "id").await?;
            for ((key, _), p) in chunk.iter().zip(inserted) {
                planner_id_of_key.insert(key.clone(), p.id);
            }
        }

        // Appointments: create new teams, correct the end of known ones.
        let mut appointment_of_team: HashMap<(i64, NaiveDate), i64> = HashMap::new();
        for (i, (_, e)) in entries.iter().enumerate() {
            let team = (self.street_of_row[i], e.term_start);
            if appointment_of_team.contains_key(&team) {
                continue;
            }
            let id = match self.appointments.get(&team) {
                Some(a) if a.term_end != e.term_end => {
                    let mut am = a.clone().into_active_model();
                    am.term_end = Set(e.term_end);
                    am.update(tx).await?;
                    row_changed[i] = true;
                    a.id
                }
                Some(a) => a.id,
                None => {
                    appointment::ActiveModel {
                        street_id: Set(team.0),
                        term_start: Set(e.term_start),
                        term_end: Set(e.term_end),
                        ended_on: Set(None),
                        override_reason: Set(None),
                        override_by: Set(None),
                        note: Set(Some("花名册导入".into())),
                        created_at: Set(now),
                        created_by: Set(None),
                        ..Default::default()
                    }
                    .insert(tx)
                    .await?
                    .id
                }
            };
            appointment_of_team.insert(team, id);
        }

        // Memberships: role and communities as the roster states them.
        let appointment_ids: Vec<i64> = appointment_of_team.values().copied().collect();
        let members = team_member::Entity::find()
            .filter(team_member::Column::AppointmentId.is_in(appointment_ids.clone()))
            .all(tx)
            .await?;
        let member_ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let mut links: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        for chunk in member_ids.chunks(500) {
            for l in member_community::Entity::find()
                .filter(member_community::Column::TeamMemberId.is_in(chunk.to_vec()))
                .all(tx)
                .await?
            {
                links.entry(l.team_member_id).or_default().insert(l.community_id);
            }
        }
        let mut membership: HashMap<(i64, i64), team_member::Model> = members
            .into_iter()
            .map(|m| ((m.appointment_id, m.planner_id), m))
            .collect();
        // A lead named in the file replaces a different existing lead, who stays as a member.
        for (i, (_, e)) in entries.iter().enumerate() {
            if e.role != TeamRole::Lead {
                continue;
            }
            let appt = appointment_of_team[&(self.street_of_row[i], e.term_start)];
            let pid = planner_id_of_key[&e.person_key()];
            let old: Vec<team_member::Model> = membership
                .values()
                .filter(|m| m.appointment_id == appt && m.planner_id != pid && role_of(m) == TeamRole::Lead)
                .cloned()
                .collect();
            for m in old {
                let mut am = m.clone().into_active_model();
                am.role = Set(TeamRole::Member.code().to_string());
                let updated = am.update(tx).await?;
                membership.insert((appt, m.planner_id), updated);
                row_changed[i] = true;
                notices.push(lead_replaced(tx, &entries[i].0, &entries[i].1, appt, m.planner_id).await?);
            }
        }
        let mut new_members: Vec<(usize, team_member::ActiveModel)> = Vec::new();
        let mut seen: BTreeSet<(i64, i64)> = BTreeSet::new();
        for (i, (_, e)) in entries.iter().enumerate() {
            let appt = appointment_of_team[&(self.street_of_row[i], e.term_start)];
            let pid = planner_id_of_key[&e.person_key()];
            if !seen.insert((appt, pid)) {
                continue;
            }
            let wanted: BTreeSet<i64> = self.communities_of_row[i].iter().copied().collect();
            match membership.get(&(appt, pid)) {
                Some(m) => {
                    if role_of(m) != e.role {
                        let mut am = m.clone().into_active_model();
                        am.role = Set(e.role.code().to_string());
                        am.update(tx).await?;
                        row_changed[i] = true;
                    }
                    let before = links.get(&m.id).cloned().unwrap_or_default();
                    if before != wanted {
                        // The links are replaced in bulk (no per-row hook): one audit row for
                        // the member, as `set_member_communities` writes.
                        super::audit::record(
                            tx,
                            super::audit::Action::Update,
                            Some("TeamMember"),
                            Some(m.id),
                            Some(self.street_of_row[i]),
                            &[super::audit::Change {
                                field: "community_ids".into(),
                                before: serde_json::json!(before),
                                after: serde_json::json!(wanted),
                            }],
                        )
                        .await?;
                        member_community::Entity::delete_many()
                            .filter(member_community::Column::TeamMemberId.eq(m.id))
                            .exec(tx)
                            .await?;
                        insert_links(tx, m.id, &wanted).await?;
                        row_changed[i] = true;
                    }
                }
                None => {
                    row_created[i] = true;
                    new_members.push((
                        i,
                        team_member::ActiveModel {
                            appointment_id: Set(appt),
                            planner_id: Set(pid),
                            role: Set(e.role.code().to_string()),
                            created_at: Set(now),
                            ..Default::default()
                        },
                    ));
                }
            }
        }
        for chunk in new_members.chunks(500) {
            let inserted = team_member::Entity::insert_many(chunk.iter().map(|(_, am)| am.clone()))
                .exec_with_returning(tx)
                .await?;
            super::audit::record_inserted::<team_member::Entity, _>(tx, &inserted, "TeamMember", "id").await?;
            let mut link_rows = Vec::new();
            for ((i, _), m) in chunk.iter().zip(inserted) {
                for c in self.communities_of_row[*i].iter().collect::<BTreeSet<_>>() {
                    link_rows.push(member_community::ActiveModel {
                        team_member_id: Set(m.id),
                        community_id: Set(*c),
                        ..Default::default()
                    });
                }
            }
            for links in link_rows.chunks(500) {
                let inserted = member_community::Entity::insert_many(links.to_vec())
                    .exec_with_returning(tx)
                    .await?;
                super::audit::record_inserted::<member_community::Entity, _>(
                    tx,
                    &inserted,
                    "TeamMember",
                    "team_member_id",
                )
                .await?;
            }
        }

        let created = row_created.iter().filter(|c| **c).count();
        let updated = (0..entries.len())
            .filter(|&i| !row_created[i] && row_changed[i])
            .count();
        Ok((created, updated, entries.len() - created - updated, notices))
    }

    /// The planner as the registry should hold it after this row: stated values win, values
    /// the row does not state are kept.
    fn profile(&self, existing: Option<&planner::Model>, e: &RosterEntry) -> planner::Model {
        let org = e
            .employer
            .as_deref()
            .map(norm)
            .and_then(|n| self.organizations.get(&n).copied());
        merged_profile_with_org(existing, e, org)
    }
}

fn merged_profile(existing: Option<&planner::Model>, e: &RosterEntry) -> planner::Model {
    merged_profile_with_org(existing, e, existing.and_then(|p| p.organization_id))
}

fn merged_profile_with_org(existing: Option<&planner::Model>, e: &RosterEntry, org: Option<i64>) -> planner::Model {
    let now = Utc::now();
    let base = existing.cloned().unwrap_or(planner::Model {
        id: 0,
        name: e.name.clone(),
        sex: None,
        phone: None,
        organization_id: None,
        title: None,
        title_level: TitleLevel::None.code().to_string(),
        title_field: None,
        qualifications: String::new(),
        years_experience: 0,
        specialty: None,
        created_at: now,
        updated_at: now,
    });
    let specialty = e.specialty.map(|s| s.code().to_string()).or(base.specialty.clone());
    let (title, title_level, title_field) = match &e.title {
        // A level written alone (高级) where the registry knows only the level: nothing new.
        Some(t) if base.title.is_none() && TitleLevel::from_label(t).is_some_and(|l| l.code() == base.title_level) => {
            (None, base.title_level.clone(), base.title_field.clone())
        }
        Some(t) => {
            let field = infer_field(t)
                .or_else(|| base.title_field.as_deref().and_then(Specialty::from_code))
                .or_else(|| specialty.as_deref().and_then(Specialty::from_code));
            (
                Some(t.clone()),
                infer_title_level(t).code().to_string(),
                field.map(|f| f.code().to_string()),
            )
        }
        None => (base.title.clone(), base.title_level.clone(), base.title_field.clone()),
    };
    planner::Model {
        sex: e.sex.clone().or(base.sex.clone()),
        phone: e.phone.clone().or(base.phone.clone()),
        organization_id: org.or(base.organization_id),
        title,
        title_level,
        title_field,
        qualifications: e
            .qualifications
            .as_deref()
            .map(encode_qualifications)
            .unwrap_or(base.qualifications.clone()),
        years_experience: e.years_experience.unwrap_or(base.years_experience),
        specialty,
        ..base
    }
}

async fn insert_links<C: ConnectionTrait>(tx: &C, member: i64, communities: &BTreeSet<i64>) -> AppResult<()> {
    if communities.is_empty() {
        return Ok(());
    }
    member_community::Entity::insert_many(communities.iter().map(|c| member_community::ActiveModel {
        team_member_id: Set(member),
        community_id: Set(*c),
        ..Default::default()
    }))
    .exec(tx)
    .await?;
    Ok(())
}

/// The roster lines the caller may see, ordered by street, term, role and name.
pub async fn roster_lines(
    db: &sea_orm::DatabaseConnection,
    scope: &crate::auth::ReadScope,
) -> AppResult<Vec<RosterLine>> {
    let appointments = super::queries::appointments_in_scope(db, scope, None).await?;
    let streets: HashMap<i64, street::Model> = street::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let appointment_ids: Vec<i64> = appointments.iter().map(|a| a.id).collect();
    let members = team_member::Entity::find()
        .filter(team_member::Column::AppointmentId.is_in(appointment_ids))
        .all(db)
        .await?;
    let mut planners: HashMap<i64, planner::Model> = HashMap::new();
    let planner_ids: Vec<i64> = members
        .iter()
        .map(|m| m.planner_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in planner_ids.chunks(500) {
        for p in planner::Entity::find()
            .filter(planner::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            planners.insert(p.id, p);
        }
    }
    let orgs: HashMap<i64, String> = organization::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let communities: HashMap<i64, String> = community::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut links: HashMap<i64, Vec<String>> = HashMap::new();
    let member_ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    for chunk in member_ids.chunks(500) {
        for l in member_community::Entity::find()
            .filter(member_community::Column::TeamMemberId.is_in(chunk.to_vec()))
            .order_by_asc(member_community::Column::CommunityId)
            .all(db)
            .await?
        {
            if let Some(name) = communities.get(&l.community_id) {
                links.entry(l.team_member_id).or_default().push(name.clone());
            }
        }
    }
    let by_id: HashMap<i64, &appointment::Model> = appointments.iter().map(|a| (a.id, a)).collect();
    let mut lines: Vec<(String, RosterLine)> = Vec::new();
    for m in &members {
        let (Some(a), Some(p)) = (by_id.get(&m.appointment_id), planners.get(&m.planner_id)) else {
            continue;
        };
        let street = streets
            .get(&a.street_id)
            .map(|s| (s.code.clone(), s.name.clone()))
            .unwrap_or_default();
        let level = TitleLevel::from_code(&p.title_level).unwrap_or(TitleLevel::None);
        let title = p
            .title
            .clone()
            .or_else(|| (level != TitleLevel::None).then(|| level.label().to_string()));
        let line = RosterLine {
            name: p.name.clone(),
            sex: p.sex.clone(),
            employer: p.organization_id.and_then(|o| orgs.get(&o).cloned()),
            title,
            qualifications: crate::store::registry::decode_qualifications(&p.qualifications)
                .iter()
                .map(|q| q.label().to_string())
                .collect(),
            years_experience: p.years_experience,
            specialty: p
                .specialty
                .as_deref()
                .and_then(Specialty::from_code)
                .map(|s| s.label().to_string()),
            phone: p.phone.clone(),
            street: street.1,
            communities: links.get(&m.id).cloned().unwrap_or_default(),
            role: role_of(m),
            term_start: a.term_start,
            term_end: a.term_end,
        };
        let sort = format!("{}|{}|{:?}|{}|{}", street.0, a.term_start, line.role, line.name, m.id);
        lines.push((sort, line));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(lines.into_iter().map(|(_, l)| l).collect())
}
