//! The one error type of the domain. Each variant has a stable code (the GraphQL edge
//! puts it in `extensions.code`) and a Chinese message written for a clerk.

use std::fmt;

use super::eligibility::LeadCriterion;

/// Stable error codes of the API (`shared/spec/API.md`, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    Ineligible,
    Barred,
    ConflictOfInterest,
    AssessmentLocked,
    InvalidSpreadsheet,
    PayloadTooLarge,
    RateLimited,
    QueryTooComplex,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Ineligible => "INELIGIBLE",
            ErrorCode::Barred => "BARRED",
            ErrorCode::ConflictOfInterest => "CONFLICT_OF_INTEREST",
            ErrorCode::AssessmentLocked => "ASSESSMENT_LOCKED",
            ErrorCode::InvalidSpreadsheet => "INVALID_SPREADSHEET",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal by the rules of the measures or of the API.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainError {
    /// No or an invalid token.
    Unauthenticated,
    /// `login` with a wrong username or password (not saying which).
    WrongCredentials,
    /// The acting user may not do or see this.
    Forbidden { message: String },
    /// The thing named does not exist (or is not visible to the caller).
    NotFound { what: &'static str, field: Option<String> },
    /// An input value breaks a rule; `field` names the input field.
    BadInput { field: Option<String>, message: String },
    /// The change collides with existing data (a second current appointment, a duplicate).
    Conflict { field: Option<String>, message: String },
    /// 六(1)1: the team lead does not meet the qualification; every unmet criterion listed.
    Ineligible { planner: String, unmet: Vec<LeadCriterion> },
    /// A finalized assessment cannot change.
    AssessmentLocked { message: String },
    /// A file that is not a readable spreadsheet (not one, truncated, encrypted, empty).
    InvalidSpreadsheet { message: String },
    /// An upload or its contents beyond the configured limits.
    PayloadTooLarge { message: String },
    /// 五(5): a planner or employer barred after an unqualified (不合格) assessment.
    Barred { subjects: Vec<String> },
    /// An uploaded sheet is readable but its contents are refused (`BAD_USER_INPUT` on the
    /// `file` field); every problem is located as a clerk finds it in Excel.
    SheetProblems { problems: Vec<CellProblem> },
    /// 六(2)2 回避制度: a compilation contract for a street given to the employer of a planner
    /// appointed there, signed on or after the appointment.
    ConflictOfInterest { planners: Vec<String> },
    /// Too many requests from one client; try again after `retry_after_secs`.
    RateLimited { retry_after_secs: u64 },
    /// Several items of a list input break rules (`BAD_USER_INPUT`): every bad item is named
    /// by its path (`scores[2].score`), so a form marks each row at once.
    InputProblems { problems: Vec<InputProblem> },
}

/// One bad item of a list input: its path with indexes and a Chinese message.
#[derive(Debug, Clone, PartialEq)]
pub struct InputProblem {
    pub field: String,
    pub message: String,
}

/// One problem of an uploaded sheet: sheet name, Excel row and column letter where known.
#[derive(Debug, Clone, PartialEq)]
pub struct CellProblem {
    pub sheet: String,
    pub row: Option<u32>,
    pub column: Option<String>,
    pub message: String,
}

impl CellProblem {
    /// "考核表 第9行C列：…" as a clerk reads it.
    pub fn located(&self) -> String {
        let mut at = format!("工作表“{}”", self.sheet);
        if let Some(r) = self.row {
            at.push_str(&format!("第{r}行"));
        }
        if let Some(c) = &self.column {
            at.push_str(&format!("{c}列"));
        }
        format!("{at}：{}", self.message)
    }
}

impl DomainError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::BadInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str, field: impl Into<String>) -> Self {
        DomainError::NotFound {
            what,
            field: Some(field.into()),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        DomainError::Forbidden {
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::Unauthenticated | DomainError::WrongCredentials => ErrorCode::Unauthenticated,
            DomainError::Forbidden { .. } => ErrorCode::Forbidden,
            DomainError::NotFound { .. } => ErrorCode::NotFound,
            DomainError::BadInput { .. } | DomainError::SheetProblems { .. } | DomainError::InputProblems { .. } => {
                ErrorCode::BadUserInput
            }
            DomainError::Conflict { .. } => ErrorCode::Conflict,
            DomainError::Ineligible { .. } => ErrorCode::Ineligible,
            DomainError::Barred { .. } => ErrorCode::Barred,
            DomainError::InvalidSpreadsheet { .. } => ErrorCode::InvalidSpreadsheet,
            DomainError::AssessmentLocked { .. } => ErrorCode::AssessmentLocked,
            DomainError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            DomainError::ConflictOfInterest { .. } => ErrorCode::ConflictOfInterest,
            DomainError::RateLimited { .. } => ErrorCode::RateLimited,
        }
    }

    /// The input field at fault, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::NotFound { field, .. }
            | DomainError::BadInput { field, .. }
            | DomainError::Conflict { field, .. } => field.as_deref(),
            DomainError::SheetProblems { .. } => Some("file"),
            DomainError::InputProblems { problems } => problems.first().map(|p| p.field.as_str()),
            _ => None,
        }
    }

    /// The Chinese message shown to the user.
    pub fn message(&self) -> String {
        match self {
            DomainError::Unauthenticated => "请先登录（缺少或无效的登录凭证）".to_string(),
            DomainError::WrongCredentials => "用户名或密码错误".to_string(),
            DomainError::Forbidden { message } => message.clone(),
            DomainError::NotFound { what, .. } => format!("{what}不存在或无权查看"),
            DomainError::BadInput { message, .. }
            | DomainError::Conflict { message, .. }
            | DomainError::InvalidSpreadsheet { message }
            | DomainError::AssessmentLocked { message }
            | DomainError::PayloadTooLarge { message } => message.clone(),
            DomainError::Ineligible { planner, unmet } => {
                let reasons: Vec<&str> = unmet.iter().map(|c| c.message()).collect();
                format!("{planner}不符合驻街规划师团队负责人的聘任资格：{}", reasons.join("；"))
            }
            DomainError::Barred { subjects } => {
                format!("{}因聘期考核不合格，不得再聘任为驻街规划师", subjects.join("、"))
            }
            DomainError::ConflictOfInterest { planners } => format!(
                "违反回避制度：{}受聘服务该街道，其所在单位自受聘之日起不得承担该街道的规划项目编制（受聘前已签订的合同除外）",
                planners.join("、")
            ),
            DomainError::RateLimited { retry_after_secs } => {
                format!("提交过于频繁，请{}后再试", wait_text(*retry_after_secs))
            }
            DomainError::InputProblems { problems } => {
                let shown: Vec<&str> = problems.iter().take(5).map(|p| p.message.as_str()).collect();
                let more = if problems.len() > 5 {
                    format!("；另有{}处问题", problems.len() - 5)
                } else {
                    String::new()
                };
                format!(
                    "有{}处输入有误，未做任何修改：{}{more}",
                    problems.len(),
                    shown.join("；")
                )
            }
            DomainError::SheetProblems { problems } => {
                let shown: Vec<String> = problems.iter().take(5).map(CellProblem::located).collect();
                let more = if problems.len() > 5 {
                    format!("；另有{}处问题", problems.len() - 5)
                } else {
                    String::new()
                };
                format!(
                    "上传的表格有{}处问题，未做任何修改：{}{more}",
                    problems.len(),
                    shown.join("；")
                )
            }
        }
    }
}

// `DomainError` deliberately implements neither `Display` nor `std::error::Error`:
// async-graphql turns any `Display` type into an error carrying only its text, which would
// drop the code (`extensions.code`) and leave the error to be classified as INTERNAL. The one
// conversion to a GraphQL error is `graphql::error` (`From<DomainError>`).

pub type DomainResult<T> = Result<T, DomainError>;

/// A wait as a person says it: 45 秒, 约 6 分钟, 约 2 小时 (rounded up).
pub fn wait_text(secs: u64) -> String {
    match secs {
        0..60 => format!("{} 秒", secs.max(1)),
        60..3600 => format!("约 {} 分钟", secs.div_ceil(60)),
        _ => format!("约 {} 小时", secs.div_ceil(3600)),
    }
}

#[cfg(test)]
mod wait_tests {
    use super::wait_text;

    #[test]
    fn a_wait_is_said_in_the_unit_a_person_would_use() {
        assert_eq!(wait_text(0), "1 秒");
        assert_eq!(wait_text(45), "45 秒");
        assert_eq!(wait_text(60), "约 1 分钟");
        assert_eq!(wait_text(323), "约 6 分钟");
        assert_eq!(wait_text(3600), "约 1 小时");
        assert_eq!(wait_text(5000), "约 2 小时");
    }
}
