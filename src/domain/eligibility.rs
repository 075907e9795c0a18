//! 六(1)1 聘任资格: who may lead a street's team (驻街规划师团队负责人).
//!
//! "驻街规划师团队负责人应具有五年以上规划设计相关任职经历，具备规划或建筑等相关专业的中、
//! 高级职称，或具备相应的注册职业资格证书。" This module is the one place that rule lives.

use super::error::DomainError;
use super::values::{Qualification, Role, Specialty, TitleLevel};

/// 五年以上: in Chinese regulations 以上 includes the number itself.
pub const LEAD_MIN_YEARS: u32 = 5;

/// What the measures check of a prospective team lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadCandidate {
    pub years_experience: u32,
    pub title_level: TitleLevel,
    /// The field of the professional title, where known.
    pub title_field: Option<Specialty>,
    pub qualifications: Vec<Qualification>,
}

/// One criterion of 六(1)1 a candidate does not meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadCriterion {
    /// Fewer than five years of planning/design work.
    YearsOfExperience { years: u32 },
    /// Neither a mid-level or senior title in a related field nor a matching registration.
    TitleOrRegistration,
}

impl LeadCriterion {
    pub fn code(self) -> &'static str {
        match self {
            LeadCriterion::YearsOfExperience { .. } => "YEARS_OF_EXPERIENCE",
            LeadCriterion::TitleOrRegistration => "TITLE_OR_REGISTRATION",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            LeadCriterion::YearsOfExperience { .. } => "规划设计相关任职经历不足五年",
            LeadCriterion::TitleOrRegistration => {
                "既无规划、建筑等相关专业的中级或高级职称，也无相应的注册执业资格证书"
            }
        }
    }
}

impl LeadCandidate {
    /// Every criterion of 六(1)1 the candidate does not meet; empty when eligible.
    pub fn unmet_criteria(&self) -> Vec<LeadCriterion> {
        let mut unmet = Vec::new();
        if self.years_experience < LEAD_MIN_YEARS {
            unmet.push(LeadCriterion::YearsOfExperience {
                years: self.years_experience,
            });
        }
        let title_ok =
            self.title_level.is_mid_or_senior() && self.title_field.is_some_and(Specialty::is_design_related);
        let registration_ok = self.qualifications.iter().any(|q| q.qualifies_lead());
        if !title_ok && !registration_ok {
            unmet.push(LeadCriterion::TitleOrRegistration);
        }
        unmet
    }

    pub fn is_eligible(&self) -> bool {
        self.unmet_criteria().is_empty()
    }
}

/// A district administrator's recorded decision to appoint a lead who does not meet 六(1)1.
#[derive(Debug, Clone, PartialEq)]
pub struct EligibilityOverride {
    reason: String,
}

impl EligibilityOverride {
    /// Only the bureau (`DISTRICT_ADMIN`) may override, and only with a reason.
    pub fn new(reason: &str, by: Role) -> Result<Self, DomainError> {
        if by != Role::DistrictAdmin {
            return Err(DomainError::forbidden(
                "只有区规划资源分局管理员可以破格聘任不符合资格的负责人",
            ));
        }
        let reason = reason.trim();
        if reason.chars().count() < 4 {
            return Err(DomainError::bad_input(
                "eligibilityOverride.reason",
                "破格聘任须写明理由（至少4个字）",
            ));
        }
        Ok(EligibilityOverride {
            reason: reason.to_string(),
        })
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Decides whether `candidate` may lead: eligible, overridden (with the unmet criteria kept
/// for the record), or refused with `INELIGIBLE` listing every unmet criterion.
pub fn check_lead(
    name: &str,
    candidate: &LeadCandidate,
    override_: Option<&EligibilityOverride>,
) -> Result<Vec<LeadCriterion>, DomainError> {
    let unmet = candidate.unmet_criteria();
    if unmet.is_empty() || override_.is_some() {
        return Ok(unmet);
    }
    Err(DomainError::Ineligible {
        planner: name.to_string(),
        unmet,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(years: u32, level: TitleLevel, quals: &[Qualification]) -> LeadCandidate {
        LeadCandidate {
            years_experience: years,
            title_level: level,
            title_field: Some(Specialty::Planning),
            qualifications: quals.to_vec(),
        }
    }

    #[test]
    fn clause_6_1_1_lead_with_five_years_and_intermediate_title_is_eligible() {
        assert!(candidate(5, TitleLevel::Intermediate, &[]).is_eligible());
        assert!(candidate(12, TitleLevel::Senior, &[]).is_eligible());
    }

    #[test]
    fn clause_6_1_1_lead_with_four_years_is_ineligible() {
        let c = candidate(4, TitleLevel::Senior, &[Qualification::UrbanPlanner]);
        assert_eq!(c.unmet_criteria(), vec![LeadCriterion::YearsOfExperience { years: 4 }]);
    }

    #[test]
    fn clause_6_1_1_registration_replaces_a_title() {
        assert!(candidate(6, TitleLevel::Junior, &[Qualification::UrbanPlanner]).is_eligible());
        assert!(candidate(6, TitleLevel::None, &[Qualification::ArchitectClass1]).is_eligible());
    }

    #[test]
    fn clause_6_1_1_junior_title_without_registration_is_ineligible() {
        let c = candidate(8, TitleLevel::Junior, &[]);
        assert_eq!(c.unmet_criteria(), vec![LeadCriterion::TitleOrRegistration]);
    }

    #[test]
    fn clause_6_1_1_construction_registration_is_not_a_design_qualification() {
        let c = candidate(8, TitleLevel::None, &[Qualification::Constructor]);
        assert_eq!(c.unmet_criteria(), vec![LeadCriterion::TitleOrRegistration]);
    }

    #[test]
    fn clause_6_1_1_title_outside_related_fields_does_not_count() {
        let mut c = candidate(8, TitleLevel::Senior, &[]);
        c.title_field = Some(Specialty::Other);
        assert!(!c.is_eligible());
        c.title_field = None;
        assert!(!c.is_eligible());
    }

    #[test]
    fn clause_6_1_1_every_unmet_criterion_is_listed() {
        let c = candidate(2, TitleLevel::None, &[]);
        let err = check_lead("张三", &c, None).unwrap_err();
        match &err {
            DomainError::Ineligible { unmet, .. } => assert_eq!(unmet.len(), 2),
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.message().contains("不足五年"));
        assert!(err.message().contains("注册执业资格"));
    }

    #[test]
    fn clause_6_1_1_district_admin_may_override_with_reason() {
        let c = candidate(2, TitleLevel::None, &[]);
        let o = EligibilityOverride::new("经分局研究同意，特聘", Role::DistrictAdmin).unwrap();
        assert_eq!(check_lead("张三", &c, Some(&o)).unwrap().len(), 2);
    }

    #[test]
    fn clause_6_1_1_only_district_admin_may_override() {
        let err = EligibilityOverride::new("街道认为合适", Role::StreetStaff).unwrap_err();
        assert_eq!(err.code().as_str(), "FORBIDDEN");
        let err = EligibilityOverride::new(" ", Role::DistrictAdmin).unwrap_err();
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT");
    }
}
