//! 六(2)3: terms and service contracts. "与街道签订服务合同，一年一签，聘期一般三到五年。"

use chrono::{Days, Months, NaiveDate};

use super::error::DomainError;

/// A term of appointment (聘期), both dates inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    start: NaiveDate,
    end: NaiveDate,
}

/// Where a term stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermStatus {
    Upcoming,
    Current,
    Ended,
}

impl Term {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, DomainError> {
        if end <= start {
            return Err(DomainError::bad_input("termEnd", "聘期结束日期必须晚于开始日期"));
        }
        Ok(Term { start, end })
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// The last day served: the term's end, or earlier if the appointment was ended early.
    pub fn effective_end(&self, ended_on: Option<NaiveDate>) -> NaiveDate {
        ended_on.map_or(self.end, |d| d.min(self.end))
    }

    /// Whole months from start to the day after end (2022-01-01..2024-12-31 is 36).
    pub fn months(&self) -> u32 {
        let after = self.end + Days::new(1);
        let mut months = 0;
        while self
            .start
            .checked_add_months(Months::new(months + 1))
            .is_some_and(|d| d <= after)
        {
            months += 1;
        }
        months
    }

    /// 聘期一般三到五年: "generally", so a term outside it is allowed but flagged. Returns the
    /// Chinese warning shown on the appointment, if any.
    pub fn length_warning(&self) -> Option<String> {
        let after = self.end + Days::new(1);
        let three = self.start.checked_add_months(Months::new(36))?;
        let five = self.start.checked_add_months(Months::new(60))?;
        if after < three {
            Some(format!("聘期约{}个月，短于办法规定的一般三到五年", self.months()))
        } else if after > five {
            Some(format!("聘期约{}个月，长于办法规定的一般三到五年", self.months()))
        } else {
            None
        }
    }

    pub fn status(&self, ended_on: Option<NaiveDate>, today: NaiveDate) -> TermStatus {
        if today < self.start {
            TermStatus::Upcoming
        } else if today > self.effective_end(ended_on) {
            TermStatus::Ended
        } else {
            TermStatus::Current
        }
    }

    fn overlaps(&self, start: NaiveDate, end: NaiveDate) -> bool {
        self.start <= end && start <= self.end
    }
}

/// An existing appointment of the same street, for the one-team-per-street rule.
#[derive(Debug, Clone)]
pub struct StreetAppointment {
    pub id: i64,
    pub term: Term,
    pub ended_on: Option<NaiveDate>,
}

/// One street has one team at a time (六(2)3, 五(4) 各街道为聘任的驻街规划师及其团队设立规划师工作站):
/// a new or changed term must not overlap another appointment of the street.
pub fn ensure_single_team(
    term: &Term,
    ended_on: Option<NaiveDate>,
    others: &[StreetAppointment],
) -> Result<(), DomainError> {
    let end = term.effective_end(ended_on);
    for other in others {
        let other_end = other.term.effective_end(other.ended_on);
        if other.term.start() <= end && term.start() <= other_end {
            return Err(DomainError::conflict(
                "termStart",
                format!(
                    "该街道在{}至{}已有驻街规划师团队（聘任编号{}），同一街道同一时期只能聘任一个团队",
                    other.term.start(),
                    other_end,
                    other.id
                ),
            ));
        }
    }
    Ok(())
}

/// A service contract's period (服务合同), both dates inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// An existing contract of the same appointment.
#[derive(Debug, Clone, Copy)]
pub struct ExistingContract {
    pub id: i64,
    pub period: ContractPeriod,
}

impl ContractPeriod {
    /// 一年一签: at most one year, inside the term, not overlapping another contract.
    pub fn new(
        start: NaiveDate,
        end: NaiveDate,
        term: &Term,
        others: &[ExistingContract],
    ) -> Result<Self, DomainError> {
        if end < start {
            return Err(DomainError::bad_input("endDate", "合同结束日期不能早于开始日期"));
        }
        let one_year_later = start.checked_add_months(Months::new(12)).unwrap_or(NaiveDate::MAX);
        if end >= one_year_later {
            return Err(DomainError::bad_input(
                "endDate",
                format!(
                    "服务合同一年一签，期限不得超过一年（最迟至{}）",
                    one_year_later - Days::new(1)
                ),
            ));
        }
        if start < term.start() || end > term.end() {
            return Err(DomainError::bad_input(
                if start < term.start() { "startDate" } else { "endDate" },
                format!("服务合同必须在聘期（{}至{}）之内", term.start(), term.end()),
            ));
        }
        if let Some(o) = others.iter().find(|o| term_overlap(o.period, start, end)) {
            return Err(DomainError::conflict(
                "startDate",
                format!("与已有服务合同（{}至{}）时间重叠", o.period.start, o.period.end),
            ));
        }
        Ok(ContractPeriod { start, end })
    }

    /// Whether the contract ends within `days` days of `today` (and has not ended yet).
    pub fn ends_within(&self, today: NaiveDate, days: u32) -> bool {
        self.end >= today && self.end <= today + Days::new(u64::from(days))
    }
}

fn term_overlap(p: ContractPeriod, start: NaiveDate, end: NaiveDate) -> bool {
    Term {
        start: p.start,
        end: p.end,
    }
    .overlaps(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn term(a: &str, b: &str) -> Term {
        Term::new(d(a), d(b)).unwrap()
    }

    #[test]
    fn clause_6_2_3_term_end_before_start_is_refused() {
        let err = Term::new(d("2024-01-01"), d("2023-12-31")).unwrap_err();
        assert_eq!(err.field(), Some("termEnd"));
    }

    #[test]
    fn clause_6_2_3_three_to_five_year_term_is_not_flagged() {
        assert_eq!(term("2022-01-01", "2024-12-31").length_warning(), None);
        assert_eq!(term("2022-01-01", "2026-12-31").length_warning(), None);
        assert_eq!(term("2022-01-01", "2024-12-31").months(), 36);
    }

    #[test]
    fn clause_6_2_3_term_outside_three_to_five_years_is_allowed_but_flagged() {
        assert!(
            term("2022-01-01", "2023-12-31")
                .length_warning()
                .unwrap()
                .contains("短于")
        );
        assert!(
            term("2022-01-01", "2027-01-31")
                .length_warning()
                .unwrap()
                .contains("长于")
        );
    }

    #[test]
    fn clause_6_2_3_contract_of_one_year_is_accepted() {
        let t = term("2022-01-01", "2024-12-31");
        assert!(ContractPeriod::new(d("2022-01-01"), d("2022-12-31"), &t, &[]).is_ok());
    }

    #[test]
    fn clause_6_2_3_contract_longer_than_a_year_is_refused() {
        let t = term("2022-01-01", "2024-12-31");
        let err = ContractPeriod::new(d("2022-01-01"), d("2023-01-01"), &t, &[]).unwrap_err();
        assert_eq!(err.field(), Some("endDate"));
        assert!(err.message().contains("一年一签"));
    }

    #[test]
    fn clause_6_2_3_contract_outside_term_is_refused() {
        let t = term("2022-01-01", "2024-12-31");
        let err = ContractPeriod::new(d("2021-12-01"), d("2022-06-30"), &t, &[]).unwrap_err();
        assert_eq!(err.field(), Some("startDate"));
        let err = ContractPeriod::new(d("2024-06-01"), d("2025-05-31"), &t, &[]).unwrap_err();
        assert_eq!(err.field(), Some("endDate"));
    }

    #[test]
    fn clause_6_2_3_overlapping_contracts_are_refused() {
        let t = term("2022-01-01", "2024-12-31");
        let first = ExistingContract {
            id: 1,
            period: ContractPeriod::new(d("2022-01-01"), d("2022-12-31"), &t, &[]).unwrap(),
        };
        let err = ContractPeriod::new(d("2022-12-31"), d("2023-12-30"), &t, &[first]).unwrap_err();
        assert_eq!(err.code().as_str(), "CONFLICT");
        assert!(ContractPeriod::new(d("2023-01-01"), d("2023-12-31"), &t, &[first]).is_ok());
    }

    #[test]
    fn one_street_has_one_team_at_a_time() {
        let existing = [StreetAppointment {
            id: 7,
            term: term("2022-01-01", "2024-12-31"),
            ended_on: None,
        }];
        let err = ensure_single_team(&term("2024-06-01", "2027-05-31"), None, &existing).unwrap_err();
        assert_eq!(err.code().as_str(), "CONFLICT");
        assert!(ensure_single_team(&term("2025-01-01", "2027-12-31"), None, &existing).is_ok());
        // An appointment ended early frees the street from the day after.
        let ended = [StreetAppointment {
            ended_on: Some(d("2023-06-30")),
            ..existing[0].clone()
        }];
        assert!(ensure_single_team(&term("2023-07-01", "2026-06-30"), None, &ended).is_ok());
    }

    #[test]
    fn term_status_follows_the_calendar() {
        let t = term("2022-01-01", "2024-12-31");
        assert_eq!(t.status(None, d("2021-12-31")), TermStatus::Upcoming);
        assert_eq!(t.status(None, d("2024-12-31")), TermStatus::Current);
        assert_eq!(t.status(None, d("2025-01-01")), TermStatus::Ended);
        assert_eq!(t.status(Some(d("2023-01-01")), d("2023-01-02")), TermStatus::Ended);
    }

    #[test]
    fn contract_expiry_window_includes_its_last_day() {
        let p = ContractPeriod {
            start: d("2024-01-01"),
            end: d("2024-12-31"),
        };
        assert!(p.ends_within(d("2024-12-01"), 30));
        assert!(!p.ends_within(d("2024-11-30"), 30));
        assert!(!p.ends_within(d("2025-01-01"), 30));
    }
}
