//! The planners' work between appointment and assessment (四、主要职责, 五、工作机制): the
//! kinds of duty records and the form items they feed, the conflict-of-interest rule
//! (六(2)2 回避制度), plan execution, quarterly meeting compliance (五(5)), the mailbox's
//! tracking codes, and scores suggested from evidence.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::assessment::{FormItem, Score, ScoreRule};
use super::error::DomainError;

coded_enum! {
    /// What a duty record records (四), typed so the form can count it.
    pub enum DutyKind {
        /// 四(1): a guidance opinion on construction or industrial development (item 2.3).
        GuidanceOpinion => ("GUIDANCE_OPINION", "指导意见"),
        /// 四(2): consulting on a project (item 3.1).
        ProjectConsulting => ("PROJECT_CONSULTING", "项目咨询"),
        /// 四(3): a scheme or preliminary design review (item 4.1).
        DesignReview => ("DESIGN_REVIEW", "方案及初步设计审查"),
        /// 四(3): design management of a livelihood project (item 4.2).
        DesignManagement => ("DESIGN_MANAGEMENT", "设计管理"),
        /// 四(4): on-site technical coordination (item 5.1).
        SiteCoordination => ("SITE_COORDINATION", "现场技术协调"),
        /// 四(4): liaison with the district departments (item 5.2).
        DepartmentLiaison => ("DEPARTMENT_LIAISON", "部门沟通协调"),
        /// 四(5): a public event for street staff or residents, with attendance (item 6.1).
        PublicEvent => ("PUBLIC_EVENT", "宣传培训活动"),
        /// 四(5): residents' demands collected (item 6.2).
        DemandCollection => ("DEMAND_COLLECTION", "收集居民诉求"),
        /// 四(5): a petition or letter answered (item 6.3).
        PetitionAnswer => ("PETITION_ANSWER", "信访答疑"),
        /// 五(4): a day on duty at the workstation, present or absent (input to item 7.1).
        WorkstationAttendance => ("WORKSTATION_ATTENDANCE", "工作站出勤"),
    }
}

impl DutyKind {
    /// The form item this kind of record is evidence for.
    pub fn item_code(self) -> &'static str {
        match self {
            DutyKind::GuidanceOpinion => "2.3",
            DutyKind::ProjectConsulting => "3.1",
            DutyKind::DesignReview => "4.1",
            DutyKind::DesignManagement => "4.2",
            DutyKind::SiteCoordination => "5.1",
            DutyKind::DepartmentLiaison => "5.2",
            DutyKind::PublicEvent => "6.1",
            DutyKind::DemandCollection => "6.2",
            DutyKind::PetitionAnswer => "6.3",
            DutyKind::WorkstationAttendance => "7.1",
        }
    }

    /// The kind the form's `counts` names ("guidance_opinion", "consulting_project",
    /// "public_event").
    pub fn for_form_count(counts: &str) -> Option<DutyKind> {
        match counts {
            "guidance_opinion" => Some(DutyKind::GuidanceOpinion),
            "consulting_project" => Some(DutyKind::ProjectConsulting),
            "public_event" => Some(DutyKind::PublicEvent),
            _ => None,
        }
    }
}

coded_enum! {
    /// Project categories of 四(2).
    pub enum ProjectCategory {
        Townscape => ("TOWNSCAPE", "整体风貌"),
        FutureCommunity => ("FUTURE_COMMUNITY", "未来社区建设"),
        IndustrialPark => ("INDUSTRIAL_PARK", "工业园区提升改造"),
        RoadLandscape => ("ROAD_LANDSCAPE", "道路和景观综合整治"),
        ResidentialRenovation => ("RESIDENTIAL_RENOVATION", "小区综合提升改造"),
        PublicSpace => ("PUBLIC_SPACE", "公共空间微更新"),
        Livelihood => ("LIVELIHOOD", "民生实事项目"),
        StreetFacilities => ("STREET_FACILITIES", "绿化灯光店招及街道设施"),
        Other => ("OTHER", "其他"),
    }
}

coded_enum! {
    /// Where a problem of the check-up (问题清单) or a residents' demand (需求清单) stands.
    pub enum IssueStatus {
        Open => ("OPEN", "待处理"),
        InProgress => ("IN_PROGRESS", "处理中"),
        Resolved => ("RESOLVED", "已解决"),
    }
}

coded_enum! {
    /// 五(2): the term service plan and the annual work plans.
    pub enum PlanKind {
        TermService => ("TERM_SERVICE", "聘期服务计划"),
        Annual => ("ANNUAL", "年度工作计划"),
    }
}

coded_enum! {
    /// Where an item of a plan stands.
    pub enum PlanItemStatus {
        Planned => ("PLANNED", "未开始"),
        InProgress => ("IN_PROGRESS", "进行中"),
        Done => ("DONE", "已完成"),
        Cancelled => ("CANCELLED", "已取消"),
    }
}

coded_enum! {
    /// What a resident writes about (驻街规划师信箱).
    pub enum LetterCategory {
        Consulting => ("CONSULTING", "规划咨询"),
        Construction => ("CONSTRUCTION", "建设项目"),
        PublicSpace => ("PUBLIC_SPACE", "公共空间与环境"),
        Traffic => ("TRAFFIC", "交通出行"),
        Renovation => ("RENOVATION", "小区改造"),
        Suggestion => ("SUGGESTION", "意见建议"),
        Other => ("OTHER", "其他"),
    }
}

coded_enum! {
    /// received → replied → closed.
    pub enum LetterStatus {
        Received => ("RECEIVED", "已收到"),
        Replied => ("REPLIED", "已答复"),
        Closed => ("CLOSED", "已办结"),
    }
}

impl LetterStatus {
    /// The mailbox's workflow: a reply needs a letter not yet closed; closing needs a reply.
    pub fn can_become(self, next: LetterStatus) -> bool {
        matches!(
            (self, next),
            (LetterStatus::Received, LetterStatus::Replied)
                | (LetterStatus::Replied, LetterStatus::Replied)
                | (LetterStatus::Replied, LetterStatus::Closed)
        )
    }
}

/// One appointment of a planner, as the conflict rule needs it: the street served, the
/// employer at the time, and when the service began and (if it did) ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub planner: String,
    pub street_id: i64,
    pub organization_id: Option<i64>,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// How a compilation contract stands under 六(2)2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractStanding {
    /// No planner of the organization serves the street.
    Clear,
    /// Signed before the appointment of a planner of the organization: allowed, marked.
    PreAppointmentException { planners: Vec<String> },
}

/// 六(2)2 回避制度: from the day of appointment, the planner and the team no longer compile
/// planning projects for the street they serve, except contracts signed before the
/// appointment. A contract of `organization` for `street_id` signed on `signed_on` is refused
/// when a planner employed by the organization serves the street on that day and was
/// appointed on or before it; signed before such an appointment it is the exception.
pub fn check_compilation_contract(
    organization_id: i64,
    street_id: i64,
    signed_on: NaiveDate,
    services: &[Service],
) -> Result<ContractStanding, DomainError> {
    let relevant: Vec<&Service> = services
        .iter()
        .filter(|s| s.street_id == street_id && s.organization_id == Some(organization_id))
        .filter(|s| s.until.is_none_or(|u| u >= signed_on))
        .collect();
    let conflicting: Vec<String> = relevant
        .iter()
        .filter(|s| s.from <= signed_on)
        .map(|s| s.planner.clone())
        .collect();
    if !conflicting.is_empty() {
        return Err(DomainError::ConflictOfInterest {
            planners: dedup(conflicting),
        });
    }
    let later: Vec<String> = relevant.iter().map(|s| s.planner.clone()).collect();
    Ok(if later.is_empty() {
        ContractStanding::Clear
    } else {
        ContractStanding::PreAppointmentException { planners: dedup(later) }
    })
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// A share in [0, 1], `None` when there is nothing to divide by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rate {
    pub done: u32,
    pub of: u32,
}

impl Rate {
    pub fn value(self) -> Option<f64> {
        (self.of > 0).then(|| f64::from(self.done) / f64::from(self.of))
    }
}

/// 五(2): a plan's execution rate, the items done over the items not cancelled.
pub fn execution_rate(statuses: &[PlanItemStatus]) -> Rate {
    execution_rate_of_counts(statuses.iter().map(|s| (*s, 1)))
}

/// The same rate from items counted by status (as a grouped SQL count gives them).
pub fn execution_rate_of_counts(counts: impl IntoIterator<Item = (PlanItemStatus, u32)>) -> Rate {
    let mut rate = Rate::default();
    for (status, n) in counts {
        if status == PlanItemStatus::Done {
            rate.done += n;
        }
        if status != PlanItemStatus::Cancelled {
            rate.of += n;
        }
    }
    rate
}

/// 五(4)/(5) 出勤率: the days present over the days on the workstation's duty roster.
pub fn attendance_rate(present: &[bool]) -> Rate {
    Rate {
        done: present.iter().filter(|p| **p).count() as u32,
        of: present.len() as u32,
    }
}

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1–4.
    pub quarter: u32,
}

impl Quarter {
    pub fn of(d: NaiveDate) -> Quarter {
        Quarter {
            year: d.year(),
            quarter: (d.month() - 1) / 3 + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.quarter - 1) * 3 + 1, 1).unwrap_or_default()
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or_default()
    }

    pub fn next(self) -> Quarter {
        if self.quarter == 4 {
            Quarter {
                year: self.year + 1,
                quarter: 1,
            }
        } else {
            Quarter {
                year: self.year,
                quarter: self.quarter + 1,
            }
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}年第{}季度", self.year, self.quarter)
    }
}

/// One quarter of 五(5)'s meeting rule: the meetings held in it, and whether it is due (it
/// has ended by `today`: a quarter still running has time left to meet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarterMeetings {
    pub quarter: Quarter,
    pub meetings: u32,
    pub due: bool,
}

impl QuarterMeetings {
    /// Missing: a due quarter without a meeting.
    pub fn missing(&self) -> bool {
        self.due && self.meetings == 0
    }
}

/// 五(5) 原则上每个季度召开一次工作例会: each quarter from `from` to `to` (both included,
/// whole quarters) that has begun by `today`, with the number of meetings held in it. A
/// quarter not begun yet is left out; the running one is not due.
pub fn meeting_compliance(
    from: NaiveDate,
    to: NaiveDate,
    held: &[NaiveDate],
    today: NaiveDate,
) -> Vec<QuarterMeetings> {
    let mut out = Vec::new();
    if to < from {
        return out;
    }
    let (mut q, last) = (Quarter::of(from), Quarter::of(to).min(Quarter::of(today)));
    while q <= last {
        let meetings = held.iter().filter(|d| Quarter::of(**d) == q).count() as u32;
        out.push(QuarterMeetings {
            quarter: q,
            meetings,
            due: q.last_day() < today,
        });
        q = q.next();
    }
    out
}

/// Alphabet of tracking codes: no 0/O, 1/I/L, so a resident can read one aloud.
const TRACKING_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A tracking code from 12 random bytes: 12 characters of a 31-letter alphabet (about 59
/// bits), shown in groups of four, e.g. `K7QM-2XRT-9HCW`. Unguessable, so the code alone may
/// show a letter's status and reply.
pub fn tracking_code(random: [u8; 12]) -> String {
    let chars: Vec<char> = random
        .iter()
        .map(|b| TRACKING_ALPHABET[*b as usize % TRACKING_ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A tracking code as a resident may type it: case, spaces and dashes do not matter.
pub fn normalize_tracking_code(raw: &str) -> Option<String> {
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '－')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if clean.len() != 12 || !clean.bytes().all(|b| TRACKING_ALPHABET.contains(&b)) {
        return None;
    }
    Some(
        clean
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-"),
    )
}

/// What the records suggest for one item of the form. Suggestions are advice: they never
/// overwrite what an assessor entered.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub code: String,
    /// Qualifying records counted (count items), or the rate's numerator.
    pub count: u32,
    /// The rate's denominator for 2.2 (plan items) and 7.1 (duty days).
    pub of: Option<u32>,
    pub score: Option<Score>,
    pub basis: String,
}

/// For a per-count item: the number of qualifying records and the score the form gives.
pub fn suggest_count(item: &FormItem, count: u32) -> Option<Suggestion> {
    let ScoreRule::PerCount { points, cap, .. } = &item.rule else {
        return None;
    };
    Some(Suggestion {
        code: item.code.clone(),
        count,
        of: None,
        score: item.score_for_count(count),
        basis: format!("聘期内记录{count}项，每项{points}分，最多{cap}分"),
    })
}

/// For a judgement item scored from a rate (2.2 plan execution): the maximum times the rate,
/// rounded down to the form's half-point step.
pub fn suggest_from_rate(item: &FormItem, rate: Rate, what: &str) -> Suggestion {
    let score = rate.value().map(|r| {
        let half = (r * f64::from(item.max_score) * 2.0 + 1e-9).floor() as u32;
        Score::from_half_points(half.min(item.max_score * 2))
    });
    Suggestion {
        code: item.code.clone(),
        count: rate.done,
        of: Some(rate.of),
        score,
        basis: match rate.value() {
            Some(r) => format!("{what}{:.1}%（{}/{}）", r * 100.0, rate.done, rate.of),
            None => format!("聘期内没有{what}的依据"),
        },
    }
}

/// For 7.1 (banded, integer): the attendance rate times the maximum, rounded down to an
/// integer. Attendance is one input of the satisfaction judgement, so this is a starting
/// point for the assessors, not the score.
pub fn suggest_from_attendance(item: &FormItem, rate: Rate) -> Suggestion {
    let score = rate.value().map(|r| {
        Score::from_half_points(((r * f64::from(item.max_score) + 1e-9).floor() as u32).min(item.max_score) * 2)
    });
    Suggestion {
        code: item.code.clone(),
        count: rate.done,
        of: Some(rate.of),
        score,
        basis: match rate.value() {
            Some(r) => format!("工作站出勤率{:.1}%（{}/{}天）", r * 100.0, rate.done, rate.of),
            None => "聘期内没有工作站出勤记录".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessment::AssessmentForm;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn service(from: NaiveDate, until: Option<NaiveDate>) -> Service {
        Service {
            planner: "王伟".into(),
            street_id: 1,
            organization_id: Some(7),
            from,
            until,
        }
    }

    #[test]
    fn clause_6_2_2_a_contract_signed_on_or_after_the_appointment_is_a_conflict() {
        let s = [service(d(2024, 3, 1), None)];
        for signed in [d(2024, 3, 1), d(2025, 6, 30)] {
            let err = check_compilation_contract(7, 1, signed, &s).unwrap_err();
            assert_eq!(err.code().as_str(), "CONFLICT_OF_INTEREST");
            assert!(err.message().contains("王伟"), "{}", err.message());
        }
    }

    #[test]
    fn clause_6_2_2_a_contract_signed_before_the_appointment_is_the_exception() {
        let s = [service(d(2024, 3, 1), None)];
        assert_eq!(
            check_compilation_contract(7, 1, d(2024, 2, 29), &s).unwrap(),
            ContractStanding::PreAppointmentException {
                planners: vec!["王伟".into()]
            }
        );
    }

    #[test]
    fn clause_6_2_2_only_the_served_street_and_the_planners_employer_are_bound() {
        let s = [service(d(2024, 3, 1), None)];
        assert_eq!(
            check_compilation_contract(7, 2, d(2025, 1, 1), &s).unwrap(),
            ContractStanding::Clear
        );
        assert_eq!(
            check_compilation_contract(8, 1, d(2025, 1, 1), &s).unwrap(),
            ContractStanding::Clear
        );
        // After the service ended, the organization may compile for the street again.
        let ended = [service(d(2020, 1, 1), Some(d(2022, 12, 31)))];
        assert_eq!(
            check_compilation_contract(7, 1, d(2023, 1, 1), &ended).unwrap(),
            ContractStanding::Clear
        );
    }

    #[test]
    fn clause_5_5_one_meeting_a_quarter_names_every_quarter_without_one() {
        let held = [d(2025, 2, 10), d(2025, 3, 30), d(2025, 10, 1)];
        let missing = |c: &[QuarterMeetings]| -> Vec<String> {
            c.iter()
                .filter(|q| q.missing())
                .map(|q| q.quarter.to_string())
                .collect()
        };
        let c = meeting_compliance(d(2025, 1, 1), d(2025, 12, 31), &held, d(2026, 6, 1));
        assert_eq!(missing(&c), ["2025年第2季度", "2025年第3季度"]);
        assert_eq!(c[0].meetings, 2);
        // Partial quarters at the ends count as whole ones.
        assert_eq!(
            meeting_compliance(d(2025, 3, 31), d(2025, 4, 1), &[], d(2026, 1, 1)).len(),
            2
        );
        assert_eq!(Quarter::of(d(2025, 12, 31)).last_day(), d(2025, 12, 31));
        // Seen from 2025-08-15: the third quarter is running (not due, so not missing) and the
        // fourth has not begun (left out).
        let c = meeting_compliance(d(2025, 1, 1), d(2025, 12, 31), &held, d(2025, 8, 15));
        assert_eq!(c.len(), 3);
        assert!(!c[2].due);
        assert_eq!(missing(&c), ["2025年第2季度"]);
    }

    #[test]
    fn clause_5_2_execution_rate_leaves_out_cancelled_items() {
        use PlanItemStatus::*;
        let r = execution_rate(&[Done, Done, InProgress, Cancelled]);
        assert_eq!((r.done, r.of), (2, 3));
        assert_eq!(execution_rate(&[Cancelled]).value(), None);
        // Counted by status (the dashboards' grouped count) gives the same rate.
        let counted = execution_rate_of_counts([(Done, 20), (InProgress, 5), (Planned, 5), (Cancelled, 7)]);
        assert_eq!((counted.done, counted.of), (20, 30));
    }

    #[test]
    fn count_items_suggest_the_forms_score_and_cap() {
        let form = AssessmentForm::v1();
        let s = suggest_count(form.item("2.3").unwrap(), 7).unwrap();
        assert_eq!((s.count, s.score.map(|s| s.to_string())), (7, Some("10".to_string())));
        let s = suggest_count(form.item("3.1").unwrap(), 2).unwrap();
        assert_eq!(s.score.map(|s| s.to_string()), Some("6".to_string()));
        assert!(suggest_count(form.item("1.1").unwrap(), 3).is_none());
    }

    #[test]
    fn rates_suggest_scores_on_the_forms_steps() {
        let form = AssessmentForm::v1();
        let s = suggest_from_rate(form.item("2.2").unwrap(), Rate { done: 2, of: 3 }, "计划执行率");
        assert_eq!(
            s.score.map(|s| s.to_string()),
            Some("3".to_string()),
            "5 × 2/3 = 3.33 → 3"
        );
        let s = suggest_from_attendance(form.item("7.1").unwrap(), Rate { done: 19, of: 20 });
        assert_eq!(s.score.map(|s| s.to_string()), Some("9".to_string()));
        assert!(form.item("7.1").unwrap().check(9.0).is_ok());
    }

    #[test]
    fn tracking_codes_read_back_however_typed() {
        let code = tracking_code([0, 1, 2, 3, 30, 31, 32, 200, 255, 17, 9, 64]);
        assert_eq!(code.len(), 14);
        assert_eq!(
            normalize_tracking_code(&code.to_lowercase().replace('-', " ")),
            Some(code)
        );
        assert_eq!(normalize_tracking_code("0000-0000-0000"), None);
        assert_eq!(normalize_tracking_code("ABC"), None);
    }

    #[test]
    fn the_letter_workflow_goes_forward_only() {
        use LetterStatus::*;
        assert!(Received.can_become(Replied));
        assert!(Replied.can_become(Closed));
        assert!(!Received.can_become(Closed));
        assert!(!Closed.can_become(Replied));
    }

    #[test]
    fn every_duty_kind_feeds_an_item_of_the_form() {
        let form = AssessmentForm::v1();
        for k in DutyKind::ALL {
            assert!(form.item(k.item_code()).is_some(), "{k:?}");
        }
        for item in &form.items {
            if let ScoreRule::PerCount { counts, .. } = &item.rule {
                assert_eq!(
                    DutyKind::for_form_count(counts).map(|k| k.item_code()),
                    Some(item.code.as_str())
                );
            }
        }
    }
}

/// What a duty record of `kind` must carry: a public event its attendance (6.1 counts events
/// held for people, so at least one attended); a workstation day whether the planner was
/// present; other kinds neither.
pub fn check_duty_fields(kind: DutyKind, attendance: Option<i32>, present: Option<bool>) -> Result<(), DomainError> {
    match kind {
        DutyKind::PublicEvent => match attendance {
            Some(n) if n >= 1 => {}
            Some(_) => return Err(DomainError::bad_input("attendance", "活动参加人数应至少为1人")),
            None => return Err(DomainError::bad_input("attendance", "宣传培训活动须填写参加人数")),
        },
        _ if attendance.is_some() => {
            return Err(DomainError::bad_input("attendance", "只有宣传培训活动填写参加人数"));
        }
        _ => {}
    }
    match (kind, present) {
        (DutyKind::WorkstationAttendance, None) => {
            Err(DomainError::bad_input("present", "工作站出勤记录须注明是否到岗"))
        }
        (DutyKind::WorkstationAttendance, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(DomainError::bad_input("present", "只有工作站出勤记录注明是否到岗")),
    }
}

#[cfg(test)]
mod duty_field_tests {
    use super::*;

    #[test]
    fn clause_4_5_a_public_event_carries_its_attendance() {
        assert!(check_duty_fields(DutyKind::PublicEvent, Some(30), None).is_ok());
        assert!(check_duty_fields(DutyKind::PublicEvent, None, None).is_err());
        assert!(check_duty_fields(DutyKind::PublicEvent, Some(0), None).is_err());
        assert!(check_duty_fields(DutyKind::GuidanceOpinion, Some(3), None).is_err());
        assert!(check_duty_fields(DutyKind::WorkstationAttendance, None, Some(false)).is_ok());
        assert!(check_duty_fields(DutyKind::WorkstationAttendance, None, None).is_err());
        assert!(check_duty_fields(DutyKind::SiteCoordination, None, Some(true)).is_err());
    }
}

impl DutyKind {
    /// The kind a clerk's ledger names, by its label or a common way of writing it
    /// ("专业咨询", "方案审查", "宣讲", "值班" …).
    pub fn parse_text(raw: &str) -> Option<DutyKind> {
        let t: String = super::values::to_half_width(raw)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(k) = DutyKind::from_label(&t).or_else(|| DutyKind::from_code(&t.to_uppercase())) {
            return Some(k);
        }
        const WORDS: [(&str, DutyKind); 16] = [
            ("指导", DutyKind::GuidanceOpinion),
            ("咨询", DutyKind::ProjectConsulting),
            ("审查", DutyKind::DesignReview),
            ("评审", DutyKind::DesignReview),
            ("设计管理", DutyKind::DesignManagement),
            ("现场", DutyKind::SiteCoordination),
            ("技术协调", DutyKind::SiteCoordination),
            ("部门", DutyKind::DepartmentLiaison),
            ("沟通协调", DutyKind::DepartmentLiaison),
            ("培训", DutyKind::PublicEvent),
            ("宣讲", DutyKind::PublicEvent),
            ("宣传", DutyKind::PublicEvent),
            ("诉求", DutyKind::DemandCollection),
            ("需求", DutyKind::DemandCollection),
            ("信访", DutyKind::PetitionAnswer),
            ("出勤", DutyKind::WorkstationAttendance),
        ];
        WORDS
            .iter()
            .find(|(w, _)| t.contains(w))
            .map(|(_, k)| *k)
            .or_else(|| (t.contains("值班") || t.contains("到岗")).then_some(DutyKind::WorkstationAttendance))
    }
}

/// Presence on a duty day as a ledger writes it: 到岗/出勤/是/√/1, or 缺勤/未到岗/否/×/0.
pub fn parse_presence(raw: &str) -> Option<bool> {
    let t: String = super::values::to_half_width(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match t.as_str() {
        "到岗" | "出勤" | "在岗" | "是" | "√" | "✓" | "1" | "y" | "Y" | "true" => Some(true),
        "缺勤" | "未到岗" | "未出勤" | "请假" | "否" | "×" | "✗" | "x" | "X" | "0" | "n" | "N" | "false" => {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod ledger_text_tests {
    use super::*;

    #[test]
    fn duty_kinds_read_as_ledgers_write_them() {
        assert_eq!(DutyKind::parse_text("宣传培训活动"), Some(DutyKind::PublicEvent));
        assert_eq!(DutyKind::parse_text("专业咨询"), Some(DutyKind::ProjectConsulting));
        assert_eq!(DutyKind::parse_text("方案审查"), Some(DutyKind::DesignReview));
        assert_eq!(DutyKind::parse_text("现场技术协调"), Some(DutyKind::SiteCoordination));
        assert_eq!(
            DutyKind::parse_text("与部门沟通协调"),
            Some(DutyKind::DepartmentLiaison)
        );
        assert_eq!(
            DutyKind::parse_text("工作站值班"),
            Some(DutyKind::WorkstationAttendance)
        );
        assert_eq!(
            DutyKind::parse_text("GUIDANCE_OPINION"),
            Some(DutyKind::GuidanceOpinion)
        );
        assert_eq!(DutyKind::parse_text("喝茶"), None);
        for k in DutyKind::ALL {
            assert_eq!(DutyKind::parse_text(k.label()), Some(*k), "{k:?}");
        }
    }

    #[test]
    fn presence_reads_both_ways() {
        assert_eq!(parse_presence(" 到岗 "), Some(true));
        assert_eq!(parse_presence("缺勤"), Some(false));
        assert_eq!(parse_presence("也许"), None);
    }
}
