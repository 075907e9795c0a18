pub async fn load(_db: &sea_orm::DatabaseConnection) -> crate::error::AppResult<String> {
    Ok(String::new())
}
