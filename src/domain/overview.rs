//! The dashboard figures: what each number on the overview means. Every definition here is
//! repeated in the schema's descriptions (src/graphql/overview.rs), so two dashboards never
//! disagree about a figure; the store only counts what these functions are given.

use chrono::NaiveDate;

use super::error::DomainError;

/// The longest period an overview covers (five three-year terms and change).
pub const MAX_PERIOD_DAYS: i64 = 366 * 20;

/// The window of "contracts ending soon" unless the caller asks for another.
pub const DEFAULT_ENDING_WITHIN_DAYS: i64 = 90;

/// An inclusive span of calendar days (China Standard Time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `from` through `to`, both included; refused when reversed or longer than 20 years.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, DomainError> {
        if to < from {
            return Err(DomainError::bad_input("to", "结束日期早于开始日期"));
        }
        if (to - from).num_days() > MAX_PERIOD_DAYS {
            return Err(DomainError::bad_input("to", "查询区间不能超过20年"));
        }
        Ok(Period { from, to })
    }

    /// Does a term (or any span) from `start` to `end` share at least one day with the period?
    pub fn overlaps(&self, start: NaiveDate, end: NaiveDate) -> bool {
        start <= self.to && end >= self.from
    }
}

/// The last day a team served: its term's end, or the day it ended early.
pub fn service_end(term_end: NaiveDate, ended_on: Option<NaiveDate>) -> NaiveDate {
    ended_on.map_or(term_end, |e| e.min(term_end))
}

/// The nearest-rank percentile (`p` in 0–100) of `values`: the smallest value such that at
/// least p % of the values are less or equal. None for no values. Nearest rank, not
/// interpolation, so the figure is always a time some letter actually took.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1])
}

/// Hours from receipt to reply, given the seconds between them, rounded to a tenth: what
/// "time to reply" reports (a reply stamped before its letter counts as 0).
pub fn reply_hours(seconds: f64) -> f64 {
    (seconds.max(0.0) / 360.0).round() / 10.0
}

/// Is a contract ending on `end` "ending soon" as of `today`: ending today or within
/// `within_days` days after it (contracts already over are not "ending soon").
pub fn ending_soon(end: NaiveDate, today: NaiveDate, within_days: i64) -> bool {
    end >= today && (end - today).num_days() <= within_days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_period_must_run_forwards_and_stay_under_twenty_years() {
        assert!(Period::new(d("2025-01-01"), d("2025-12-31")).is_ok());
        assert!(Period::new(d("2025-01-01"), d("2025-01-01")).is_ok());
        assert_eq!(
            Period::new(d("2025-02-01"), d("2025-01-01")).unwrap_err().field(),
            Some("to")
        );
        assert!(Period::new(d("2000-01-01"), d("2030-01-01")).is_err());
    }

    #[test]
    fn a_team_counts_in_a_period_it_shares_a_day_with() {
        let p = Period::new(d("2025-01-01"), d("2025-12-31")).unwrap();
        assert!(p.overlaps(d("2023-01-01"), d("2025-01-01")));
        assert!(p.overlaps(d("2025-12-31"), d("2028-12-30")));
        assert!(!p.overlaps(d("2022-01-01"), d("2024-12-31")));
        // 二(3) 聘期: a team dismissed early stops serving on the day it ended.
        assert_eq!(service_end(d("2027-12-31"), Some(d("2024-06-30"))), d("2024-06-30"));
        assert_eq!(service_end(d("2027-12-31"), None), d("2027-12-31"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 50.0), Some(3.0));
        assert_eq!(percentile(&mut v, 90.0), Some(5.0));
        let mut ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut ten, 50.0), Some(5.0));
        assert_eq!(percentile(&mut ten, 90.0), Some(9.0));
        assert_eq!(percentile(&mut [7.0], 90.0), Some(7.0));
        assert_eq!(percentile(&mut [], 50.0), None);
    }

    #[test]
    fn reply_time_is_in_hours_to_a_tenth() {
        assert_eq!(reply_hours(90.0 * 60.0), 1.5);
        assert_eq!(reply_hours(2.0 * 86_400.0), 48.0);
        assert_eq!(reply_hours(-300.0), 0.0);
        assert_eq!(reply_hours(1799.0), 0.5);
    }

    #[test]
    fn contracts_ending_soon_are_those_ending_within_the_window() {
        let today = d("2025-10-01");
        assert!(ending_soon(d("2025-10-01"), today, 90));
        assert!(ending_soon(d("2025-12-30"), today, 90));
        assert!(!ending_soon(d("2025-12-31"), today, 90));
        assert!(!ending_soon(d("2025-09-30"), today, 90));
    }
}
