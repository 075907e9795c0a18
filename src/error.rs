//! The error every layer above the domain returns: a refusal by the rules, or an internal
//! failure whose detail goes to the log and never to the user.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql turns any `Display`
//! type into an error carrying its text, and an internal error's text (SQL, paths) must not
//! reach a client. The one conversion to a GraphQL error is in `graphql::error`.

use crate::domain::DomainError;

#[derive(Debug)]
pub enum AppError {
    Domain(DomainError),
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Domain(e)
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        // A unique index is the last line of defence against a race the domain checks missed.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
            return AppError::Domain(DomainError::Conflict {
                field: None,
                message: "数据已存在（与已有记录重复），请刷新后重试".to_string(),
            });
        }
        // Likewise a foreign key: an id that names nothing (or something deleted meanwhile)
        // is the caller's mistake, not a fault of the server.
        if let Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(detail)) = e.sql_err() {
            tracing::info!(%detail, "write refused by a foreign key");
            return AppError::Domain(DomainError::NotFound {
                what: "关联的记录",
                field: None,
            });
        }
        AppError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(e.into())
    }
}

impl AppError {
    pub fn code(&self) -> crate::domain::ErrorCode {
        match self {
            AppError::Domain(d) => d.code(),
            AppError::Internal(_) => crate::domain::ErrorCode::Internal,
        }
    }
}
