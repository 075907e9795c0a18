//! Scores suggested from the records (advice for the assessors).

use super::*;

/// A score the records suggest for one item. Advice only: it never changes what the
/// assessors entered.
pub struct ScoreSuggestion(work::SuggestionWithEvidence);

/// A score the records suggest for one item. Advice only: it never changes what the
/// assessors entered.
#[Object]
impl ScoreSuggestion {
    /// The form's item code: "2.3", "3.1", "6.1" (counted), "2.2" (plan execution), "7.1"
    /// (attendance).
    async fn code(&self) -> &str {
        &self.0.suggestion.code
    }
    /// Qualifying records in the term (count items); for rates, the numerator.
    async fn count(&self) -> i32 {
        self.0.suggestion.count as i32
    }
    /// For rates: the denominator (plan items not cancelled; duty days recorded).
    async fn of(&self) -> Option<i32> {
        self.0.suggestion.of.map(|n| n as i32)
    }
    /// The score the form's rule gives for the evidence; null without evidence.
    async fn suggested_score(&self) -> Option<f64> {
        self.0.suggestion.score.map(Score::as_f64)
    }
    /// How it was reached, in words.
    async fn basis(&self) -> &str {
        &self.0.suggestion.basis
    }
    /// What the assessors entered for the item, if anything.
    async fn entered_score(&self) -> Option<f64> {
        self.0.entered_half_points.map(|h| f64::from(h) / 2.0)
    }
    /// The records counted.
    async fn evidence(&self) -> Vec<DutyRecord> {
        self.0.evidence.iter().cloned().map(DutyRecord).collect()
    }
}

/// Queries of suggested scores.
#[derive(Default)]
pub struct SuggestionQuery;

#[Object]
impl SuggestionQuery {
    /// Scores the records suggest for an assessment: for 2.3, 3.1 and 6.1 the qualifying
    /// duty records of the assessed team in the term and the form's score for their count;
    /// for 2.2 the plans' execution rate; for 7.1 the workstation attendance rate. Reads
    /// only; never changes an entered score.
    #[graphql(complexity = "crate::graphql::pagination::cost(first, last, child_complexity)")]
    async fn suggest_assessment_scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assessment's global id.")] assessment_id: ID,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item the page starts after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item the page ends before.")] before: Option<String>,
    ) -> Result<Conn<ScoreSuggestion>> {
        let id = ids::parse(&assessment_id, ids::Kind::Assessment, "assessmentId")?;
        let a = assessment::Entity::find_by_id(id)
            .one(db(ctx))
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::from(DomainError::not_found("考核", "assessmentId")))?;
        if !crate::graphql::assessment::readable(ctx, &a).await? {
            return Err(AppError::from(DomainError::forbidden("无权查看该考核")).into());
        }
        let list: Vec<ScoreSuggestion> = work::suggest_scores(db(ctx), &a)
            .await?
            .into_iter()
            .map(ScoreSuggestion)
            .collect();
        // In form order: item codes "1.1" … "7.1" sort as text.
        Ok(paginate_vec(
            list,
            &PageArgs::new("suggestAssessmentScores", first, after, last, before),
            &[false],
            |s| vec![KeyPart::Str(s.0.suggestion.code.clone())],
        )?)
    }
}
