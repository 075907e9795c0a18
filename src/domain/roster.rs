//! What a roster row (花名册) says and the rules a whole roster must keep before anything is
//! written (shared/spec/ROSTER.md). Parsing of the values clerks type lives here too, so the
//! spreadsheet layer only finds cells and the store only resolves names.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};

use super::values::{Qualification, Specialty, TeamRole, TitleLevel, to_half_width};

/// Stable codes of row problems in an import report.
pub mod codes {
    pub const MISSING_COLUMN: &str = "MISSING_COLUMN";
    pub const MISSING_VALUE: &str = "MISSING_VALUE";
    pub const BAD_VALUE: &str = "BAD_VALUE";
    pub const BAD_PHONE: &str = "BAD_PHONE";
    pub const BAD_DATE: &str = "BAD_DATE";
    pub const TERM_END_BEFORE_START: &str = "TERM_END_BEFORE_START";
    pub const TERM_TOO_LONG: &str = "TERM_TOO_LONG";
    pub const UNKNOWN_STREET: &str = "UNKNOWN_STREET";
    pub const UNKNOWN_COMMUNITY: &str = "UNKNOWN_COMMUNITY";
    pub const DUPLICATE_LEAD: &str = "DUPLICATE_LEAD";
    /// A notice, not an error: the row's lead replaces the team's current lead.
    pub const LEAD_REPLACED: &str = "LEAD_REPLACED";
    pub const NO_LEAD: &str = "NO_LEAD";
    pub const CONFLICTING_PERSON: &str = "CONFLICTING_PERSON";
    pub const INELIGIBLE: &str = "INELIGIBLE";
    pub const BARRED: &str = "BARRED";
    pub const CONFLICT: &str = "CONFLICT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
}

/// One person's place in a street's team for a term, as a roster row states it. Optional
/// fields are "not stated": an import never clears what the registry already knows.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    pub name: String,
    pub sex: Option<String>,
    pub employer: Option<String>,
    pub title: Option<String>,
    pub qualifications: Option<Vec<Qualification>>,
    pub years_experience: Option<i32>,
    pub specialty: Option<Specialty>,
    pub phone: Option<String>,
    /// The street as written (name or code); resolved by the store.
    pub street: String,
    /// Community names as written; resolved by the store.
    pub communities: Vec<String>,
    pub role: TeamRole,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
}

impl RosterEntry {
    /// ROSTER.md: a person is the same person when name and phone match, or name and employer
    /// where there is no phone.
    pub fn person_key(&self) -> String {
        match (&self.phone, &self.employer) {
            (Some(p), _) => format!("{}|☎{}", self.name, p),
            (None, Some(e)) => format!("{}|@{}", self.name, e),
            (None, None) => format!("{}|", self.name),
        }
    }

    /// The profile fields that must agree wherever the same person appears.
    fn same_profile(&self, other: &RosterEntry) -> bool {
        self.sex == other.sex
            && self.employer == other.employer
            && self.title == other.title
            && self.qualifications == other.qualifications
            && self.years_experience == other.years_experience
            && self.specialty == other.specialty
    }

    /// The team this row belongs to.
    pub fn team_key(&self) -> (String, NaiveDate, NaiveDate) {
        (self.street.clone(), self.term_start, self.term_end)
    }
}

/// A problem found in a roster: where, a stable code and a Chinese message.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub index: usize,
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// Rules across rows: one lead per street and term (五(4), 六(2)3), and one person stated the
/// same way wherever they appear. `rows[i]` problems carry index `i`.
pub fn check_roster(rows: &[RosterEntry]) -> Vec<RowProblem> {
    let mut problems = Vec::new();
    let mut leads: HashMap<(String, NaiveDate, NaiveDate), usize> = HashMap::new();
    let mut people: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.role == TeamRole::Lead {
            if let Some(&first) = leads.get(&r.team_key()) {
                if rows[first].person_key() != r.person_key() {
                    problems.push(RowProblem {
                        index: i,
                        field: "role",
                        code: codes::DUPLICATE_LEAD,
                        message: format!(
                            "{}{}至{}已有驻街规划师{}，同一街道同一聘期只能有一名驻街规划师",
                            r.street, r.term_start, r.term_end, rows[first].name
                        ),
                    });
                }
            } else {
                leads.insert(r.team_key(), i);
            }
        }
        match people.get(&r.person_key()) {
            Some(&first) if !rows[first].same_profile(r) => problems.push(RowProblem {
                index: i,
                field: "name",
                code: codes::CONFLICTING_PERSON,
                message: format!(
                    "{}在表中出现多次，但各处填写的信息（单位、职称、资格、年限、专业等）不一致",
                    r.name
                ),
            }),
            Some(_) => {}
            None => {
                people.insert(r.person_key(), i);
            }
        }
    }
    problems
}

/// The longest term a roster may state: 六(2)3 聘期一般三到五年; a longer one in a roster is a typo.
pub fn term_problem(start: NaiveDate, end: NaiveDate) -> Option<(&'static str, String)> {
    if end <= start {
        return Some((
            codes::TERM_END_BEFORE_START,
            format!("聘期结束（{end}）早于或等于开始（{start}）"),
        ));
    }
    let five_years_later = start.checked_add_months(Months::new(60))?;
    if end >= five_years_later {
        return Some((
            codes::TERM_TOO_LONG,
            format!("聘期{start}至{end}超过五年（办法规定聘期一般三到五年），请核对"),
        ));
    }
    None
}

/// 驻街规划师 / 团队负责人 → lead; 团队成员 → member; 社区规划师 → community planner.
pub fn parse_role(raw: &str) -> Option<TeamRole> {
    let s: String = to_half_width(raw).chars().filter(|c| !c.is_whitespace()).collect();
    match s.as_str() {
        "驻街规划师"
        | "团队负责人"
        | "负责人"
        | "驻街规划师(团队负责人)"
        | "驻街规划师团队负责人"
        | "组长"
        | "首席规划师" => Some(TeamRole::Lead),
        "团队成员" | "成员" | "组员" | "驻街规划师团队成员" => Some(TeamRole::Member),
        "社区规划师" | "社区联络员" => Some(TeamRole::CommunityPlanner),
        _ => TeamRole::from_code(&s.to_ascii_uppercase()),
    }
}

/// `12`, `12年`, `12.0`, `十二年` → 12.
pub fn parse_years(raw: &str) -> Option<i32> {
    let s: String = to_half_width(raw).chars().filter(|c| !c.is_whitespace()).collect();
    let s = s
        .trim_end_matches("年以上")
        .trim_end_matches('年')
        .trim_end_matches('+');
    if let Ok(n) = s.parse::<f64>() {
        return (n.fract() == 0.0 && (0.0..=70.0).contains(&n)).then_some(n as i32);
    }
    chinese_number(s).filter(|n| (0..=70).contains(n))
}

fn chinese_number(s: &str) -> Option<i32> {
    let digit = |c: char| "零一二三四五六七八九".chars().position(|d| d == c).map(|p| p as i32);
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        [t, '十'] => Some(digit(*t)? * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

/// A phone as text from a roster cell. Excel turns long numbers into `13812345678.0`, or worse
/// into `1.38123E+10`, which has lost digits and is refused.
pub fn parse_roster_phone(raw: &str) -> Result<String, String> {
    let s = to_half_width(raw).trim().to_string();
    if s.contains(['E', 'e']) && s.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Err(format!(
            "联系电话“{s}”被 Excel 显示成了科学计数法，后几位数字已丢失；请把该列设为“文本”后重新填写号码"
        ));
    }
    let s = s.strip_suffix(".0").unwrap_or(&s);
    super::values::Phone::parse(s)
        .map(|p| p.into_inner())
        .map_err(|e| e.message())
}

/// Qualifications written in one cell, separated by 、，,；;/ or spaces; `无` is none.
pub fn parse_qualifications(raw: &str) -> Result<Vec<Qualification>, String> {
    let s = to_half_width(raw);
    let mut out = Vec::new();
    for part in s
        .split(['、', ',', ';', '/', '，', '；', ' ', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if matches!(part, "无" | "暂无" | "-" | "/") {
            continue;
        }
        let q = match part {
            "注册城乡规划师" | "注册规划师" | "注册城市规划师" => Qualification::UrbanPlanner,
            "一级注册建筑师" | "注册建筑师(一级)" | "一级建筑师" => Qualification::ArchitectClass1,
            "二级注册建筑师" | "注册建筑师(二级)" | "二级建筑师" => Qualification::ArchitectClass2,
            "注册结构工程师" | "一级注册结构工程师" | "二级注册结构工程师" => {
                Qualification::StructuralEngineer
            }
            "注册公用设备工程师" | "注册公用设备工程师(给水排水)" | "注册给排水工程师" => {
                Qualification::UtilityEngineer
            }
            "注册电气工程师" | "注册电气工程师(供配电)" => Qualification::ElectricalEngineer,
            "注册土木工程师" | "注册土木工程师(岩土)" | "注册土木工程师(道路工程)" => {
                Qualification::CivilEngineer
            }
            "注册建造师" | "一级注册建造师" | "二级注册建造师" | "一级建造师" | "二级建造师" => {
                Qualification::Constructor
            }
            "注册造价工程师" | "一级造价工程师" | "造价工程师" => Qualification::CostEngineer,
            "注册监理工程师" | "监理工程师" => Qualification::SupervisionEngineer,
            other => match Qualification::from_label(other) {
                Some(q) => q,
                None => {
                    return Err(format!(
                        "无法识别的注册执业资格“{other}”（可填：注册城乡规划师、一级注册建筑师等，多项用“、”分隔）"
                    ));
                }
            },
        };
        if !out.contains(&q) {
            out.push(q);
        }
    }
    Ok(out)
}

/// A specialty as clerks write it; anything unrecognised is "other".
pub fn parse_specialty(raw: &str) -> Specialty {
    let s = to_half_width(raw);
    infer_field(&s).unwrap_or(Specialty::Other)
}

/// The design field a text names (a title such as 高级规划师, or a specialty), if any.
pub fn infer_field(s: &str) -> Option<Specialty> {
    let table: [(&[&str], Specialty); 6] = [
        (&["规划"], Specialty::Planning),
        (&["风景园林", "园林", "景观"], Specialty::Landscape),
        (&["建筑"], Specialty::Architecture),
        (&["给排水", "给水", "排水", "水务"], Specialty::Water),
        (&["电气", "电力"], Specialty::Electrical),
        (&["市政", "道路", "桥梁", "交通"], Specialty::Municipal),
    ];
    table
        .iter()
        .find(|(words, _)| words.iter().any(|w| s.contains(w)))
        .map(|(_, sp)| *sp)
}

/// The level a title text states: 正高级/高级/教授/研究员 → senior; 工程师/规划师/讲师/中级 →
/// intermediate; 助理/初级/技术员 → junior.
pub fn infer_title_level(title: &str) -> TitleLevel {
    let t = to_half_width(title);
    let t = t.trim();
    if t.is_empty() || t == "无" {
        TitleLevel::None
    } else if ["高级", "正高", "副高", "教授", "研究员"].iter().any(|w| t.contains(w)) && !t.contains("助理研究员")
    {
        TitleLevel::Senior
    } else if ["助理", "初级", "技术员", "员级"].iter().any(|w| t.contains(w)) {
        TitleLevel::Junior
    } else if ["中级", "工程师", "规划师", "建筑师", "讲师", "经济师"]
        .iter()
        .any(|w| t.contains(w))
    {
        TitleLevel::Intermediate
    } else {
        TitleLevel::None
    }
}

/// A date as typed: `2022-3-1`, `2022/03/01`, `2022.03.01`, `2022年3月1日`, or a month
/// (`2022.03`, `2022年3月`, `2022-03`): the first day of it, or the last when `period_end`.
pub fn parse_date_text(raw: &str, period_end: bool) -> Option<NaiveDate> {
    let s = to_half_width(raw);
    let s = s.trim().trim_end_matches('日').trim_end_matches('号');
    let nums: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let n = |i: usize| nums.get(i).and_then(|v| v.parse::<u32>().ok());
    match nums.len() {
        1 if nums[0].len() == 8 => NaiveDate::parse_from_str(nums[0], "%Y%m%d").ok(),
        1 if nums[0].len() == 4 => {
            let y = n(0)? as i32;
            if period_end {
                NaiveDate::from_ymd_opt(y, 12, 31)
            } else {
                NaiveDate::from_ymd_opt(y, 1, 1)
            }
        }
        2 => {
            let (y, m) = (n(0)? as i32, n(1)?);
            let first = NaiveDate::from_ymd_opt(y, m, 1)?;
            if period_end {
                first.checked_add_months(Months::new(1))?.pred_opt()
            } else {
                Some(first)
            }
        }
        3 => NaiveDate::from_ymd_opt(n(0)? as i32, n(1)?, n(2)?),
        _ => None,
    }
    .filter(|d| (1990..=2100).contains(&d.year()))
}

/// A term written in one cell: `2022.01-2024.12`, `2022年1月至2024年12月`, `2022-01-01~2024-12-31`.
pub fn parse_term_range(raw: &str) -> Option<(NaiveDate, NaiveDate)> {
    let s = to_half_width(raw);
    let s = s.trim();
    for sep in ["至", "~", "—", "–", "－", "到"] {
        if let Some((a, b)) = s.split_once(sep) {
            return Some((parse_date_text(a, false)?, parse_date_text(b, true)?));
        }
    }
    // A hyphen separates the two dates only where the dates themselves use other separators,
    // or where the halves are year-month pairs: `2022.1-2024.12`, `2022-2024`.
    let parts: Vec<&str> = s.split('-').map(str::trim).collect();
    match parts.len() {
        2 => Some((parse_date_text(parts[0], false)?, parse_date_text(parts[1], true)?)),
        4 => Some((
            parse_date_text(&format!("{}-{}", parts[0], parts[1]), false)?,
            parse_date_text(&format!("{}-{}", parts[2], parts[3]), true)?,
        )),
        6 => Some((
            parse_date_text(&parts[..3].join("-"), false)?,
            parse_date_text(&parts[3..].join("-"), true)?,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn entry(name: &str, role: TeamRole) -> RosterEntry {
        RosterEntry {
            name: name.into(),
            sex: None,
            employer: Some("某院".into()),
            title: None,
            qualifications: None,
            years_experience: Some(6),
            specialty: None,
            phone: None,
            street: "西兴街道".into(),
            communities: vec![],
            role,
            term_start: d("2022-01-01"),
            term_end: d("2024-12-31"),
        }
    }

    #[test]
    fn dates_as_clerks_type_them() {
        assert_eq!(parse_date_text("2022.03", false), Some(d("2022-03-01")));
        assert_eq!(parse_date_text("2022.03", true), Some(d("2022-03-31")));
        assert_eq!(parse_date_text("2022-3-1", false), Some(d("2022-03-01")));
        assert_eq!(parse_date_text("2022年3月1日", false), Some(d("2022-03-01")));
        assert_eq!(parse_date_text("２０２２／３／１", false), Some(d("2022-03-01")));
        assert_eq!(parse_date_text("2024.2", true), Some(d("2024-02-29")));
        assert_eq!(parse_date_text("去年", false), None);
        assert_eq!(parse_date_text("2022.13", false), None);
    }

    #[test]
    fn term_ranges_in_one_cell() {
        assert_eq!(
            parse_term_range("2022.01-2024.12"),
            Some((d("2022-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            parse_term_range("2022.1-2024.12"),
            Some((d("2022-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            parse_term_range("2022年1月至2024年12月"),
            Some((d("2022-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            parse_term_range("2022-01-01~2024-12-31"),
            Some((d("2022-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            parse_term_range("2022-01-01-2024-12-31"),
            Some((d("2022-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            parse_term_range("2022-01 - 2024-12"),
            Some((d("2022-01-01"), d("2024-12-31")))
        );
        assert_eq!(parse_term_range("2022-2024"), Some((d("2022-01-01"), d("2024-12-31"))));
    }

    #[test]
    fn phones_mangled_by_excel() {
        assert_eq!(parse_roster_phone("13812345678.0").unwrap(), "13812345678");
        assert!(parse_roster_phone("1.38123E+10").unwrap_err().contains("科学计数法"));
        assert!(parse_roster_phone("138").is_err());
    }

    #[test]
    fn years_and_roles() {
        assert_eq!(parse_years("5年"), Some(5));
        assert_eq!(parse_years("12.0"), Some(12));
        assert_eq!(parse_years("十二年"), Some(12));
        assert_eq!(parse_years("很多"), None);
        assert_eq!(parse_role("驻街规划师"), Some(TeamRole::Lead));
        assert_eq!(parse_role(" 社区规划师 "), Some(TeamRole::CommunityPlanner));
        assert_eq!(parse_role("实习生"), None);
    }

    #[test]
    fn titles_and_qualifications() {
        assert_eq!(infer_title_level("高级工程师"), TitleLevel::Senior);
        assert_eq!(infer_title_level("教授级高级规划师"), TitleLevel::Senior);
        assert_eq!(infer_title_level("工程师"), TitleLevel::Intermediate);
        assert_eq!(infer_title_level("助理工程师"), TitleLevel::Junior);
        assert_eq!(infer_field("高级规划师"), Some(Specialty::Planning));
        assert_eq!(infer_field("高级工程师"), None);
        assert_eq!(
            parse_qualifications("注册城乡规划师、一级注册建筑师").unwrap(),
            vec![Qualification::UrbanPlanner, Qualification::ArchitectClass1]
        );
        assert_eq!(parse_qualifications("无").unwrap(), vec![]);
        assert!(parse_qualifications("驾驶证").is_err());
    }

    #[test]
    fn roster_rule_two_leads_for_one_street_and_term() {
        let rows = [
            entry("甲", TeamRole::Lead),
            entry("乙", TeamRole::Lead),
            entry("丙", TeamRole::Member),
        ];
        let p = check_roster(&rows);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].index, p[0].code), (1, codes::DUPLICATE_LEAD));
    }

    #[test]
    fn roster_rule_same_person_twice_with_different_data() {
        let mut again = entry("甲", TeamRole::Member);
        again.years_experience = Some(9);
        let p = check_roster(&[entry("甲", TeamRole::Member), again]);
        assert_eq!(p[0].code, codes::CONFLICTING_PERSON);
        // The same person stated the same way twice (a summary and a detail sheet) is fine.
        assert!(check_roster(&[entry("甲", TeamRole::Member), entry("甲", TeamRole::Member)]).is_empty());
    }

    #[test]
    fn clause_6_2_3_roster_term_longer_than_five_years_is_refused() {
        assert_eq!(term_problem(d("2022-01-01"), d("2026-12-31")), None);
        assert_eq!(
            term_problem(d("2022-01-01"), d("2027-01-01")).unwrap().0,
            codes::TERM_TOO_LONG
        );
        assert_eq!(
            term_problem(d("2024-01-01"), d("2023-01-01")).unwrap().0,
            codes::TERM_END_BEFORE_START
        );
    }
}
