//! Values of the domain that parse instead of validate: once one exists, it is valid.

use std::fmt;

use super::error::DomainError;

/// Declares a closed set of values with a stable storage code and a Chinese label.
macro_rules! coded_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used by the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label shown to users.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Parses a stored code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// Parses a Chinese label as a clerk writes it.
            pub fn from_label(label: &str) -> Option<Self> {
                match label { $($label => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

coded_enum! {
    /// Account roles (API.md, "Auth").
    pub enum Role {
        /// 区规划资源分局
        DistrictAdmin => ("DISTRICT_ADMIN", "区规划资源分局管理员"),
        /// 街道工作人员, scoped to one street
        StreetStaff => ("STREET_STAFF", "街道工作人员"),
        /// 驻街规划师 or team member
        Planner => ("PLANNER", "规划师"),
        /// Leaders: read-only across the district
        Viewer => ("VIEWER", "只读用户"),
    }
}

coded_enum! {
    /// Design specialties a team must cover (六(1)1).
    pub enum Specialty {
        Planning => ("PLANNING", "城乡规划"),
        Architecture => ("ARCHITECTURE", "建筑"),
        Landscape => ("LANDSCAPE", "风景园林"),
        Water => ("WATER", "给排水"),
        Electrical => ("ELECTRICAL", "电气"),
        Municipal => ("MUNICIPAL", "市政"),
        Other => ("OTHER", "其他"),
    }
}

impl Specialty {
    /// The six fields 六(1)1 names for a team's design qualifications.
    pub const REQUIRED_FOR_TEAM: [Specialty; 6] = [
        Specialty::Planning,
        Specialty::Architecture,
        Specialty::Landscape,
        Specialty::Water,
        Specialty::Electrical,
        Specialty::Municipal,
    ];

    /// Whether a professional title in this field is "in planning, architecture or a related
    /// field" (六(1)1 规划或建筑等相关专业). We read "related" as the six design fields the same
    /// clause lists for the team.
    pub fn is_design_related(self) -> bool {
        self != Specialty::Other
    }
}

coded_enum! {
    /// Level of a professional title (职称).
    pub enum TitleLevel {
        None => ("NONE", "无职称"),
        Junior => ("JUNIOR", "初级"),
        Intermediate => ("INTERMEDIATE", "中级"),
        Senior => ("SENIOR", "高级"),
    }
}

impl TitleLevel {
    /// 六(1)1: "中、高级职称".
    pub fn is_mid_or_senior(self) -> bool {
        matches!(self, TitleLevel::Intermediate | TitleLevel::Senior)
    }
}

coded_enum! {
    /// Registered practising qualifications (注册执业资格).
    pub enum Qualification {
        UrbanPlanner => ("URBAN_PLANNER", "注册城乡规划师"),
        ArchitectClass1 => ("ARCHITECT_CLASS_1", "一级注册建筑师"),
        ArchitectClass2 => ("ARCHITECT_CLASS_2", "二级注册建筑师"),
        StructuralEngineer => ("STRUCTURAL_ENGINEER", "注册结构工程师"),
        UtilityEngineer => ("UTILITY_ENGINEER", "注册公用设备工程师"),
        ElectricalEngineer => ("ELECTRICAL_ENGINEER", "注册电气工程师"),
        CivilEngineer => ("CIVIL_ENGINEER", "注册土木工程师"),
        Constructor => ("CONSTRUCTOR", "注册建造师"),
        CostEngineer => ("COST_ENGINEER", "注册造价工程师"),
        SupervisionEngineer => ("SUPERVISION_ENGINEER", "注册监理工程师"),
    }
}

impl Qualification {
    /// 六(1)1 "相应的注册职业资格证书": a registration for planning or design work. Construction,
    /// cost and supervision registrations are not design qualifications and do not count.
    pub fn qualifies_lead(self) -> bool {
        !matches!(
            self,
            Qualification::Constructor | Qualification::CostEngineer | Qualification::SupervisionEngineer
        )
    }
}

coded_enum! {
    /// A person's place in a street's team.
    pub enum TeamRole {
        /// 驻街规划师 (团队负责人)
        Lead => ("LEAD", "驻街规划师"),
        /// 团队成员
        Member => ("MEMBER", "团队成员"),
        /// 社区规划师
        CommunityPlanner => ("COMMUNITY_PLANNER", "社区规划师"),
    }
}

coded_enum! {
    /// Kinds of employer 六(2)1 recruits from.
    pub enum OrganizationKind {
        Institute => ("INSTITUTE", "规划设计院"),
        University => ("UNIVERSITY", "高校"),
        Research => ("RESEARCH", "科研院所"),
        DesignFirm => ("DESIGN_FIRM", "设计企业"),
        Other => ("OTHER", "其他"),
    }
}

/// Folds full-width ASCII (Ａ, １, full-width space) to half-width.
pub fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A person's name: full-width folded, inner spaces of a Chinese name removed (`王　伟` is
/// `王伟`), 1–40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let folded = to_half_width(raw);
        let trimmed = folded.trim();
        let has_latin = trimmed.chars().any(|c| c.is_ascii_alphabetic());
        let name: String = if has_latin {
            trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            trimmed.chars().filter(|c| !c.is_whitespace()).collect()
        };
        let len = name.chars().count();
        if len == 0 {
            return Err(DomainError::bad_input("name", "姓名不能为空"));
        }
        if len > 40 {
            return Err(DomainError::bad_input("name", "姓名过长（最多40个字）"));
        }
        Ok(PersonName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A mainland mobile (11 digits starting with 1) or a landline with area code
/// (e.g. `0571-87654321`), normalised: mobiles as bare digits, landlines as `区号-号码`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let folded = to_half_width(raw);
        let compact: String = folded
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '(' && *c != ')')
            .collect();
        let compact = compact.strip_prefix("+86").unwrap_or(&compact).to_string();
        let bad = || {
            DomainError::bad_input(
                "phone",
                format!("联系电话“{}”格式不正确：应为11位手机号或带区号的固定电话", raw.trim()),
            )
        };
        if !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let bytes = compact.as_bytes();
        if compact.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
            return Ok(Phone(compact));
        }
        if bytes.first() == Some(&b'0') && (10..=12).contains(&compact.len()) {
            // Area codes: 010, 02x are three digits; the rest four.
            let area_len = if bytes[1] == b'1' || bytes[1] == b'2' { 3 } else { 4 };
            let (area, local) = compact.split_at(area_len);
            if (7..=8).contains(&local.len()) {
                return Ok(Phone(format!("{area}-{local}")));
            }
        }
        Err(bad())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in Specialty::ALL {
            assert_eq!(Specialty::from_code(s.code()), Some(*s));
            assert_eq!(Specialty::from_label(s.label()), Some(*s));
        }
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(*r));
        }
        assert_eq!(
            Qualification::from_label("一级注册建筑师"),
            Some(Qualification::ArchitectClass1)
        );
    }

    #[test]
    fn name_loses_inner_full_width_space() {
        assert_eq!(PersonName::parse(" 王　伟 ").unwrap().as_str(), "王伟");
        assert_eq!(PersonName::parse("John  Smith").unwrap().as_str(), "John Smith");
        assert!(PersonName::parse("　").is_err());
    }

    #[test]
    fn phone_accepts_mobile_and_landline() {
        assert_eq!(Phone::parse("138 1234 5678").unwrap().as_str(), "13812345678");
        assert_eq!(Phone::parse("１３８１２３４５６７８").unwrap().as_str(), "13812345678");
        assert_eq!(Phone::parse("+86 13812345678").unwrap().as_str(), "13812345678");
        assert_eq!(Phone::parse("0571-87654321").unwrap().as_str(), "0571-87654321");
        assert_eq!(Phone::parse("010 12345678").unwrap().as_str(), "010-12345678");
    }

    #[test]
    fn phone_refuses_garbage_with_field() {
        for bad in ["12345", "2381234567x", "", "1381234567", "abc"] {
            let err = Phone::parse(bad).unwrap_err();
            assert_eq!(err.field(), Some("phone"), "{bad}");
        }
    }

    #[test]
    fn design_registrations_qualify_a_lead_construction_ones_do_not() {
        assert!(Qualification::UrbanPlanner.qualifies_lead());
        assert!(Qualification::ArchitectClass1.qualifies_lead());
        assert!(!Qualification::Constructor.qualifies_lead());
    }
}

/// The earliest calendar day the service accepts from anyone (dates of birth are not kept;
/// terms, letters and records all fall well inside).
pub const EARLIEST_DATE: (i32, u32, u32) = (1900, 1, 1);
/// The latest calendar day the service accepts. With every user date between these two, no
/// date arithmetic (a term plus five years, a period of twenty) can overflow.
pub const LATEST_DATE: (i32, u32, u32) = (2200, 12, 31);

/// Parses a calendar day written `YYYY-MM-DD` (four-digit year, no sign) within
/// `EARLIEST_DATE`..=`LATEST_DATE`; the error is a Chinese sentence a clerk can act on.
pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    let t = text.trim();
    let shaped = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let day = shaped
        .then(|| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("日期“{}”格式不正确，应为 YYYY-MM-DD", clip(t, 20)))?;
    check_date_range(day).map_err(|_| {
        format!(
            "日期“{t}”超出可受理的范围（{}年至{}年）",
            EARLIEST_DATE.0, LATEST_DATE.0
        )
    })
}

/// Whether `day` is within `EARLIEST_DATE`..=`LATEST_DATE`.
#[allow(clippy::result_unit_err)] // the callers word the message for their field
pub fn check_date_range(day: chrono::NaiveDate) -> Result<chrono::NaiveDate, ()> {
    let (y0, m0, d0) = EARLIEST_DATE;
    let (y1, m1, d1) = LATEST_DATE;
    let lo = chrono::NaiveDate::from_ymd_opt(y0, m0, d0);
    let hi = chrono::NaiveDate::from_ymd_opt(y1, m1, d1);
    match (lo, hi) {
        (Some(lo), Some(hi)) if day >= lo && day <= hi => Ok(day),
        _ => Err(()),
    }
}

/// At most `n` characters of `text`, with an ellipsis when cut: user text quoted in a
/// message stays short.
pub fn clip(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn dates_outside_1900_to_2200_are_refused() {
        assert!(parse_date("2026-12-02").is_ok());
        assert!(parse_date("1900-01-01").is_ok());
        assert!(parse_date("2200-12-31").is_ok());
        assert!(parse_date("1899-12-31").unwrap_err().contains("超出"));
        assert!(parse_date("2201-01-01").unwrap_err().contains("超出"));
        assert!(parse_date("+262142-12-31").unwrap_err().contains("格式"));
        assert!(parse_date("-0001-01-01").is_err());
        assert!(parse_date("2026-2-3").is_err());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date(&"9".repeat(100_000)).unwrap_err().chars().count() < 60);
    }
}
