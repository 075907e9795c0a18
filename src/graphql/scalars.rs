//! Scalars and enums of the schema. Enums mirror the domain's (`remote`), so the compiler
//! keeps the two in step.

use async_graphql::{Enum, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

use crate::domain::values as v;

/// A calendar date, `YYYY-MM-DD` (RFC 3339 `full-date`), between 1900-01-01 and 2200-12-31,
/// on the China Standard Time calendar; anything else is `BAD_USER_INPUT`. A string in JSON;
/// map it to `string` in code generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Description)]
pub struct Date(pub NaiveDate);

#[Scalar(
    name = "Date",
    use_type_description,
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => v::parse_date(s).map(Date).map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Checked in validation too, so a bad date anywhere (a literal, a variable, a field of an
    /// input object) is refused before anything runs, with its path (`input.occurredOn`).
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if v::parse_date(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// Account roles.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Role")]
pub enum Role {
    /// 区规划资源分局: runs the programme across all streets.
    DistrictAdmin,
    /// 街道工作人员: one street.
    StreetStaff,
    /// 规划师: own records and own team.
    Planner,
    /// Leaders: read-only across the district.
    Viewer,
}

/// Design specialties (六(1)1).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Specialty")]
pub enum Specialty {
    /// 城乡规划
    Planning,
    /// 建筑
    Architecture,
    /// 风景园林
    Landscape,
    /// 给排水
    Water,
    /// 电气
    Electrical,
    /// 市政
    Municipal,
    /// 其他
    Other,
}

/// Level of a professional title (职称).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::TitleLevel")]
pub enum TitleLevel {
    /// 无职称
    None,
    /// 初级
    Junior,
    /// 中级
    Intermediate,
    /// 高级 (副高级 and 正高级)
    Senior,
}

/// Registered practising qualifications (注册执业资格).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Qualification")]
pub enum Qualification {
    /// 注册城乡规划师
    UrbanPlanner,
    /// 一级注册建筑师
    #[graphql(name = "ARCHITECT_CLASS_1")]
    ArchitectClass1,
    /// 二级注册建筑师
    #[graphql(name = "ARCHITECT_CLASS_2")]
    ArchitectClass2,
    /// 注册结构工程师
    StructuralEngineer,
    /// 注册公用设备工程师 (给水排水 among others)
    UtilityEngineer,
    /// 注册电气工程师
    ElectricalEngineer,
    /// 注册土木工程师
    CivilEngineer,
    /// 注册建造师 (not a design qualification)
    Constructor,
    /// 注册造价工程师 (not a design qualification)
    CostEngineer,
    /// 注册监理工程师 (not a design qualification)
    SupervisionEngineer,
}

/// A person's place in a street's team.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::TeamRole")]
pub enum TeamRole {
    /// 驻街规划师 (团队负责人)
    Lead,
    /// 团队成员
    Member,
    /// 社区规划师
    CommunityPlanner,
}

/// Kinds of employer.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::OrganizationKind")]
pub enum OrganizationKind {
    /// 规划设计院
    Institute,
    /// 高校
    University,
    /// 科研院所
    Research,
    /// 设计企业
    DesignFirm,
    /// 其他
    Other,
}

/// Where an appointment's term stands on a given day.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::term::TermStatus")]
pub enum AppointmentStatus {
    /// Not started yet.
    Upcoming,
    /// In its term.
    Current,
    /// Past its term, or ended early.
    Ended,
}

/// Sort direction of an `orderBy`.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum SortDirection {
    /// Smallest first (A→Z, oldest first).
    #[default]
    Asc,
    /// Largest first (Z→A, newest first).
    Desc,
}

impl SortDirection {
    pub fn order(self) -> sea_orm::Order {
        match self {
            SortDirection::Asc => sea_orm::Order::Asc,
            SortDirection::Desc => sea_orm::Order::Desc,
        }
    }
}
