//! The street's team (驻街规划师团队): its make-up, specialty coverage, community coverage
//! and who may not join it.

use std::collections::BTreeSet;

use super::error::DomainError;
use super::values::{Specialty, TeamRole};

/// 六(1)1: the team should hold design qualifications in planning, architecture, landscape,
/// water, electrical and municipal work. Reported, not enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialtyCoverage {
    pub covered: Vec<Specialty>,
    pub missing: Vec<Specialty>,
}

pub fn specialty_coverage(members: impl IntoIterator<Item = Option<Specialty>>) -> SpecialtyCoverage {
    let have: BTreeSet<Specialty> = members.into_iter().flatten().collect();
    let (covered, missing) = Specialty::REQUIRED_FOR_TEAM.iter().partition(|s| have.contains(s));
    SpecialtyCoverage { covered, missing }
}

/// A person proposed for a team, with what the barring rule needs.
#[derive(Debug, Clone)]
pub struct Nominee<'a> {
    pub name: &'a str,
    pub planner_barred: bool,
    pub organization: Option<(&'a str, bool)>,
}

/// 五(5): "单个聘期考核为不合格的驻街规划师及其所在单位，不得再聘任为我区驻街规划师。"
/// Refuses with `BARRED`, naming every barred planner and employer.
pub fn ensure_not_barred(nominees: &[Nominee<'_>]) -> Result<(), DomainError> {
    let mut subjects = Vec::new();
    for n in nominees {
        if n.planner_barred {
            subjects.push(format!("规划师{}", n.name));
        }
        if let Some((org, true)) = n.organization {
            let s = format!("{}所在单位{}", n.name, org);
            subjects.push(s);
        }
    }
    if subjects.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Barred { subjects })
    }
}

/// 五(4): the workstation is led by the street-resident planner: a team has exactly one lead,
/// and a person holds one place in it.
pub fn ensure_team_shape(members: &[(i64, TeamRole)]) -> Result<(), DomainError> {
    let leads = members.iter().filter(|(_, r)| *r == TeamRole::Lead).count();
    if leads != 1 {
        return Err(DomainError::bad_input(
            "members",
            format!("一个团队必须有且只有一名驻街规划师（团队负责人），现有{leads}名"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (planner, _) in members {
        if !seen.insert(planner) {
            return Err(DomainError::conflict("members", "同一规划师在团队中只能出现一次"));
        }
    }
    Ok(())
}

/// 三 基层全覆盖: the communities of the street that no community planner serves.
pub fn uncovered_communities<T: Clone>(communities: &[(i64, T)], served: &BTreeSet<i64>) -> Vec<(i64, T)> {
    communities
        .iter()
        .filter(|(id, _)| !served.contains(id))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_6_1_1_coverage_lists_missing_specialties() {
        let c = specialty_coverage([Some(Specialty::Planning), Some(Specialty::Architecture), None]);
        assert_eq!(c.covered, vec![Specialty::Planning, Specialty::Architecture]);
        assert_eq!(
            c.missing,
            vec![
                Specialty::Landscape,
                Specialty::Water,
                Specialty::Electrical,
                Specialty::Municipal
            ]
        );
    }

    #[test]
    fn clause_5_5_barred_planner_cannot_be_appointed() {
        let err = ensure_not_barred(&[Nominee {
            name: "李四",
            planner_barred: true,
            organization: None,
        }])
        .unwrap_err();
        assert_eq!(err.code().as_str(), "BARRED");
        assert!(err.message().contains("李四"));
    }

    #[test]
    fn clause_5_5_planner_of_barred_employer_cannot_be_appointed() {
        let err = ensure_not_barred(&[Nominee {
            name: "王五",
            planner_barred: false,
            organization: Some(("某设计院", true)),
        }])
        .unwrap_err();
        assert!(err.message().contains("某设计院"));
        assert!(
            ensure_not_barred(&[Nominee {
                name: "赵六",
                planner_barred: false,
                organization: Some(("好设计院", false))
            }])
            .is_ok()
        );
    }

    #[test]
    fn clause_5_4_team_has_exactly_one_lead() {
        assert!(ensure_team_shape(&[(1, TeamRole::Lead), (2, TeamRole::CommunityPlanner)]).is_ok());
        assert!(ensure_team_shape(&[(2, TeamRole::Member)]).is_err());
        assert!(ensure_team_shape(&[(1, TeamRole::Lead), (2, TeamRole::Lead)]).is_err());
        assert!(ensure_team_shape(&[(1, TeamRole::Lead), (1, TeamRole::Member)]).is_err());
    }

    #[test]
    fn clause_3_uncovered_communities_are_those_without_a_community_planner() {
        let all = [(1, "白金海岸社区"), (2, "江汉社区"), (3, "东信社区")];
        let served = BTreeSet::from([2]);
        let gaps = uncovered_communities(&all, &served);
        assert_eq!(gaps, vec![(1, "白金海岸社区"), (3, "东信社区")]);
    }
}
