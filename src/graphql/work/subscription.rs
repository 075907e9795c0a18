//! The subscription root: live updates over `/graphql/ws`.

use super::*;

pub struct SubscriptionRoot;

/// Live updates, over `/graphql/ws` (graphql-transport-ws).
#[Subscription]
impl SubscriptionRoot {
    /// New letters to the mailboxes the caller may read (over `/graphql/ws`, protocol
    /// graphql-transport-ws; authenticate with `{"Authorization": "Bearer …"}` in the
    /// connection_init payload). `streetId` narrows to one street.
    async fn letter_received(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only letters to this street (which the caller must be able to read); left out: every street the caller may read."
        )]
        street_id: Option<ID>,
    ) -> Result<impl Stream<Item = Letter>> {
        let a = caller(ctx).actor().map_err(AppError::from)?.clone();
        let scope = work::readable_streets(db(ctx), &a).await?;
        let only = ids::parse_opt(&street_id, ids::Kind::Street, "streetId")?;
        if let (Some(s), Some(o)) = (&scope, only)
            && !s.contains(&o)
        {
            return Err(AppError::from(DomainError::forbidden("无权查看该街道的来信")).into());
        }
        let rx = ctx.data_unchecked::<LetterEvents>().subscribe();
        Ok(BroadcastStream::new(rx).filter_map(move |r| {
            let l = r.ok()?;
            let visible =
                scope.as_ref().is_none_or(|s| s.contains(&l.street_id)) && only.is_none_or(|o| o == l.street_id);
            visible.then_some(Letter(l))
        }))
    }
}
