//! The term assessment (聘期考核表, 五(5)) as rules: the form's items and how each is
//! scored, exact totals, the grade and what the measures attach to it, and the verification
//! code printed on a finalized scorecard. Not yet wired to storage or the API (issue 4).
//!
//! Scores are kept in half points (an integer), so totals are exact: 89.5 + 0.5 is 90, and 90
//! is 优秀.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::DomainError;

/// Version 1 of the form: `shared/spec/assessment-form.json`, verbatim.
pub const FORM_V1_JSON: &str = include_str!("assessment_form_v1.json");

/// A score in half points (`9` is 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Score(u32);

impl Score {
    pub fn from_half_points(h: u32) -> Self {
        Score(h)
    }

    pub fn half_points(self) -> u32 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 2.0
    }

    /// A number typed by an assessor: must be a whole multiple of 0.5.
    pub fn parse(value: f64, item: &str) -> Result<Score, DomainError> {
        let doubled = value * 2.0;
        if !value.is_finite() || value < 0.0 || (doubled - doubled.round()).abs() > 1e-9 {
            return Err(DomainError::bad_input(
                "scores",
                format!("第{item}项的得分“{value}”无效：应为 0 或正数，且以 0.5 分为单位"),
            ));
        }
        Ok(Score(doubled.round() as u32))
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_multiple_of(2) {
            write!(f, "{}", self.0 / 2)
        } else {
            write!(f, "{}.5", self.0 / 2)
        }
    }
}

/// A band of item 7.1 (满意 8–10, 基本满意 5–7, 不满意 0–4).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Band {
    pub label: String,
    pub min: u32,
    pub max: u32,
}

/// How the form says an item is scored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoreRule {
    /// The assessor's judgement, 0 to the maximum in steps of `step`.
    Judgement { step: f64 },
    /// `points` for each counted record, at most `cap`.
    PerCount { points: u32, cap: u32, counts: String },
    /// An integer in one of the bands, whose label is recorded with it.
    Band { bands: Vec<Band> },
}

/// One item of the form.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FormItem {
    pub code: String,
    pub group_no: u32,
    pub group: String,
    pub content: String,
    pub max_score: u32,
    pub range_text: String,
    pub rule: ScoreRule,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FormTotal {
    pub label: String,
    pub range_text: String,
    pub max_score: u32,
}

/// The form as data.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AssessmentForm {
    pub title: String,
    pub columns: Vec<String>,
    pub items: Vec<FormItem>,
    pub total: FormTotal,
}

impl AssessmentForm {
    /// The form the measures publish (version 1).
    pub fn v1() -> AssessmentForm {
        serde_json::from_str(FORM_V1_JSON).expect("the bundled form is valid JSON (checked by a test)")
    }

    pub fn item(&self, code: &str) -> Option<&FormItem> {
        self.items.iter().find(|i| i.code == code)
    }
}

/// A checked score, with the band label for banded items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemScore {
    pub score: Score,
    pub band_label: Option<String>,
}

impl FormItem {
    /// Checks `value` against the item's rule; refusals name the item (`BAD_USER_INPUT`).
    pub fn check(&self, value: f64) -> Result<ItemScore, DomainError> {
        let score = Score::parse(value, &self.code)?;
        let max = self.max_score * 2;
        if score.0 > max {
            return Err(DomainError::bad_input(
                "scores",
                format!("第{}项的得分 {score} 超过该项满分 {}", self.code, self.max_score),
            ));
        }
        match &self.rule {
            ScoreRule::Judgement { step } => {
                let step_half = (step * 2.0).round().max(1.0) as u32;
                if !score.0.is_multiple_of(step_half) {
                    return Err(DomainError::bad_input(
                        "scores",
                        format!("第{}项以 {step} 分为单位打分", self.code),
                    ));
                }
                Ok(ItemScore {
                    score,
                    band_label: None,
                })
            }
            ScoreRule::PerCount { points, cap, .. } => {
                if !score.0.is_multiple_of(points * 2) || score.0 > cap * 2 {
                    return Err(DomainError::bad_input(
                        "scores",
                        format!(
                            "第{}项按每项 {points} 分计，最多 {cap} 分，得分应为 {points} 的整数倍",
                            self.code
                        ),
                    ));
                }
                Ok(ItemScore {
                    score,
                    band_label: None,
                })
            }
            ScoreRule::Band { bands } => {
                if !score.0.is_multiple_of(2) {
                    return Err(DomainError::bad_input(
                        "scores",
                        format!("第{}项（综合满意度）应为整数分", self.code),
                    ));
                }
                let whole = score.0 / 2;
                let band = bands.iter().find(|b| (b.min..=b.max).contains(&whole)).ok_or_else(|| {
                    DomainError::bad_input("scores", format!("第{}项的得分 {whole} 不在任何评价档次内", self.code))
                })?;
                Ok(ItemScore {
                    score,
                    band_label: Some(band.label.clone()),
                })
            }
        }
    }

    /// How the form says this item is scored, as one sentence for the assessor (the hint of
    /// the scoring form). Taken from the rule, so a new form version brings its own text.
    pub fn rule_text(&self) -> String {
        match &self.rule {
            ScoreRule::Judgement { step } => {
                format!(
                    "评审酌情打分，0–{} 分，以 {} 分为单位",
                    self.max_score,
                    half_text(*step)
                )
            }
            ScoreRule::PerCount { points, cap, counts } => {
                format!("{}得 {points} 分，最多 {cap} 分", counted_as(counts))
            }
            ScoreRule::Band { bands } => {
                let bands: Vec<String> = bands
                    .iter()
                    .map(|b| format!("{}得 {}–{} 分", b.label, b.min, b.max))
                    .collect();
                format!("{}（整数分）", bands.join("；"))
            }
        }
    }

    /// The score the form's rule gives for `count` records (count items only).
    pub fn score_for_count(&self, count: u32) -> Option<Score> {
        match self.rule {
            ScoreRule::PerCount { points, cap, .. } => Some(Score((points * count).min(cap) * 2)),
            _ => None,
        }
    }
}

/// What one counted record of a `per_count` item is, as the form words it.
fn counted_as(counts: &str) -> &'static str {
    match counts {
        "guidance_opinion" => "每提出一项具有针对性、可操作性的指导意见",
        "consulting_project" => "每参与一个项目的专业咨询",
        "public_event" => "每开展一次政策学习、规划解读、宣传科普或经验分享活动",
        _ => "每条记录",
    }
}

/// A step of points as the form writes it (0.5, 1).
fn half_text(step: f64) -> String {
    Score::from_half_points((step * 2.0).round().max(1.0) as u32).to_string()
}

/// 五(5): 90 以上优秀, 75 以上合格 (以上 includes the number), below 75 不合格.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    Excellent,
    Qualified,
    Unqualified,
}

impl Grade {
    pub fn of(total: Score) -> Grade {
        if total.0 >= 180 {
            Grade::Excellent
        } else if total.0 >= 150 {
            Grade::Qualified
        } else {
            Grade::Unqualified
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Qualified => "合格",
            Grade::Unqualified => "不合格",
        }
    }
}

/// What the measures attach to a finalized grade (五(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consequence {
    /// 具有连续聘任的资格.
    EligibleForConsecutiveAppointment,
    /// The street proposes the planner to the employer as 年度先进工作者.
    AdvancedWorkerRecommendation,
    /// The bureau proposes the employer for the industry credit red list (信用信息红名单).
    CreditRedListRecommendation,
    /// The planner may never again be appointed in the district.
    BarPlanner,
    /// The employer may never again be appointed in the district.
    BarOrganization,
}

pub fn consequences(grade: Grade) -> Vec<Consequence> {
    match grade {
        Grade::Excellent => vec![
            Consequence::EligibleForConsecutiveAppointment,
            Consequence::AdvancedWorkerRecommendation,
            Consequence::CreditRedListRecommendation,
        ],
        Grade::Qualified => vec![],
        Grade::Unqualified => vec![Consequence::BarPlanner, Consequence::BarOrganization],
    }
}

/// The total of all scores, exact; `None` until every item of the form is scored.
pub fn total(form: &AssessmentForm, scores: &[(String, Score)]) -> Option<Score> {
    let mut sum = 0;
    for item in &form.items {
        sum += scores.iter().find(|(c, _)| *c == item.code)?.1.0;
    }
    Some(Score(sum))
}

/// A short code derived from a finalized assessment's content (its canonical text), printed on
/// the scorecard so a printed sheet can be checked against the record: 12 characters of
/// base-32 (no 0/O/1/I) in groups of four.
pub fn verification_code(canonical: &str) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let digest = Sha256::digest(canonical.as_bytes());
    let mut bits: u64 = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    let mut out = String::new();
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    out
}

/// A verification code as `verification_code` prints it (`ABCD-EFGH-JKLM`), from what a
/// reader typed or scanned: case, spaces and dashes ignored; None when it cannot be one.
pub fn normalise_verification_code(typed: &str) -> Option<String> {
    let compact: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(13)
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.len() != 12 || !compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(format!("{}-{}-{}", &compact[..4], &compact[4..8], &compact[8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_codes_are_read_as_typed_or_scanned() {
        let code = verification_code("x");
        assert_eq!(normalise_verification_code(&code).as_deref(), Some(code.as_str()));
        let typed = code.replace('-', " ").to_lowercase();
        assert_eq!(normalise_verification_code(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(normalise_verification_code(""), None);
        assert_eq!(normalise_verification_code("ABCD-EFGH"), None);
        assert_eq!(normalise_verification_code("ABCD-EFGH-JKLM-N"), None);
        assert_eq!(normalise_verification_code("规划规划-EFGH-JKLM"), None);
    }

    fn all(form: &AssessmentForm, value: impl Fn(&FormItem) -> u32) -> Vec<(String, Score)> {
        form.items.iter().map(|i| (i.code.clone(), Score(value(i)))).collect()
    }

    #[test]
    fn the_bundled_form_is_the_published_one() {
        let form = AssessmentForm::v1();
        assert_eq!(form.items.len(), 14);
        assert_eq!(form.items.iter().map(|i| i.max_score).sum::<u32>(), 100);
        assert_eq!(
            form.item("2.2").unwrap().content,
            "聘期服务计划和年度工作计划得执行情况进行打分。"
        );
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/assessment-form.json");
        if let Ok(published) = std::fs::read_to_string(shared) {
            assert_eq!(
                published, FORM_V1_JSON,
                "shared/spec/assessment-form.json changed: add a new form version"
            );
        }
    }

    #[test]
    fn clause_5_5_every_item_states_its_scoring_rule_as_the_form_does() {
        let form = AssessmentForm::v1();
        let text = |code: &str| form.item(code).unwrap().rule_text();
        assert_eq!(text("1.1"), "评审酌情打分，0–5 分，以 0.5 分为单位");
        assert_eq!(
            text("2.3"),
            "每提出一项具有针对性、可操作性的指导意见得 2 分，最多 10 分"
        );
        assert_eq!(text("3.1"), "每参与一个项目的专业咨询得 3 分，最多 15 分");
        assert_eq!(
            text("6.1"),
            "每开展一次政策学习、规划解读、宣传科普或经验分享活动得 3 分，最多 15 分"
        );
        assert_eq!(
            text("7.1"),
            "满意得 8–10 分；基本满意得 5–7 分；不满意得 0–4 分（整数分）"
        );
        assert!(form.items.iter().all(|i| !i.rule_text().contains("每条记录")));
    }

    #[test]
    fn clause_5_5_judgement_items_take_half_points_up_to_their_maximum() {
        let form = AssessmentForm::v1();
        let item = form.item("1.1").unwrap();
        assert_eq!(item.check(4.5).unwrap().score, Score(9));
        assert!(item.check(4.3).is_err());
        assert!(item.check(5.5).unwrap_err().message().contains("1.1"));
        assert!(item.check(-1.0).is_err());
    }

    #[test]
    fn clause_5_5_count_items_are_multiples_of_their_points_up_to_the_cap() {
        let form = AssessmentForm::v1();
        let item = form.item("3.1").unwrap();
        assert!(item.check(9.0).is_ok());
        assert!(item.check(10.0).is_err());
        assert!(item.check(18.0).is_err());
        assert_eq!(item.score_for_count(7), Some(Score(30)));
        assert_eq!(form.item("2.3").unwrap().score_for_count(3), Some(Score(12)));
        assert_eq!(form.item("1.1").unwrap().score_for_count(3), None);
    }

    #[test]
    fn clause_5_5_satisfaction_is_an_integer_with_its_band() {
        let form = AssessmentForm::v1();
        let item = form.item("7.1").unwrap();
        assert_eq!(item.check(8.0).unwrap().band_label.as_deref(), Some("满意"));
        assert_eq!(item.check(7.0).unwrap().band_label.as_deref(), Some("基本满意"));
        assert_eq!(item.check(4.0).unwrap().band_label.as_deref(), Some("不满意"));
        assert!(item.check(7.5).is_err());
    }

    #[test]
    fn clause_5_5_grade_boundaries_include_the_number() {
        assert_eq!(Grade::of(Score(149)), Grade::Unqualified); // 74.5
        assert_eq!(Grade::of(Score(150)), Grade::Qualified); // 75
        assert_eq!(Grade::of(Score(179)), Grade::Qualified); // 89.5
        assert_eq!(Grade::of(Score(180)), Grade::Excellent); // 90
    }

    #[test]
    fn totals_are_exact_and_wait_for_every_item() {
        let form = AssessmentForm::v1();
        let mut scores = all(&form, |i| i.max_score * 2);
        assert_eq!(total(&form, &scores), Some(Score(200)));
        scores.pop();
        assert_eq!(total(&form, &scores), None);
        // 89.5 + 0.5 is 90, and 90 is 优秀.
        assert_eq!(
            Grade::of(Score(
                Score::parse(89.5, "x").unwrap().0 + Score::parse(0.5, "x").unwrap().0
            )),
            Grade::Excellent
        );
        assert_eq!(Score(179).to_string(), "89.5");
    }

    #[test]
    fn clause_5_5_consequences_follow_the_grade() {
        assert_eq!(
            consequences(Grade::Unqualified),
            vec![Consequence::BarPlanner, Consequence::BarOrganization]
        );
        assert!(consequences(Grade::Excellent).contains(&Consequence::CreditRedListRecommendation));
        assert!(consequences(Grade::Qualified).is_empty());
    }

    #[test]
    fn verification_codes_change_with_content() {
        let a = verification_code("assessment 1|1.1=9|…");
        assert_eq!(a.len(), 14);
        assert_eq!(a, verification_code("assessment 1|1.1=9|…"));
        assert_ne!(a, verification_code("assessment 1|1.1=10|…"));
    }
}
