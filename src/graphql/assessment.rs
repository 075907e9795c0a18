//! Term assessments (聘期考核) in the API.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::ids;
use super::pagination::{Conn, PageArgs, paginate};
use super::scalars::Date;
use super::types::{Appointment, Organization, Planner, User};
use super::work::DutyKind;
use super::{actor, caller, client, db, internal, loaders};
use crate::domain::DomainError;
use crate::domain::assessment::{FormItem, Score, ScoreRule};
use crate::domain::work as w;
use crate::error::AppError;
use crate::ratelimit::RateLimits;
use crate::store::assessments::{self, ScoreEntry};
use crate::store::entities::{assessment, recommendation, score_change};

/// Where an assessment stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AssessmentStatus {
    /// Being scored by the street or the bureau.
    Draft,
    /// Handed over by the street to the bureau.
    Submitted,
    /// Closed by the bureau; cannot change.
    Finalized,
}

/// 五(5): ≥ 90 优秀, ≥ 75 合格, below 75 不合格.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AssessmentGrade {
    /// 优秀
    Excellent,
    /// 合格
    Qualified,
    /// 不合格
    Unqualified,
}

/// One item of the form with its score.
#[derive(SimpleObject)]
pub struct AssessmentItem {
    /// The form's item code, "1.1" … "7.1".
    pub code: String,
    /// 考核项目, e.g. 团队配备.
    pub group: String,
    /// 具体内容, verbatim.
    pub content: String,
    /// The most points this item can give under the assessment measures (考核细则).
    pub max_score: f64,
    /// Null until scored.
    pub score: Option<f64>,
    /// Reason given for the score; null when none.
    pub note: Option<String>,
    /// For item 7.1: 满意, 基本满意 or 不满意.
    pub band_label: Option<String>,
    /// How the form says this item is scored: what a scoring form shows beside it.
    pub rule: ScoringRule,
}

/// How the form scores an item.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ScoringRuleKind {
    /// The assessor's judgement, from 0 to the item's maximum in steps of `step`.
    Judgement,
    /// `pointsPerRecord` for each counted record of `countedKind`, at most `cap`.
    PerCount,
    /// A whole number in one of `bands`; the band's label is recorded with the score.
    Band,
}

/// How the form says an item is scored (the 考核细则 of the item's 具体内容).
#[derive(SimpleObject)]
pub struct ScoringRule {
    /// How the score is reached.
    pub kind: ScoringRuleKind,
    /// The rule as one Chinese sentence, e.g. 评审酌情打分，0–5 分，以 0.5 分为单位.
    pub description: String,
    /// JUDGEMENT and BAND: the unit scores are given in (0.5 for a judgement; 1 for a band,
    /// whose scores are whole numbers); null for PER_COUNT.
    pub step: Option<f64>,
    /// PER_COUNT: the points each counted record gives; null for other kinds.
    pub points_per_record: Option<f64>,
    /// PER_COUNT: the most the counted records can give; null for other kinds.
    pub cap: Option<f64>,
    /// PER_COUNT: the kind of duty record that is counted; null for other kinds.
    pub counted_kind: Option<DutyKind>,
    /// BAND: the bands, best first; null for other kinds.
    pub bands: Option<Vec<ScoreBand>>,
}

/// A band of a BAND item (item 7.1: 满意 8–10, 基本满意 5–7, 不满意 0–4).
#[derive(SimpleObject)]
pub struct ScoreBand {
    /// The band's label, recorded with the score (满意).
    pub label: String,
    /// The lowest score in the band.
    pub min_score: f64,
    /// The highest score in the band.
    pub max_score: f64,
}

impl From<&FormItem> for ScoringRule {
    fn from(item: &FormItem) -> ScoringRule {
        let description = item.rule_text();
        let none = ScoringRule {
            kind: ScoringRuleKind::Judgement,
            description,
            step: None,
            points_per_record: None,
            cap: None,
            counted_kind: None,
            bands: None,
        };
        match &item.rule {
            ScoreRule::Judgement { step } => ScoringRule {
                step: Some(*step),
                ..none
            },
            ScoreRule::PerCount { points, cap, counts } => ScoringRule {
                kind: ScoringRuleKind::PerCount,
                points_per_record: Some(f64::from(*points)),
                cap: Some(f64::from(*cap)),
                counted_kind: w::DutyKind::for_form_count(counts).map(Into::into),
                ..none
            },
            ScoreRule::Band { bands } => ScoringRule {
                kind: ScoringRuleKind::Band,
                step: Some(1.0),
                bands: Some(
                    bands
                        .iter()
                        .map(|b| ScoreBand {
                            label: b.label.clone(),
                            min_score: f64::from(b.min),
                            max_score: f64::from(b.max),
                        })
                        .collect(),
                ),
                ..none
            },
        }
    }
}

/// A change of one score, kept for ever.
pub struct ScoreChange(score_change::Model);

/// A change of one score, kept for ever.
#[Object]
impl ScoreChange {
    /// Code of the assessment item whose score changed.
    async fn code(&self) -> &str {
        &self.0.item_code
    }
    /// Score before the change; null when there was none.
    async fn old_score(&self) -> Option<f64> {
        self.0.old_half_points.map(|h| f64::from(h) / 2.0)
    }
    /// Score after the change.
    async fn new_score(&self) -> f64 {
        f64::from(self.0.new_half_points) / 2.0
    }
    /// Note given with the change; null when none.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When the score was changed.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    /// Who changed it; null when the account is gone.
    async fn changed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.changed_by else { return Ok(None) };
        Ok(loaders(ctx).user.load_one(id).await.map_err(internal)?.map(User))
    }
}

crate::graphql::order::order_by!(
    /// The order of `assessments`: a column and a direction. Left out: newest first.
    AssessmentOrderBy,
    /// What `assessments` sorts by.
    AssessmentSortField of assessment,
    default CreatedAt Desc,
    {
        /// When the assessment was begun.
        CreatedAt => CreatedAt,
        /// The state, grouped by its code (DRAFT, FINALIZED, SUBMITTED ascending).
        Status => Status,
    }
);

/// A recommendation a 优秀 grade produced (五(5)).
pub struct Recommendation(recommendation::Model);

/// A recommendation a 优秀 grade produced (五(5)).
#[Object]
impl Recommendation {
    /// `CONSECUTIVE_APPOINTMENT` (具有连续聘任资格), `ADVANCED_WORKER` (年度先进工作者 proposal to
    /// the employer) or `CREDIT_RED_LIST` (信用信息红名单 proposal for the employer).
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The planner it concerns, when it concerns one.
    async fn planner(&self, ctx: &Context<'_>) -> Result<Option<Planner>> {
        let Some(id) = self.0.planner_id else { return Ok(None) };
        Ok(loaders(ctx).planner.load_one(id).await.map_err(internal)?.map(Planner))
    }
    /// The employer it concerns, when it concerns one.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .organization
            .load_one(id)
            .await
            .map_err(internal)?
            .map(Organization))
    }
}

/// A term assessment of an appointment's lead, on the 100-point form.
pub struct Assessment(pub assessment::Model);

/// A term assessment of an appointment's lead, on the 100-point form.
#[Object]
impl Assessment {
    /// The global id (全局标识): opaque, unique across types; `node(id:)` fetches the object again.
    pub async fn id(&self) -> ID {
        ids::encode(ids::Kind::Assessment, self.0.id)
    }
    /// Where the assessment stands: moved by `submitAssessment` and then `finalizeAssessment`.
    async fn status(&self) -> AssessmentStatus {
        match self.0.status.as_str() {
            assessments::FINALIZED => AssessmentStatus::Finalized,
            assessments::SUBMITTED => AssessmentStatus::Submitted,
            _ => AssessmentStatus::Draft,
        }
    }
    /// Exact total; null until every item is scored.
    async fn total(&self) -> Option<f64> {
        self.0.total_half_points.map(|h| f64::from(h) / 2.0)
    }
    /// Null until every item is scored.
    async fn grade(&self) -> Option<AssessmentGrade> {
        grade_of(&self.0)
    }
    /// The form's items in order, with scores.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentItem>> {
        let form_row = loaders(ctx)
            .assessment_form
            .load_one(self.0.form_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("form missing"))?;
        let form = assessments::parse_form(&form_row)?;
        let scores = loaders(ctx)
            .scores_of_assessment
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(form
            .items
            .iter()
            .map(|i| {
                let s = scores.iter().find(|s| s.item_code == i.code);
                AssessmentItem {
                    code: i.code.clone(),
                    group: i.group.clone(),
                    content: i.content.clone(),
                    max_score: f64::from(i.max_score),
                    score: s.map(|s| Score::from_half_points(s.half_points.max(0) as u32).as_f64()),
                    note: s.and_then(|s| s.note.clone()),
                    band_label: s.and_then(|s| s.band_label.clone()),
                    rule: i.into(),
                }
            })
            .collect())
    }
    /// Whether the caller may change the scores now (`setAssessmentScores`,
    /// `importAssessmentScores`): the street's staff and the bureau on a draft, the bureau
    /// on a submitted one, nobody on a finalized one. A form shows inputs only then.
    async fn viewer_can_score(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(a) = actor(ctx) else { return Ok(false) };
        let appt = loaders(ctx)
            .appointment
            .load_one(self.0.appointment_id)
            .await
            .map_err(internal)?;
        Ok(appt.is_some_and(|appt| assessments::may_score(a, appt.street_id, &self.0.status)))
    }
    /// Set on finalization; printed on the scorecard.
    async fn verification_code(&self) -> Option<&str> {
        self.0.verification_code.as_deref()
    }
    /// The version of the form the assessment was made with.
    async fn form_version(&self, ctx: &Context<'_>) -> Result<i32> {
        let f = loaders(ctx)
            .assessment_form
            .load_one(self.0.form_id)
            .await
            .map_err(internal)?;
        Ok(f.map_or(0, |f| f.version))
    }
    /// The assessed appointment, when the caller may read it (null otherwise).
    async fn appointment(&self, ctx: &Context<'_>) -> Result<Option<Appointment>> {
        let a = actor(ctx)?;
        let row = loaders(ctx)
            .appointment
            .load_one(self.0.appointment_id)
            .await
            .map_err(internal)?;
        match row {
            Some(r) if super::types::may_read_appointment(ctx, a, &r).await? => Ok(Some(Appointment(r))),
            _ => Ok(None),
        }
    }
    /// The assessed planner (the appointment's lead when the assessment was made).
    async fn planner(&self, ctx: &Context<'_>) -> Result<Planner> {
        super::types::load_planner(ctx, self.0.planner_id).await
    }
    /// Every change of a score, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ScoreChange>> {
        let rows = loaders(ctx)
            .changes_of_assessment
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(rows.into_iter().map(ScoreChange).collect())
    }
    /// The recommendations a 优秀 grade produced at finalization.
    async fn recommendations(&self, ctx: &Context<'_>) -> Result<Vec<Recommendation>> {
        let rows = loaders(ctx)
            .recommendations_of_assessment
            .load_one(self.0.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Recommendation).collect())
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the street submitted it; null while a draft.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// When the district finalized it; null until then.
    async fn finalized_at(&self) -> Option<DateTime<Utc>> {
        self.0.finalized_at
    }
}

/// `auth::may_read_assessment`, with the caller's current streets loaded.
pub(crate) async fn readable(ctx: &Context<'_>, a: &assessment::Model) -> Result<bool> {
    let actor = actor(ctx)?;
    let appt = loaders(ctx)
        .appointment
        .load_one(a.appointment_id)
        .await
        .map_err(internal)?;
    let Some(appt) = appt else {
        return Ok(false);
    };
    let current = match actor.read_scope() {
        crate::auth::ReadScope::OwnTeams(me) => super::types::current_streets_of(ctx, me).await?,
        _ => Vec::new(),
    };
    Ok(crate::auth::may_read_assessment(
        actor,
        appt.street_id,
        a.planner_id,
        &current,
    ))
}

/// Filters of `assessments`.
#[derive(InputObject, Default)]
pub struct AssessmentFilter {
    /// Only this street's (街道, global id), within the caller's scope.
    pub street_id: Option<ID>,
    /// Only assessments in this status; leave out for all.
    pub status: Option<AssessmentStatus>,
    /// Only assessments of terms ending in this year (聘期结束年份, 1900–2200), as the batch
    /// workbook's `year`.
    pub term_end_year: Option<i32>,
}

#[derive(Default)]
pub struct AssessmentQuery;

#[Object]
impl AssessmentQuery {
    /// One assessment by id; `null` if there is none; `null` with `FORBIDDEN` when the caller
    /// may not read it (the rules of `assessments`).
    async fn assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assessment's global id.")] id: ID,
    ) -> Result<Option<Assessment>> {
        let Some(id) = ids::lookup(&id, ids::Kind::Assessment, "id")? else {
            return Ok(None);
        };
        let Some(row) = assessment::Entity::find_by_id(id)
            .one(db(ctx))
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        if !readable(ctx, &row).await? {
            return Err(AppError::from(DomainError::forbidden("无权查看该考核")).into());
        }
        Ok(Some(Assessment(row)))
    }

    /// Assessments the caller may see, newest first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::pagination::cost(first, last, child_complexity)")]
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which items; each field is described on `AssessmentFilter`. Left out: all the caller may see."
        )]
        filter: Option<AssessmentFilter>,
        #[graphql(desc = "Sort order (a column, then creation order); left out: newest first (CREATED_AT DESC).")]
        order_by: Option<AssessmentOrderBy>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<Assessment>> {
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let street = f
            .street_id
            .as_ref()
            .map(|i| ids::parse(i, ids::Kind::Street, "filter.streetId"))
            .transpose()?;
        if let Some(y) = f.term_end_year
            && !(1900..=2200).contains(&y)
        {
            return Err(AppError::from(DomainError::bad_input(
                "filter.termEndYear",
                "聘期结束年份应在 1900 至 2200 之间",
            ))
            .into());
        }
        let mut q = assessment::Entity::find().filter(assessments::readable(a, street, f.term_end_year));
        if let Some(st) = f.status {
            let code = match st {
                AssessmentStatus::Draft => assessments::DRAFT,
                AssessmentStatus::Submitted => assessments::SUBMITTED,
                AssessmentStatus::Finalized => assessments::FINALIZED,
            };
            q = q.filter(assessment::Column::Status.eq(code));
        }
        let (keys, tag) = AssessmentOrderBy::resolve(order_by);
        Ok(paginate(
            db(ctx),
            q,
            &keys,
            &PageArgs::new("assessments", first, after, last, before).ordered(tag),
            Assessment,
        )
        .await?)
    }

    /// Public (the `/verify/{code}` page, where the QR code of a printed scorecard points):
    /// whether a 核验码 belongs to a finalized assessment, with only the facts printed on
    /// the sheet (planner, street, term, total, grade, finalization date). Case, spaces and
    /// dashes do not matter; lookups are rate-limited per client like tracking codes.
    async fn verify_scorecard(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The verification code printed on the scorecard (核验码), as printed; case, spaces and dashes do not matter; 60 lookups a minute per client."
        )]
        code: String,
    ) -> Result<ScorecardVerification> {
        ctx.data_unchecked::<RateLimits>().lookup(&client(ctx)).await?;
        // Case, spaces and dashes as a reader types them do not matter.
        let Some(code) = crate::domain::assessment::normalise_verification_code(&code) else {
            return Ok(ScorecardVerification::default());
        };
        let row = assessment::Entity::find()
            .filter(assessment::Column::VerificationCode.eq(code))
            .filter(assessment::Column::Status.eq(assessments::FINALIZED))
            .one(db(ctx))
            .await
            .map_err(internal)?;
        let Some(row) = row else {
            return Ok(ScorecardVerification::default());
        };
        let appt = loaders(ctx)
            .appointment
            .load_one(row.appointment_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("appointment missing"))?;
        let planner = loaders(ctx)
            .planner
            .load_one(row.planner_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("planner missing"))?;
        let street = super::types::load_street(ctx, appt.street_id).await?;
        let signed_in = caller(ctx).actor().is_ok();
        let full = Assessment(row.clone());
        Ok(ScorecardVerification {
            valid: true,
            planner_name: Some(planner.name),
            street_name: Some(street.0.name),
            term_start: Some(appt.term_start.into()),
            term_end: Some(appt.term_end.into()),
            total: row.total_half_points.map(|h| f64::from(h) / 2.0),
            grade: grade_of(&row),
            finalized_at: row.finalized_at,
            assessment: if signed_in && readable(ctx, &row).await? {
                Some(full)
            } else {
                None
            },
        })
    }
}

fn grade_of(a: &assessment::Model) -> Option<AssessmentGrade> {
    match a.grade.as_deref() {
        Some("EXCELLENT") => Some(AssessmentGrade::Excellent),
        Some("QUALIFIED") => Some(AssessmentGrade::Qualified),
        Some("UNQUALIFIED") => Some(AssessmentGrade::Unqualified),
        _ => None,
    }
}

/// The answer to `verifyScorecard`: the facts a printed scorecard can be checked against,
/// nothing else (all null when `valid` is false).
#[derive(SimpleObject, Default)]
pub struct ScorecardVerification {
    /// True when the code belongs to a finalized assessment.
    pub valid: bool,
    /// The assessed lead planner (驻街规划师).
    pub planner_name: Option<String>,
    /// The street served (服务街道).
    pub street_name: Option<String>,
    /// First day of the assessed term (聘期).
    pub term_start: Option<Date>,
    /// Last day of the assessed term.
    pub term_end: Option<Date>,
    /// 聘期考核总分.
    pub total: Option<f64>,
    /// 考核等次: the grade the total gives.
    pub grade: Option<AssessmentGrade>,
    /// When the bureau finalized it.
    pub finalized_at: Option<DateTime<Utc>>,
    /// The whole assessment, for a signed-in caller who may read it; null otherwise.
    pub assessment: Option<Assessment>,
}

/// The input of `createAssessment`.
#[derive(InputObject)]
pub struct CreateAssessmentInput {
    /// The appointment (聘任: a team for a term), by global id.
    pub appointment_id: ID,
}

/// The input of `assessmentScore`.
#[derive(InputObject)]
pub struct AssessmentScoreInput {
    /// The item code, "1.1" … "7.1".
    pub code: String,
    /// Points awarded, from 0 to the item's maxScore.
    pub score: f64,
    /// Reason for the score; leave out for none.
    pub note: Option<String>,
}

/// The input of `setAssessmentScores`.
#[derive(InputObject)]
pub struct SetAssessmentScoresInput {
    /// The assessment, by global id: not yet finalized; once submitted, only the bureau may
    /// change scores.
    pub assessment_id: ID,
    /// The items to score; items left out keep their score. Every item is checked, and each
    /// bad one is reported in the error's `problems` with its index (`field`:
    /// `scores[2].score`); then nothing is written.
    pub scores: Vec<AssessmentScoreInput>,
}

/// The input of `importAssessmentScores`.
#[derive(InputObject)]
pub struct ImportAssessmentScoresInput {
    /// The draft assessment the sheet's scores go into.
    pub assessment_id: ID,
    /// The filled scorecard (.xlsx, .xls or .ods): the blank form from
    /// `/exports/assessment-form.xlsx` or an exported draft, with column E typed in.
    pub file: Upload,
}

/// What a mutation on assessment returns: the object as it is now.
#[derive(SimpleObject)]
pub struct AssessmentPayload {
    /// The object as it is after the mutation.
    pub assessment: Assessment,
}

#[derive(Default)]
pub struct AssessmentMutation;

#[Object]
impl AssessmentMutation {
    /// Starts the term assessment of an appointment's lead (one per appointment).
    async fn create_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `CreateAssessmentInput`.")]
        input: CreateAssessmentInput,
    ) -> Result<AssessmentPayload> {
        let appt = ids::parse(&input.appointment_id, ids::Kind::Appointment, "appointmentId")?;
        let row = assessments::create(db(ctx), actor(ctx)?, appt).await?;
        Ok(AssessmentPayload {
            assessment: Assessment(row),
        })
    }

    /// Scores items by the form's rules (`BAD_USER_INPUT` naming the item otherwise). Every
    /// change is kept in `history`. A finalized assessment is `ASSESSMENT_LOCKED`.
    async fn set_assessment_scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `SetAssessmentScoresInput`.")]
        input: SetAssessmentScoresInput,
    ) -> Result<AssessmentPayload> {
        let id = ids::parse(&input.assessment_id, ids::Kind::Assessment, "assessmentId")?;
        let entries = input
            .scores
            .into_iter()
            .map(|s| ScoreEntry {
                code: s.code,
                score: s.score,
                note: s.note,
            })
            .collect();
        let row = assessments::set_scores(db(ctx), actor(ctx)?, id, entries).await?;
        Ok(AssessmentPayload {
            assessment: Assessment(row),
        })
    }

    /// Reads a filled scorecard into the assessment's scores, by the same rules and with the
    /// same history as `setAssessmentScores`; empty score cells leave the item as it is. A sheet
    /// whose title, item texts or maxima differ from the assessment's form, or that names
    /// another planner, is `BAD_USER_INPUT` with `extensions.problems` (sheet, row, column,
    /// message) and changes nothing. A file that is not a spreadsheet is `INVALID_SPREADSHEET`.
    async fn import_assessment_scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to write; each field is described on `ImportAssessmentScoresInput`.")]
        input: ImportAssessmentScoresInput,
    ) -> Result<AssessmentPayload> {
        let id = ids::parse(&input.assessment_id, ids::Kind::Assessment, "assessmentId")?;
        let a = actor(ctx)?;
        let upload = input
            .file
            .value(ctx)
            .map_err(|_| AppError::from(DomainError::bad_input("file", "没有收到上传的文件")))?;
        let limits = *ctx.data_unchecked::<crate::sheets::reader::SheetLimits>();
        let row = assessments::import_scores(db(ctx), a, id, upload.content.to_vec(), limits).await?;
        Ok(AssessmentPayload {
            assessment: Assessment(row),
        })
    }

    /// The street hands a fully scored assessment to the bureau.
    async fn submit_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assessment to submit.")] id: ID,
    ) -> Result<AssessmentPayload> {
        let id = ids::parse(&id, ids::Kind::Assessment, "id")?;
        let row = assessments::submit(db(ctx), actor(ctx)?, id).await?;
        Ok(AssessmentPayload {
            assessment: Assessment(row),
        })
    }

    /// The bureau closes a submitted assessment: grade, verification code, and 五(5)'s
    /// consequences (不合格 bars the planner and the employer; 优秀 records recommendations).
    async fn finalize_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submitted assessment to finalize.")] id: ID,
    ) -> Result<AssessmentPayload> {
        let id = ids::parse(&id, ids::Kind::Assessment, "id")?;
        let row = assessments::finalize(db(ctx), actor(ctx)?, id).await?;
        Ok(AssessmentPayload {
            assessment: Assessment(row),
        })
    }
}
