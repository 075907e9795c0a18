//! Accounts: JWT tokens (HS256), argon2id password hashes, the acting user and what each
//! role may touch (API.md "Auth"). Every resolver asks this module; no role check is
//! written anywhere else.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::domain::values::Role;
use crate::error::AppResult;

/// How long a login token lasts.
pub const TOKEN_TTL_HOURS: i64 = 12;
/// How long a download link works.
pub const DOWNLOAD_TTL_MINUTES: i64 = 5;

/// The signed-in user a request acts as.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The street of a `STREET_STAFF` account.
    pub street_id: Option<i64>,
    /// The planner record of a `PLANNER` account.
    pub planner_id: Option<i64>,
    /// The account's token version (see `Claims::ver`).
    pub token_version: i32,
}

/// Who is asking: nobody (public) or a signed-in user.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    Public,
    User(Actor),
}

impl Caller {
    /// The signed-in user, or `UNAUTHENTICATED`.
    pub fn actor(&self) -> Result<&Actor, DomainError> {
        match self {
            Caller::User(a) => Ok(a),
            Caller::Public => Err(DomainError::Unauthenticated),
        }
    }
}

/// Which appointments (and so teams, contracts, phone numbers) an actor may read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadScope {
    /// The bureau and leaders: the whole district.
    District,
    /// Street staff: one street.
    Street(i64),
    /// A planner: the teams they are on.
    OwnTeams(i64),
    /// A planner account not linked to a planner record sees no team.
    Nothing,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::DistrictAdmin
    }

    pub fn read_scope(&self) -> ReadScope {
        match (self.role, self.street_id, self.planner_id) {
            (Role::DistrictAdmin | Role::Viewer, _, _) => ReadScope::District,
            (Role::StreetStaff, Some(s), _) => ReadScope::Street(s),
            (Role::Planner, _, Some(p)) => ReadScope::OwnTeams(p),
            _ => ReadScope::Nothing,
        }
    }

    /// The bureau only: barring, accounts, eligibility overrides.
    pub fn require_admin(&self) -> Result<(), DomainError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(DomainError::forbidden("此操作仅限区规划资源分局管理员"))
        }
    }

    /// May change the registry data of `street_id` (its communities, appointments, teams,
    /// contracts, workstation): the bureau, or that street's staff.
    pub fn require_street_write(&self, street_id: i64) -> Result<(), DomainError> {
        match self.role {
            Role::DistrictAdmin => Ok(()),
            Role::StreetStaff if self.street_id == Some(street_id) => Ok(()),
            Role::StreetStaff => Err(DomainError::forbidden("街道工作人员只能管理本街道的数据")),
            Role::Viewer => Err(DomainError::forbidden("只读账号不能修改数据")),
            Role::Planner => Err(DomainError::forbidden("规划师账号不能修改街道的聘任数据")),
        }
    }

    /// May add or change district-wide records (organizations, planners' profiles):
    /// the bureau and street staff, who both recruit (六(2)1 双向选择).
    pub fn require_registry_write(&self) -> Result<(), DomainError> {
        match self.role {
            Role::DistrictAdmin | Role::StreetStaff => Ok(()),
            Role::Viewer => Err(DomainError::forbidden("只读账号不能修改数据")),
            Role::Planner => Err(DomainError::forbidden("规划师账号不能修改规划师名录")),
        }
    }

    /// May read a street's records (its current team, contracts, assessments, letters, work
    /// records), given the streets a planner's teams serve **today** (`my_current_streets`):
    /// a planner whose term has ended no longer reads the street (only their own past records,
    /// see `may_read_own_appointment`).
    pub fn may_read_street(&self, street_id: i64, my_current_streets: &[i64]) -> bool {
        match self.read_scope() {
            ReadScope::District => true,
            ReadScope::Street(s) => s == street_id,
            ReadScope::OwnTeams(_) => my_current_streets.contains(&street_id),
            ReadScope::Nothing => false,
        }
    }

    /// Street staff may enlist a planner onto their street's team only when no other street's
    /// team has the planner in its term today (`planner_current_streets`): otherwise a street
    /// could pull another street's planner onto its team just to read their contacts. The
    /// bureau may second anyone.
    pub fn may_enlist(&self, street_id: i64, planner_current_streets: &[i64]) -> Result<(), DomainError> {
        if self.is_admin() || planner_current_streets.iter().all(|s| *s == street_id) {
            return Ok(());
        }
        Err(DomainError::forbidden(
            "该规划师正在其他街道的团队任职，如需调入请联系区规划资源分局办理",
        ))
    }

    /// Street staff keep the profiles of their own street's planners and of planners on no
    /// team; a planner on another street's team (any term, `planner_streets`) is that street's
    /// or the bureau's to edit.
    pub fn may_edit_profile(&self, planner_streets: &[i64]) -> Result<(), DomainError> {
        self.require_registry_write()?;
        match self.street_id.filter(|_| !self.is_admin()) {
            Some(mine) if planner_streets.iter().any(|s| *s != mine) => Err(DomainError::forbidden(
                "该规划师在其他街道任职，其信息只能由所在街道或区规划资源分局修改",
            )),
            _ => Ok(()),
        }
    }
}

/// Whether `actor` may read an assessment of a team of `street_id` whose assessed planner is
/// `assessed`. An assessment is one planner's personnel record (七 聘期考核: each planner is
/// assessed by the street and the bureau): the bureau, viewers and the street's staff read
/// it; of the planners only the assessed one, after the term too — not team mates, and not
/// the street's later planners.
pub fn may_read_assessment(actor: &Actor, street_id: i64, assessed: i64, my_current_streets: &[i64]) -> bool {
    match actor.read_scope() {
        ReadScope::OwnTeams(me) => me == assessed,
        _ => actor.may_read_street(street_id, my_current_streets),
    }
}

/// Whether `actor` may see the contact a resident left on a letter to `street_id`: the
/// street's staff and the planners serving it today, no one else (not the bureau, not
/// leaders: the writer gave it to the street's planners, SubmitLetterInput.contact).
pub fn may_see_letter_contact(actor: &Actor, street_id: i64, my_current_streets: &[i64]) -> bool {
    match actor.role {
        Role::StreetStaff => actor.street_id == Some(street_id),
        Role::Planner => actor.planner_id.is_some() && my_current_streets.contains(&street_id),
        Role::DistrictAdmin | Role::Viewer => false,
    }
}

/// Whether `actor` may see a planner's contact details (phone), given the streets whose
/// teams the planner is on and the appointments shared with the actor (for planners).
pub fn may_see_contact(actor: &Actor, planner_id: i64, planner_streets: &[i64], shares_team: bool) -> bool {
    match actor.read_scope() {
        ReadScope::District => true,
        ReadScope::Street(s) => planner_streets.contains(&s),
        ReadScope::OwnTeams(me) => me == planner_id || shares_team,
        ReadScope::Nothing => false,
    }
}

/// Claims of a login token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    /// `login` or `download` (a short-lived link for one path).
    pub kind: String,
    /// The account's token version when issued: changing the password bumps it, which ends
    /// every token issued before.
    #[serde(default)]
    pub ver: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Signs and checks tokens with one HS256 secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        // jsonwebtoken 10 picks its crypto backend at first use; installing it here makes the
        // choice explicit. A second install (tests build many apps) is harmless.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(
        &self,
        user_id: i64,
        role: Role,
        version: i32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let exp = now + Duration::hours(TOKEN_TTL_HOURS);
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.code().to_string(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            kind: "login".into(),
            path: None,
            ver: version,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, exp))
    }

    /// A short-lived token for one download path (`createDownloadLink`), acting as `user_id`.
    pub fn issue_download(
        &self,
        actor: &Actor,
        path: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let exp = now + Duration::minutes(DOWNLOAD_TTL_MINUTES);
        let claims = Claims {
            sub: actor.user_id.to_string(),
            role: String::new(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            kind: "download".into(),
            path: Some(path.to_string()),
            ver: actor.token_version,
        };
        Ok((
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?,
            exp,
        ))
    }

    /// Checks a download token for `path`; returns the account it acts as.
    pub fn verify_download(&self, token: &str, path: &str) -> Result<Verified, DomainError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| DomainError::Unauthenticated)?;
        if data.claims.kind != "download" || data.claims.path.as_deref() != Some(path) {
            return Err(DomainError::Unauthenticated);
        }
        Verified::of(&data.claims)
    }

    /// Verifies signature, algorithm (HS256 only, never `none`) and expiry; returns the account
    /// and the token version it names (the caller checks both against the database).
    pub fn verify(&self, token: &str) -> Result<Verified, DomainError> {
        self.verify_until(token).map(|(v, _)| v)
    }

    /// `verify`, also returning when the token expires (a WebSocket session ends then).
    pub fn verify_until(&self, token: &str) -> Result<(Verified, DateTime<Utc>), DomainError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| DomainError::Unauthenticated)?;
        if data.claims.kind != "login" {
            return Err(DomainError::Unauthenticated);
        }
        let expires = DateTime::<Utc>::from_timestamp(data.claims.exp, 0).ok_or(DomainError::Unauthenticated)?;
        Ok((Verified::of(&data.claims)?, expires))
    }
}

/// What a valid token says: the account, and its token version at issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i64,
    pub version: i32,
}

impl Verified {
    fn of(claims: &Claims) -> Result<Verified, DomainError> {
        Ok(Verified {
            user_id: claims.sub.parse().map_err(|_| DomainError::Unauthenticated)?,
            version: claims.ver,
        })
    }
}

/// Hashes a password with argon2id (OWASP minimum parameters), off the async runtime.
/// At most this many argon2 computations at once in the process: each takes 19 MiB and a core
/// for tens of milliseconds, so without a cap a burst of (even failed) logins from many
/// addresses takes gigabytes. Logins beyond it wait their turn, for at most `HASH_WAIT`.
pub const MAX_CONCURRENT_HASHES: usize = 2;

/// The longest a login waits for a hashing slot before it is refused as `RATE_LIMITED`.
pub const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(MAX_CONCURRENT_HASHES));

async fn hashing_slot() -> AppResult<tokio::sync::SemaphorePermit<'static>> {
    match crate::http::connections::queued(tokio::time::timeout(HASH_WAIT, HASHING.acquire())).await {
        // A timeout, or the connection shed for this queued login: try again shortly.
        Ok(Ok(Ok(permit))) => Ok(permit),
        _ => Err(DomainError::RateLimited { retry_after_secs: 2 }.into()),
    }
}

pub async fn hash_password(password: String) -> AppResult<String> {
    let _slot = hashing_slot().await?;
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await??;
    Ok(hash)
}

/// Checks a password against a stored hash, off the async runtime.
pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    let _slot = hashing_slot().await?;
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await?;
    Ok(ok)
}

/// 8 to 128 characters.
pub fn check_password_strength(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if n < 8 {
        return Err(DomainError::bad_input("password", "密码至少8位"));
    }
    if n > 128 {
        return Err(DomainError::bad_input("password", "密码不能超过128位"));
    }
    Ok(())
}

/// The accounts tokens name, cached per process (moka, bounded, short TTL) so a signed-in
/// request does not read its account from the database each time. Every account write in
/// this process drops its entry before the write returns (`notify::account_changed_here`);
/// on PostgreSQL the other replicas drop theirs on the `streetplanner_accounts` notification.
/// The TTL bounds what neither can see (the CLI against SQLite, a listener that is down).
#[derive(Clone)]
pub struct AccountCache(std::sync::Arc<AccountCacheInner>);

pub struct AccountCacheInner {
    cache: moka::sync::Cache<i64, Option<crate::store::entities::user::Model>>,
    /// Bumped by every invalidation: a read that raced with one is not cached.
    generation: std::sync::atomic::AtomicU64,
}

/// Every live cache of this process (tests run many apps in one process).
static ACCOUNT_CACHES: std::sync::Mutex<Vec<std::sync::Weak<AccountCacheInner>>> = std::sync::Mutex::new(Vec::new());

impl AccountCache {
    /// Accounts kept at most.
    pub const CAPACITY: u64 = 10_000;
    /// How long an entry is trusted without a notification.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);

    pub fn new() -> AccountCache {
        let inner = std::sync::Arc::new(AccountCacheInner {
            cache: moka::sync::Cache::builder()
                .max_capacity(Self::CAPACITY)
                .time_to_live(Self::TTL)
                .build(),
            generation: std::sync::atomic::AtomicU64::new(0),
        });
        if let Ok(mut all) = ACCOUNT_CACHES.lock() {
            all.retain(|w| w.strong_count() > 0);
            all.push(std::sync::Arc::downgrade(&inner));
        }
        AccountCache(inner)
    }

    /// Drops `e`'s accounts from every cache of this process.
    pub fn invalidate_everywhere(e: crate::notify::AccountEvent) {
        let all: Vec<_> = ACCOUNT_CACHES
            .lock()
            .map(|all| all.iter().filter_map(std::sync::Weak::upgrade).collect())
            .unwrap_or_default();
        for c in all {
            c.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match e {
                crate::notify::AccountEvent::One(id) => c.cache.invalidate(&id),
                crate::notify::AccountEvent::All => c.cache.invalidate_all(),
            }
        }
    }

    /// Whether this cache already knows that `token` names no active account (gone,
    /// disabled, or its version changed), without reading the database: admission counts
    /// such a token as no token. `false` when the account is not cached.
    pub fn known_inactive(&self, token: Verified) -> bool {
        match self.0.cache.get(&token.user_id) {
            Some(row) => row
                .filter(|u| u.token_version == token.version)
                .as_ref()
                .and_then(crate::store::users::to_actor)
                .is_none(),
            None => false,
        }
    }

    /// The active account a verified token names (as `store::users::actor`, cached).
    pub async fn actor(&self, db: &sea_orm::DatabaseConnection, token: Verified) -> AppResult<Option<Actor>> {
        use sea_orm::EntityTrait;
        let row = match self.0.cache.get(&token.user_id) {
            Some(row) => row,
            None => {
                let generation = self.0.generation.load(std::sync::atomic::Ordering::SeqCst);
                let row = crate::store::entities::user::Entity::find_by_id(token.user_id)
                    .one(db)
                    .await?;
                if self.0.generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
                    self.0.cache.insert(token.user_id, row.clone());
                }
                row
            }
        };
        Ok(row
            .filter(|u| u.token_version == token.version)
            .as_ref()
            .and_then(crate::store::users::to_actor))
    }
}

impl Default for AccountCache {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_knows_a_disabled_or_outdated_account_without_the_database() {
        let cache = AccountCache::new();
        let row = |disabled: bool, version: i32| crate::store::entities::user::Model {
            id: 7,
            username: "u".into(),
            password_hash: String::new(),
            role: Role::Viewer.code().into(),
            street_id: None,
            planner_id: None,
            display_name: None,
            disabled,
            token_version: version,
            created_at: chrono::Utc::now(),
        };
        let token = Verified { user_id: 7, version: 1 };
        assert!(!cache.known_inactive(token), "not cached: not known");
        cache.0.cache.insert(7, Some(row(false, 1)));
        assert!(!cache.known_inactive(token));
        cache.0.cache.insert(7, Some(row(true, 1)));
        assert!(cache.known_inactive(token), "disabled");
        cache.0.cache.insert(7, Some(row(false, 2)));
        assert!(cache.known_inactive(token), "password changed since the token");
        cache.0.cache.insert(7, None);
        assert!(cache.known_inactive(token), "deleted");
    }

    fn actor(role: Role, street: Option<i64>, planner: Option<i64>) -> Actor {
        Actor {
            token_version: 0,
            user_id: 1,
            username: "u".into(),
            role,
            street_id: street,
            planner_id: planner,
        }
    }

    #[test]
    fn street_staff_write_only_their_street() {
        let staff = actor(Role::StreetStaff, Some(1), None);
        assert!(staff.require_street_write(1).is_ok());
        assert!(staff.require_street_write(2).is_err());
        assert!(actor(Role::Viewer, None, None).require_street_write(1).is_err());
        assert!(actor(Role::DistrictAdmin, None, None).require_street_write(2).is_ok());
    }

    #[test]
    fn contact_visible_to_own_street_staff_only() {
        let staff = actor(Role::StreetStaff, Some(1), None);
        assert!(may_see_contact(&staff, 9, &[1], false));
        assert!(!may_see_contact(&staff, 9, &[2], false));
        let planner = actor(Role::Planner, None, Some(9));
        assert!(may_see_contact(&planner, 9, &[], false));
        assert!(!may_see_contact(&planner, 10, &[1], false));
        assert!(may_see_contact(&planner, 10, &[1], true));
    }

    #[test]
    fn planners_read_the_streets_they_serve_today_only() {
        let planner = actor(Role::Planner, None, Some(9));
        assert!(planner.may_read_street(1, &[1]));
        // Term ended: street 1 is no longer among the planner's current streets.
        assert!(!planner.may_read_street(1, &[]));
        assert!(actor(Role::Viewer, None, None).may_read_street(1, &[]));
    }

    #[test]
    fn street_staff_cannot_enlist_another_streets_current_planner() {
        let staff = actor(Role::StreetStaff, Some(1), None);
        assert!(staff.may_enlist(1, &[]).is_ok());
        assert!(staff.may_enlist(1, &[1]).is_ok());
        assert!(staff.may_enlist(1, &[2]).is_err());
        assert!(actor(Role::DistrictAdmin, None, None).may_enlist(1, &[2]).is_ok());
    }

    #[test]
    fn street_staff_edit_profiles_of_their_own_and_free_planners() {
        let staff = actor(Role::StreetStaff, Some(1), None);
        assert!(staff.may_edit_profile(&[]).is_ok());
        assert!(staff.may_edit_profile(&[1]).is_ok());
        assert!(staff.may_edit_profile(&[1, 2]).is_err());
        assert!(actor(Role::Planner, None, Some(3)).may_edit_profile(&[]).is_err());
        assert!(actor(Role::DistrictAdmin, None, None).may_edit_profile(&[2]).is_ok());
    }

    #[test]
    fn letter_contacts_are_for_the_streets_staff_and_current_planners() {
        assert!(may_see_letter_contact(&actor(Role::StreetStaff, Some(1), None), 1, &[]));
        assert!(!may_see_letter_contact(
            &actor(Role::StreetStaff, Some(2), None),
            1,
            &[]
        ));
        assert!(may_see_letter_contact(&actor(Role::Planner, None, Some(9)), 1, &[1]));
        assert!(!may_see_letter_contact(&actor(Role::Planner, None, Some(9)), 1, &[]));
        assert!(!may_see_letter_contact(&actor(Role::Viewer, None, None), 1, &[]));
        assert!(!may_see_letter_contact(&actor(Role::DistrictAdmin, None, None), 1, &[]));
    }

    #[test]
    fn token_round_trip_and_tamper() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let (t, _) = keys.issue(42, Role::Viewer, 3, Utc::now()).unwrap();
        assert_eq!(
            keys.verify(&t).unwrap(),
            Verified {
                user_id: 42,
                version: 3
            }
        );
        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&t).is_err());
        let (old, _) = keys
            .issue(42, Role::Viewer, 0, Utc::now() - Duration::hours(13))
            .unwrap();
        assert!(keys.verify(&old).is_err());
    }
}
