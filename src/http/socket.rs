//! GraphQL over WebSocket (`GET /graphql/ws`): subscriptions with the same account checks as
//! HTTP. The token travels in the connection_init payload (browsers cannot set headers on a
//! WebSocket); every operation on the socket sees the account as it is now (`SocketAuth`
//! reloads it, as an HTTP request would), and the server closes the socket with 4403 when
//! the token expires or the account changes (disabled, demoted, password changed, deleted).
//! The socket carries the client's key, so per-client limits hold here too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::{Data, Request, ServerError, ServerResult};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::app::App;
use crate::auth::{Actor, Caller, Verified};
use crate::domain::ErrorCode;
use crate::graphql::loaders::Loaders;
use crate::ratelimit::ClientKey;
use crate::store::users;

/// The close code of a session that ended because its sign-in no longer holds (the
/// graphql-transport-ws protocol's own "Forbidden"): the client signs in again.
pub const CLOSE_SESSION_ENDED: u16 = 4403;

/// The close code of a socket that did not send `connection_init` in time (the
/// graphql-transport-ws protocol's "Connection initialisation timeout").
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// graphql-transport-ws: a `subscribe` before the connection was initialised.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;

/// Whether a client message is a graphql-transport-ws `subscribe` (read only before the
/// connection is initialised, and at most a message's size limit).
fn is_subscribe(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    serde_json::from_str::<Kind>(text).is_ok_and(|k| k.kind.as_deref() == Some("subscribe"))
}

/// How long a new socket may take to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an open socket re-reads its account, for changes made where this process cannot
/// see them (the command line, another replica).
pub const RECHECK_EVERY: Duration = Duration::from_secs(15);

/// One WebSocket connection's sign-in: the token it presented (once connection_init has
/// run) and the account as it was then.
#[derive(Default)]
pub struct Session {
    signed_in: Mutex<Option<SignedIn>>,
    /// When the socket last started an operation (or opened).
    last_operation: Mutex<Option<std::time::Instant>>,
    ended: Notify,
    ended_flag: std::sync::atomic::AtomicBool,
}

#[derive(Clone)]
struct SignedIn {
    token: Verified,
    expires: DateTime<Utc>,
    actor: Actor,
}

impl Session {
    fn sign_in(&self, token: Verified, expires: DateTime<Utc>, actor: Actor) {
        if let Ok(mut s) = self.signed_in.lock() {
            *s = Some(SignedIn { token, expires, actor });
        }
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last_operation.lock() {
            *t = Some(std::time::Instant::now());
        }
    }

    /// Resolves when a socket that is not signed in has run no operation for `idle`
    /// (`Config::unsigned_websocket_idle_secs`; no subscription is open to the public, so
    /// such a socket only runs queries and mutations, each of which ends); never for a
    /// signed-in socket.
    async fn wait_unsigned_idle(&self, idle: Duration) {
        loop {
            if self.current().is_some() {
                return std::future::pending().await;
            }
            let since = self
                .last_operation
                .lock()
                .ok()
                .and_then(|t| *t)
                .map(|t| t.elapsed())
                .unwrap_or_default();
            if since >= idle {
                return;
            }
            tokio::time::sleep(idle - since).await;
        }
    }

    fn current(&self) -> Option<SignedIn> {
        self.signed_in.lock().ok().and_then(|s| s.clone())
    }

    /// Ends the session: the socket closes with `CLOSE_SESSION_ENDED`.
    pub fn end(&self) {
        self.ended_flag.store(true, std::sync::atomic::Ordering::SeqCst);
        self.ended.notify_waiters();
    }

    fn has_ended(&self) -> bool {
        self.ended_flag.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn wait_ended(&self) {
        loop {
            let notified = self.ended.notified();
            if self.has_ended() {
                return;
            }
            notified.await;
        }
    }

    /// The account now, or `None` when the sign-in no longer holds (expired, disabled,
    /// demoted, password changed, deleted). Public sessions are always `Some(Public)`.
    /// `accounts`: the cache (per operation); `None` reads the database (the watcher, woken by
    /// an account notification, must see the change itself).
    async fn caller_now(
        &self,
        db: &DatabaseConnection,
        accounts: Option<&crate::auth::AccountCache>,
    ) -> crate::error::AppResult<Option<Caller>> {
        let Some(s) = self.current() else {
            return Ok(Some(Caller::Public));
        };
        if Utc::now() >= s.expires {
            return Ok(None);
        }
        let now = match accounts {
            Some(cache) => cache.actor(db, s.token).await?,
            None => users::actor(db, s.token).await?,
        };
        match now {
            Some(now) if now == s.actor => Ok(Some(Caller::User(now))),
            _ => Ok(None),
        }
    }
}

/// Re-reads the account for every operation on a socket, so queries and mutations there act
/// as the account is now; ends the session when the sign-in no longer holds.
pub struct SocketAuth;

impl ExtensionFactory for SocketAuth {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SocketAuth)
    }
}

#[async_trait::async_trait]
impl Extension for SocketAuth {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let Some(session) = ctx.data_opt::<Arc<Session>>() else {
            return next.run(ctx, request).await;
        };
        session.touch();
        let Some(db) = ctx.data_opt::<DatabaseConnection>() else {
            return next.run(ctx, request).await;
        };
        let caller = match session
            .caller_now(db, ctx.data_opt::<crate::auth::AccountCache>())
            .await
        {
            Ok(Some(c)) => c,
            Ok(None) => {
                session.end();
                let mut e = ServerError::new("登录已失效（账号变更或凭证过期），请重新登录", None);
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", ErrorCode::Unauthenticated.as_str());
                return Err(e);
            }
            Err(e) => {
                tracing::error!(error = ?e, "re-reading a socket's account failed");
                let mut e = ServerError::new(crate::graphql::error::INTERNAL_MESSAGE, None);
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", ErrorCode::Internal.as_str());
                return Err(e);
            }
        };
        let request = request.data(caller).data(Loaders::new(db));
        next.run(ctx, request).await
    }
}

/// Close code for a socket that was not signed in and gave its place to a newer one
/// (RFC 6455 1013, Try Again Later).
pub const CLOSE_MADE_ROOM: u16 = 1013;

/// The server's WebSocket places. A socket opens on a place of the small unsigned pool
/// (`Config::max_unsigned_websockets`) and moves to the signed-in pool
/// (`Config::max_websockets`) when its `connection_init` carries a valid token; a socket that
/// stays anonymous keeps its unsigned place and is closed when it runs no operation for
/// `Config::unsigned_websocket_idle_secs`. While the unsigned pool is full, a new socket
/// takes the place of the oldest socket that is not signed in (anonymous ones first, then
/// those that have not sent `connection_init`), which is closed with `CLOSE_MADE_ROOM`: so
/// anonymous sockets, from any number of addresses, cannot keep a signed-in user from
/// opening a socket and signing in, and only signed-in sockets hold signed-in places. Every
/// address holds at most `Config::max_websockets_per_client` sockets.
#[derive(Clone)]
pub struct Places {
    signed_in: Arc<tokio::sync::Semaphore>,
    unsigned: Arc<tokio::sync::Semaphore>,
    per_client: crate::http::per_client::PerClient,
    /// The sockets that held an unsigned place when they were opened, oldest first (entries
    /// of sockets gone or signed in are skipped, and pruned as the list grows).
    opened: Arc<Mutex<std::collections::VecDeque<std::sync::Weak<Slot>>>>,
    max_unsigned: usize,
}

/// The place one socket holds.
pub enum Place {
    Unsigned(tokio::sync::OwnedSemaphorePermit),
    SignedIn(tokio::sync::OwnedSemaphorePermit),
}

/// One socket's place, and whether it gave it up to a newer socket.
#[derive(Default)]
pub struct Slot {
    place: Mutex<Option<Place>>,
    /// Initialised without signing in (such sockets make room first).
    anonymous: std::sync::atomic::AtomicBool,
    made_room: std::sync::atomic::AtomicBool,
    made_room_notify: Notify,
}

impl Slot {
    fn holds_unsigned(&self) -> bool {
        self.place
            .lock()
            .map(|p| matches!(*p, Some(Place::Unsigned(_))))
            .unwrap_or(false)
    }

    /// Gives up this socket's unsigned place, if it still holds one.
    fn give_up(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let mut place = self.place.lock().ok()?;
        let Some(Place::Unsigned(_)) = &*place else { return None };
        let Some(Place::Unsigned(p)) = place.take() else {
            return None;
        };
        drop(place);
        self.made_room.store(true, std::sync::atomic::Ordering::SeqCst);
        self.made_room_notify.notify_waiters();
        Some(p)
    }

    async fn wait_made_room(&self) {
        loop {
            let notified = self.made_room_notify.notified();
            if self.made_room.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

impl Places {
    pub fn new(config: &crate::config::Config) -> Places {
        Places {
            signed_in: Arc::new(tokio::sync::Semaphore::new(config.max_websockets.max(1))),
            unsigned: Arc::new(tokio::sync::Semaphore::new(config.max_unsigned_websockets.max(1))),
            per_client: crate::http::per_client::PerClient::new(config.max_websockets_per_client),
            opened: Arc::default(),
            max_unsigned: config.max_unsigned_websockets.max(1),
        }
    }

    /// A place for a new socket from `client`, or the Chinese reason there is none.
    fn open(&self, client: &str) -> Result<(crate::http::per_client::Share, Arc<Slot>), &'static str> {
        let share = self
            .per_client
            .try_acquire(client)
            .ok_or("来自同一地址的连接过多，请关闭其他页面后重试")?;
        let permit = match self.unsigned.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => self.make_room().ok_or("连接数已满，请稍后重试")?,
        };
        let slot = Arc::new(Slot {
            place: Mutex::new(Some(Place::Unsigned(permit))),
            ..Slot::default()
        });
        if let Ok(mut opened) = self.opened.lock() {
            if opened.len() >= 4 * self.max_unsigned {
                opened.retain(|s| s.upgrade().is_some_and(|s| s.holds_unsigned()));
            }
            opened.push_back(Arc::downgrade(&slot));
        }
        Ok((share, slot))
    }

    /// Takes the unsigned place of the oldest anonymous socket, else of the oldest socket
    /// that has not initialised.
    fn make_room(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let mut opened = self.opened.lock().ok()?;
        opened.retain(|s| s.upgrade().is_some_and(|s| s.holds_unsigned()));
        let live: Vec<Arc<Slot>> = opened.iter().filter_map(std::sync::Weak::upgrade).collect();
        let pick = live
            .iter()
            .position(|s| s.anonymous.load(std::sync::atomic::Ordering::SeqCst))
            .or(if live.is_empty() { None } else { Some(0) })?;
        let permit = live[pick].give_up();
        opened.remove(pick);
        permit
    }

    /// Moves a socket that signed in to a signed-in place; false when none is free (or it
    /// gave its place up meanwhile).
    fn sign_in(&self, slot: &Slot) -> bool {
        let Ok(mut place) = slot.place.lock() else { return false };
        match place.take() {
            Some(Place::Unsigned(p)) => match self.signed_in.clone().try_acquire_owned() {
                Ok(signed) => {
                    drop(p);
                    *place = Some(Place::SignedIn(signed));
                    true
                }
                Err(_) => {
                    *place = Some(Place::Unsigned(p));
                    false
                }
            },
            Some(Place::SignedIn(p)) => {
                *place = Some(Place::SignedIn(p));
                true
            }
            None => false,
        }
    }

    /// Whether a socket may go on without signing in (it still holds its unsigned place);
    /// it is then first in line to make room.
    fn stay_anonymous(slot: &Slot) -> bool {
        let holds = slot.holds_unsigned();
        if holds {
            slot.anonymous.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        holds
    }
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    let mut r = (status, message).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `GET /graphql/ws`: subscriptions over WebSocket (graphql-transport-ws, and the older
/// graphql-ws).
pub async fn ws(
    State(app): State<App>,
    axum::Extension(client): axum::Extension<ClientKey>,
    request_id: Option<axum::Extension<crate::http::observe::RequestId>>,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (share, slot) = match app.websockets.open(&client.0) {
        Ok(p) => p,
        Err(message) => {
            let mut r = refuse(StatusCode::SERVICE_UNAVAILABLE, message);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
            return r;
        }
    };
    let span = tracing::Span::current();
    // A subscription message is a query (at most 64 KB, see graphql::limits) and its
    // variables: 256 KiB per message is ample; axum's default would be 64 MiB.
    upgrade
        .max_message_size(256 * 1024)
        .max_frame_size(256 * 1024)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            // The socket's work is part of the request that opened it: its span and its id
            // (on errors, in log lines).
            let request_id = request_id.map(|e| e.0);
            let serve = serve_socket(app, client, protocol, (slot, share), socket);
            let serve = async move {
                match request_id {
                    Some(id) => id.scope(serve).await,
                    None => serve.await,
                }
            };
            tracing::Instrument::instrument(serve, span)
        })
}

/// Serves one upgraded socket until the client leaves, its session ends (closed with 4403)
/// or the server shuts down (closed with 1012, Service Restart).
async fn serve_socket(
    app: App,
    client: ClientKey,
    protocol: async_graphql_axum::GraphQLProtocol,
    permit: (Arc<Slot>, crate::http::per_client::Share),
    socket: axum::extract::ws::WebSocket,
) {
    // The socket's place: unsigned until connection_init signs it in, then signed-in.
    let (place, _share) = permit;
    let initialised = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let init_timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _open = crate::telemetry::GaugeGuard::new(metrics::gauge!(crate::telemetry::WEBSOCKETS));
    let session = Arc::new(Session::default());
    session.touch();
    let idle_closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let idle = Duration::from_secs(app.config.unsigned_websocket_idle_secs.max(1));
    let (mut sink, stream) = socket.split();
    // A `subscribe` before `connection_init` ends the socket with 4401, as the protocol says
    // (async-graphql would close it with 1011, an internal error).
    let subscribed_early = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stream = {
        let initialised = initialised.clone();
        let subscribed_early = subscribed_early.clone();
        stream.take_while(move |m| {
            let early = matches!(m, Ok(Message::Text(t))
                if !initialised.load(std::sync::atomic::Ordering::SeqCst) && is_subscribe(t));
            if early {
                subscribed_early.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            std::future::ready(!early)
        })
    };
    let lifecycle = app.lifecycle.clone();
    let stop = {
        let session = session.clone();
        let lifecycle = lifecycle.clone();
        let initialised = initialised.clone();
        let init_timed_out = init_timed_out.clone();
        let idle_closed = idle_closed.clone();
        let slot = place.clone();
        async move {
            let unsigned_idle = async {
                session.wait_unsigned_idle(idle).await;
                idle_closed.store(true, std::sync::atomic::Ordering::SeqCst);
            };
            let init_deadline = async {
                tokio::time::sleep(INIT_TIMEOUT).await;
                if initialised.load(std::sync::atomic::Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                init_timed_out.store(true, std::sync::atomic::Ordering::SeqCst);
            };
            tokio::select! {
                _ = session.wait_ended() => {}
                _ = lifecycle.reached(crate::http::lifecycle::Phase::Stopping) => {}
                _ = init_deadline => {}
                _ = unsigned_idle => {}
                _ = slot.wait_made_room() => {}
            }
        }
    };
    let watcher = tokio::spawn(watch(app.db.clone(), session.clone()));
    let init_app = app.clone();
    let init_session = session.clone();
    let init_place = place.clone();
    async_graphql_axum::GraphQLWebSocket::new_with_pair(
        &mut sink,
        stream.take_until(stop),
        app.schema.clone(),
        protocol,
    )
    .on_connection_init(move |payload| async move {
        initialised.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut data = Data::default();
        data.insert(client);
        let token = payload
            .get("Authorization")
            .or_else(|| payload.get("authorization"))
            .and_then(|v| v.as_str())
            .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_string());
        let Some(t) = token else {
            if !Places::stay_anonymous(&init_place) {
                return Err(async_graphql::Error::new("连接数已满：未登录的连接请稍后重试"));
            }
            data.insert(init_session);
            return Ok(data);
        };
        let Ok((verified, expires)) = init_app.keys.verify_until(&t) else {
            return Err(async_graphql::Error::new("登录凭证无效或已过期"));
        };
        match init_app.accounts.actor(&init_app.db, verified).await {
            Ok(Some(actor)) => {
                // Signed in: the socket moves to a signed-in place.
                if !init_app.websockets.sign_in(&init_place) {
                    return Err(async_graphql::Error::new("连接数已满，请稍后重试"));
                }
                init_session.sign_in(verified, expires, actor)
            }
            Ok(None) => return Err(async_graphql::Error::new("登录凭证无效或已过期")),
            Err(e) => {
                tracing::error!(error = ?e, "loading the acting user failed");
                return Err(async_graphql::Error::new(crate::graphql::error::INTERNAL_MESSAGE));
            }
        }
        data.insert(init_session);
        Ok(data)
    })
    .serve()
    .await;
    watcher.abort();
    let made_room = place.made_room.load(std::sync::atomic::Ordering::SeqCst);
    drop(place);
    if subscribed_early.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_UNAUTHORIZED,
                reason: "请先完成连接初始化（connection_init）再订阅".into(),
            })))
            .await;
    } else if made_room {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_MADE_ROOM,
                reason: "连接数已满，未登录的连接已让出位置".into(),
            })))
            .await;
    } else if idle_closed.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: 1000,
                reason: "空闲连接已关闭".into(),
            })))
            .await;
    } else if init_timed_out.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_INIT_TIMEOUT,
                reason: "未在规定时间内完成连接初始化".into(),
            })))
            .await;
    } else if session.has_ended() {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_SESSION_ENDED,
                reason: "登录已失效，请重新登录".into(),
            })))
            .await;
    } else if lifecycle.phase() == crate::http::lifecycle::Phase::Stopping {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: crate::http::lifecycle::CLOSE_SERVICE_RESTART,
                reason: "服务正在重启，请重新连接".into(),
            })))
            .await;
    }
}

/// Ends `session` when its token expires or its account changes: re-read every
/// `RECHECK_EVERY`, and at once when this process or (PostgreSQL) another replica reports a
/// change of the account (`notify`).
async fn watch(db: DatabaseConnection, session: Arc<Session>) {
    let mut changes = crate::notify::subscribe_accounts();
    loop {
        let wait = match session.current() {
            Some(s) => (s.expires - Utc::now()).to_std().unwrap_or_default().min(RECHECK_EVERY),
            None => RECHECK_EVERY,
        };
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                e = changes.recv() => match e {
                    // (The account as signed in now: the watcher starts before connection_init.)
                    Ok(crate::notify::AccountEvent::One(id))
                        if session.current().map(|s| s.actor.user_id) != Some(id) => continue,
                    // This account, all accounts, or events missed (lagged): re-check now.
                    _ => break,
                },
            }
        }
        match session.caller_now(&db, None).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                session.end();
                return;
            }
            Err(e) => tracing::warn!(error = ?e, "re-reading a socket's account failed"),
        }
    }
}
