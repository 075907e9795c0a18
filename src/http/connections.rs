//! The table of open connections, and who makes room when it is full.
//!
//! A full table must not lock newcomers out behind connections that may never end: slow
//! readers that keep a write crawling just under the write deadline (16 addresses × 256
//! pipelining `GET /healthz` with a tiny receive buffer held all 4096 places of the release
//! defaults), clients that drip their headers, idle keep-alives. So when every place is taken,
//! one open connection is shed for the newcomer, chosen so that a few addresses cannot keep
//! everyone else out:
//!
//! 1. the address holding the most places gives one up, when it holds at least two more than
//!    the newcomer's address would: one idle past `IDLE_GRACE`, else its slowest one (see 4,
//!    then 5);
//! 2. else the slowest connection dripping a request head (under `MIN_RATE`, once `MIN_AGE`
//!    old): an honest head arrives at once, so this is never an honest transfer;
//! 3. else the connection idle longest between requests (a kept-alive connection waiting, or
//!    one that has sent nothing yet), idle at least `IDLE_GRACE`: closing it costs its client
//!    a reconnection at most;
//! 4. else the slowest connection that is waiting for its client — its writes wait for the
//!    client to read, or its request body has not all arrived — and has moved less than
//!    `MIN_RATE` bytes in the last whole second, once it is `MIN_AGE` old. This is a rate, as
//!    Apache's `mod_reqtimeout` `MinRate`: an honest upload or download over a slow link moves
//!    kilobytes a second and is never taken, a trickle of a few bytes (however often its
//!    sender reconnects) is;
//! 5. else the slowest such connection under `LAG_RATE` once `LAG_AGE` old: bodies kept just
//!    above `MIN_RATE` from a few thousand sockets would otherwise hold every place for a
//!    few dozen Mbit/s;
//! 6. else a request head still arriving slowly, however young (drippers that reconnect go
//!    before a connection whose client has been answered);
//! 7. else the connection idle longest however briefly (between two quick requests of its
//!    client, which may be sending the next one already);
//! 8. else the request that has waited longest in one of the server's queues — a place in
//!    flight, a hashing slot ([`queued`]): queued logins from a few dozen connections would
//!    otherwise hold every place. Its wait ends with the server's usual refusal (`503` with
//!    `Retry-After`, or `RATE_LIMITED` for a login), written before the connection closes, so
//!    an honest client under overload is told to retry rather than cut off;
//! 9. else, every place answering at full speed, the newcomer gets a short `503` with
//!    `Retry-After` and is closed. It is not held (that would queue every later newcomer
//!    behind it). A request the server itself is slow to answer is never cut.
//!
//! Each connection's state is kept by [`Watched`] (the socket: bytes moved, writes waiting
//! for the client to read), [`Place::wait_for_body`] (a request body: reads waiting for the
//! client to send) and [`Place::busy`] (a request is answered until its response body has
//! been sent).

use std::collections::HashMap;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Below this many bytes a second (read and written, in the last whole second) a connection
/// that waits for its client counts as slow.
pub const MIN_RATE: u64 = 1024;
/// A connection younger than this is not judged slow (its first second is not whole yet).
pub const MIN_AGE: Duration = Duration::from_millis(500);
/// When no connection is idle or slow, a connection waiting for its client that moved fewer
/// than this many bytes in the last whole second, once `LAG_AGE` old, gives way: bodies (or
/// reads) kept just above `MIN_RATE` would otherwise hold every place for a few dozen
/// Mbit/s; held at this rate, 4,096 places cost over 2 Gbit/s.
pub const LAG_RATE: u64 = 64 * 1024;
/// See `LAG_RATE`.
pub const LAG_AGE: Duration = Duration::from_secs(2);
/// A connection idle for less than this, between two requests of its client, is shed only
/// when nothing else can be: its client may be sending the next request already, which
/// would meet a closed connection.
pub const IDLE_GRACE: Duration = Duration::from_secs(1);

/// Why a connection was shed, for the log and the metric's `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// Its address held the most places.
    Address,
    /// It waited for a client that sends or reads too slowly.
    Stalled,
    /// It was idle between requests.
    Idle,
    /// It waited for a client that moved under `LAG_RATE`, when nothing was idle or slow.
    Lagging,
    /// Its request waited in one of the server's queues, when nothing else could go.
    Queued,
}

impl Shed {
    pub fn label(self) -> &'static str {
        match self {
            Shed::Address => "address",
            Shed::Stalled => "stalled",
            Shed::Idle => "idle",
            Shed::Lagging => "lagging",
            Shed::Queued => "queued",
        }
    }
}

/// The answer to a newcomer.
pub enum Admission {
    /// A place, and the connection shed to make it, if one was.
    Admitted(Place, Option<Shed>),
    /// Its address already holds its share.
    TooManyFromAddress,
    /// Every place is busy answering.
    Full,
}

/// The open connections: at most `max`, at most `max_per_client` from one address.
pub struct Connections {
    max: usize,
    max_per_client: usize,
    epoch: Instant,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    open: HashMap<u64, Entry>,
    per_address: HashMap<String, usize>,
}

struct Entry {
    address: String,
    state: Arc<State>,
}

/// What the table knows of one connection.
#[derive(Default)]
pub struct State {
    /// Milliseconds since the table's epoch when a write (or flush) last found the socket
    /// full and has not progressed since; 0 when no write is waiting.
    stalled_since: AtomicU64,
    /// The same for reads of a request body waiting for the client to send it (kept apart:
    /// the socket's flushes say nothing about the body).
    body_since: AtomicU64,
    /// When bytes of a request head began to arrive with no request being answered
    /// (milliseconds since the epoch); 0 once the request is answered, or when none arrives.
    head_since: AtomicU64,
    /// When the connection was opened (milliseconds since the epoch).
    opened_at: AtomicU64,
    /// Bytes moved (read and written) in the whole second `second` (since the epoch), and in
    /// the second before it.
    second: AtomicU64,
    bytes_this_second: AtomicU64,
    bytes_last_second: AtomicU64,
    /// Milliseconds since the epoch, plus one, of the last byte read or written.
    active_at: AtomicU64,
    /// Requests being answered (the service's futures not yet done).
    busy: AtomicUsize,
    /// Waits in one of the server's queues now ([`queued`]), and since when the first began
    /// (milliseconds since the epoch; 0 when none).
    queued: AtomicUsize,
    queued_since: AtomicU64,
    /// Notified when the connection is shed.
    shed: Notify,
    /// Set, and `dequeue` notified, when the connection was shed for a request waiting in a
    /// queue (`Shed::Queued`): its queued waits end at once with a refusal, which is written
    /// to its client before the connection closes (within `DEQUEUED_GRACE`), so an honest
    /// client under overload reads a "try again" instead of meeting a closed connection.
    dequeued: std::sync::atomic::AtomicBool,
    dequeue: Notify,
}

impl State {
    /// Counts `n` bytes moved at `now`.
    fn moved(&self, n: usize, now: u64) {
        let second = now / 1000;
        let current = self.second.load(Ordering::Relaxed);
        if second != current {
            let last = if second == current + 1 {
                self.bytes_this_second.load(Ordering::Relaxed)
            } else {
                0
            };
            self.bytes_last_second.store(last, Ordering::Relaxed);
            self.bytes_this_second.store(n as u64, Ordering::Relaxed);
            self.second.store(second, Ordering::Relaxed);
        } else {
            self.bytes_this_second.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Bytes a second at `now`: those of the last whole second (or of this one so far, if
    /// more), 0 when nothing moved for two seconds.
    fn rate(&self, now: u64) -> u64 {
        let second = now / 1000;
        let current = self.second.load(Ordering::Relaxed);
        let this = self.bytes_this_second.load(Ordering::Relaxed);
        if second == current {
            self.bytes_last_second.load(Ordering::Relaxed).max(this)
        } else if second == current + 1 {
            this
        } else {
            0
        }
    }
}

/// One connection's place, given back when dropped.
pub struct Place {
    id: u64,
    table: Arc<Connections>,
    state: Arc<State>,
}

impl Connections {
    pub fn new(max: usize, max_per_client: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max: max.max(1),
            max_per_client: max_per_client.max(1),
            // An hour back where the clock allows, so a moment "seconds ago" is never before it.
            epoch: Instant::now()
                .checked_sub(Duration::from_secs(3600))
                .unwrap_or_else(Instant::now),
            inner: Mutex::default(),
        })
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// A place for a connection from `address`. `capped` is false for a trusted proxy,
    /// whose clients are limited per request instead.
    pub fn admit(self: &Arc<Self>, address: &str, capped: bool) -> Admission {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mine = inner.per_address.get(address).copied().unwrap_or(0);
        if capped && mine >= self.max_per_client {
            return Admission::TooManyFromAddress;
        }
        let mut shed = None;
        if inner.open.len() >= self.max {
            match self.victim(&inner, mine) {
                Some((id, why)) => {
                    if let Some(entry) = inner.remove(id) {
                        if why == Shed::Queued {
                            entry.state.dequeued.store(true, Ordering::SeqCst);
                            entry.state.dequeue.notify_waiters();
                        }
                        entry.state.shed.notify_one();
                    }
                    shed = Some(why);
                }
                None => return Admission::Full,
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let state = Arc::new(State::default());
        let now = self.now();
        state.active_at.store(now, Ordering::Relaxed);
        state.opened_at.store(now, Ordering::Relaxed);
        state.second.store(now / 1000, Ordering::Relaxed);
        inner.open.insert(
            id,
            Entry {
                address: address.to_string(),
                state: state.clone(),
            },
        );
        *inner.per_address.entry(address.to_string()).or_insert(0) += 1;
        Admission::Admitted(
            Place {
                id,
                table: self.clone(),
                state,
            },
            shed,
        )
    }

    /// The connection to shed for a newcomer whose address holds `mine` places.
    fn victim(&self, inner: &Inner, mine: usize) -> Option<(u64, Shed)> {
        let now = self.now();
        // Idle for how long (nothing being answered, no write waiting), if idle.
        let idle_for = |s: &State| {
            (s.busy.load(Ordering::Relaxed) == 0
                && s.stalled_since.load(Ordering::Relaxed) == 0
                && s.head_since.load(Ordering::Relaxed) == 0)
                .then(|| now.saturating_sub(s.active_at.load(Ordering::Relaxed)))
        };
        // Waiting for its client now, at least `age` old, and fewer than `floor` bytes in the
        // last whole second: the rate (lower is slower).
        let slower_than = |s: &State, floor: u64, age: Duration| {
            let waiting = s.stalled_since.load(Ordering::Relaxed) != 0
                || s.body_since.load(Ordering::Relaxed) != 0
                || s.head_since.load(Ordering::Relaxed) != 0;
            let old = now.saturating_sub(s.opened_at.load(Ordering::Relaxed)) >= age.as_millis() as u64;
            let rate = s.rate(now);
            (waiting && old && rate < floor).then_some(rate)
        };
        // The candidate idle longest, if idle at least `grace`.
        let longest_idle = |candidates: &mut dyn Iterator<Item = (&u64, &Entry)>, grace: Duration| {
            candidates
                .filter_map(|(id, e)| idle_for(&e.state).map(|d| (*id, d)))
                .filter(|(_, d)| *d >= grace.as_millis() as u64)
                .max_by_key(|(id, d)| (*d, std::cmp::Reverse(*id)))
                .map(|(id, _)| id)
        };
        // The slowest candidate under `floor` once `age` old.
        let slowest = |candidates: &mut dyn Iterator<Item = (&u64, &Entry)>, floor: u64, age: Duration| {
            candidates
                .filter_map(|(id, e)| slower_than(&e.state, floor, age).map(|r| (*id, r)))
                .min_by_key(|(id, r)| (*r, *id))
                .map(|(id, _)| id)
        };
        let all = || inner.open.iter();
        // 1. The address holding the most places, by at least two more than the newcomer's:
        //    its longest idle (past the grace), else its slowest, else its lagging one.
        if let Some((address, &most)) = inner.per_address.iter().max_by_key(|(_, n)| **n)
            && most >= mine + 2
        {
            let theirs = || inner.open.iter().filter(move |(_, e)| &e.address == address);
            if let Some(id) = longest_idle(&mut theirs(), IDLE_GRACE)
                .or_else(|| slowest(&mut theirs(), MIN_RATE, MIN_AGE))
                .or_else(|| slowest(&mut theirs(), LAG_RATE, LAG_AGE))
            {
                return Some((id, Shed::Address));
            }
        }
        // 2. The slowest sending its request head under the slowness floor: an honest head
        //    arrives at once, so this is never an honest transfer.
        let heads = || {
            inner
                .open
                .iter()
                .filter(|(_, e)| e.state.head_since.load(Ordering::Relaxed) != 0)
        };
        if let Some(id) = slowest(&mut heads(), MIN_RATE, MIN_AGE) {
            return Some((id, Shed::Stalled));
        }
        // 3. The longest idle, past the grace.
        if let Some(id) = longest_idle(&mut all(), IDLE_GRACE) {
            return Some((id, Shed::Idle));
        }
        // 4. The slowest, under the slowness floor.
        if let Some(id) = slowest(&mut all(), MIN_RATE, MIN_AGE) {
            return Some((id, Shed::Stalled));
        }
        // 5. The slowest under the lag floor, once a little older.
        if let Some(id) = slowest(&mut all(), LAG_RATE, LAG_AGE) {
            return Some((id, Shed::Lagging));
        }
        // 6. A request head still arriving, however young (a dripper that reconnected, before
        //    a connection that has been answered; an honest head arrives at once).
        if let Some(id) = slowest(&mut heads(), MIN_RATE, Duration::ZERO) {
            return Some((id, Shed::Stalled));
        }
        // 7. The longest idle, however short (a kept-alive connection between two requests).
        if let Some(id) = longest_idle(&mut all(), Duration::ZERO) {
            return Some((id, Shed::Idle));
        }
        // 8. The request waiting longest in a queue of the server now. No grace: each of a
        //    flood's pipelined requests waits only its turn (a few hashes), then the next one.
        all()
            .filter_map(|(id, e)| {
                let since = e.state.queued_since.load(Ordering::Relaxed);
                (since != 0).then_some((*id, now.saturating_sub(since)))
            })
            .max_by_key(|(id, waited)| (*waited, std::cmp::Reverse(*id)))
            .map(|(id, _)| (id, Shed::Queued))
    }

    /// How many connections hold a place now.
    pub fn open(&self) -> usize {
        self.inner.lock().map(|i| i.open.len()).unwrap_or(0)
    }
}

impl Inner {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.open.remove(&id)?;
        if let Some(n) = self.per_address.get_mut(&entry.address) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&entry.address);
            }
        }
        Some(entry)
    }
}

tokio::task_local! {
    /// The connection whose request the current task answers.
    static CONNECTION: (Arc<State>, Arc<Connections>);
}

/// How long a connection shed for a queued request (`Shed::Queued`) may take to write the
/// refusal of that request before it is closed (the refusal is a few hundred bytes).
pub const DEQUEUED_GRACE: Duration = Duration::from_secs(1);

/// The queued wait ended because its connection was shed to make room (`Shed::Queued`): the
/// caller answers with its usual "busy, try again" refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dequeued;

/// Awaits `wait` — a wait in one of the server's queues (a place in flight, a hashing slot) —
/// counted as queued on the connection of the request being answered, if any (see
/// [`Place::answering`]), so that a full table may shed it when nothing else can go. Then the
/// wait ends at once with `Err(Dequeued)`, as does any later wait of that connection.
pub async fn queued<F: std::future::Future>(wait: F) -> Result<F::Output, Dequeued> {
    struct Mark(Option<(Arc<State>, Arc<Connections>)>);
    impl Drop for Mark {
        fn drop(&mut self) {
            if let Some((state, _)) = &self.0
                && state.queued.fetch_sub(1, Ordering::Relaxed) == 1
            {
                state.queued_since.store(0, Ordering::Relaxed);
            }
        }
    }
    let current = CONNECTION.try_with(|(s, t)| (s.clone(), t.clone())).ok();
    if let Some((state, table)) = &current
        && state.queued.fetch_add(1, Ordering::Relaxed) == 0
    {
        state.queued_since.store(table.now(), Ordering::Relaxed);
    }
    let _mark = Mark(current.clone());
    let Some((state, _)) = current else {
        return Ok(wait.await);
    };
    let dequeued = state.dequeue.notified();
    tokio::pin!(dequeued);
    dequeued.as_mut().enable();
    if state.dequeued.load(Ordering::SeqCst) {
        return Err(Dequeued);
    }
    tokio::select! {
        done = wait => Ok(done),
        () = dequeued => Err(Dequeued),
    }
}

impl Place {
    /// `answer`, the answering of a request on this connection: waits in it marked with
    /// [`queued`] count for this connection.
    pub fn answering<F: std::future::Future>(
        &self,
        answer: F,
    ) -> impl std::future::Future<Output = F::Output> + use<F> {
        CONNECTION.scope((self.state.clone(), self.table.clone()), answer)
    }

    /// Resolves when the connection was shed to make room for a newcomer: `true` when it
    /// was shed for a queued request (`Shed::Queued`), whose refusal is still to be written
    /// (close it after that, within `DEQUEUED_GRACE`), `false` to close it at once.
    pub async fn shed(&self) -> bool {
        self.state.shed.notified().await;
        self.state.dequeued.load(Ordering::SeqCst)
    }

    /// Counts a request as being answered until the guard is dropped.
    pub fn busy(&self) -> Busy {
        Busy::new(self.state.clone(), &self.table)
    }

    /// A request body, whose reads that wait for the client count as waiting for it.
    pub fn wait_for_body<B>(&self, body: B) -> WaitedBody<B> {
        WaitedBody {
            inner: body,
            state: self.state.clone(),
            table: self.table.clone(),
        }
    }

    /// `stream`, watched for stalls and activity on this place's behalf.
    pub fn watch<S>(&self, stream: S) -> Watched<S> {
        Watched {
            inner: stream,
            state: self.state.clone(),
            table: self.table.clone(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut inner = self.table.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.remove(self.id);
    }
}

/// A request being answered on a connection, until its response body has been sent (hold
/// it in the body: [`BusyBody`]).
pub struct Busy {
    state: Arc<State>,
    table: Arc<Connections>,
}

impl Busy {
    fn new(state: Arc<State>, table: &Arc<Connections>) -> Busy {
        state.busy.fetch_add(1, Ordering::Relaxed);
        // Its head has arrived whole.
        state.head_since.store(0, Ordering::Relaxed);
        Busy {
            state,
            table: table.clone(),
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.state.busy.fetch_sub(1, Ordering::Relaxed);
        self.state.active_at.store(self.table.now(), Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted as being answered until it has been sent
/// (or dropped).
pub struct BusyBody<B> {
    inner: B,
    busy: Option<Busy>,
}

impl<B> BusyBody<B> {
    pub fn new(inner: B, busy: Busy) -> BusyBody<B> {
        BusyBody {
            inner,
            busy: Some(busy),
        }
    }
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for BusyBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let result = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(result, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.busy = None;
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A request body whose reads that wait for the client are counted as waiting for it.
pub struct WaitedBody<B> {
    inner: B,
    state: Arc<State>,
    table: Arc<Connections>,
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for WaitedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let result = Pin::new(&mut self.inner).poll_frame(cx);
        if result.is_pending() {
            blocked(&self.state.body_since, &self.table);
        } else {
            progressed(&self.state.body_since, &self.state.active_at, &self.table);
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection waits for its client from now (unless it already did).
fn blocked(since: &AtomicU64, table: &Connections) {
    let _ = since.compare_exchange(0, table.now(), Ordering::Relaxed, Ordering::Relaxed);
}

/// The client did its part: the wait, if any, is over.
fn progressed(since: &AtomicU64, active_at: &AtomicU64, table: &Connections) {
    if since.swap(0, Ordering::Relaxed) != 0 {
        active_at.store(table.now(), Ordering::Relaxed);
    }
}

/// A connection's stream, recording when its writes stall and when it was last active.
pub struct Watched<S> {
    inner: S,
    state: Arc<State>,
    table: Arc<Connections>,
}

impl<S> Watched<S> {
    fn note_write<T>(&self, result: &Poll<std::io::Result<T>>) {
        let s = &self.state;
        match result {
            Poll::Pending => blocked(&s.stalled_since, &self.table),
            Poll::Ready(_) => progressed(&s.stalled_since, &s.active_at, &self.table),
        }
    }

    fn note_written(&self, result: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = result
            && *n > 0
        {
            self.state.moved(*n, self.table.now());
        }
        self.note_write(result);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if matches!(result, Poll::Ready(Ok(()))) && n > 0 {
            let now = self.table.now();
            self.state.active_at.store(now, Ordering::Relaxed);
            self.state.moved(n, now);
            if self.state.busy.load(Ordering::Relaxed) == 0 {
                // A request head arriving: the connection waits for its client until the
                // head is whole (an honest head arrives at once; one dripped is slow).
                let _ = self
                    .state
                    .head_since
                    .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note_written(&result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note_written(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.note_write(&result);
        result
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> (Place, Option<Shed>) {
        match a {
            Admission::Admitted(p, s) => (p, s),
            Admission::TooManyFromAddress => panic!("refused: too many from the address"),
            Admission::Full => panic!("refused: full"),
        }
    }

    /// `p` has waited `ago` for its client to read, and was opened 10 s ago.
    fn stall(p: &Place, ago: Duration) {
        let now = p.table.now();
        p.state
            .stalled_since
            .store(now.saturating_sub(ago.as_millis() as u64).max(1), Ordering::Relaxed);
        p.state.opened_at.store(now.saturating_sub(10_000), Ordering::Relaxed);
    }

    /// `p` has been idle for `ago`.
    fn idle(p: &Place, ago: Duration) {
        let now = p.table.now();
        p.state
            .active_at
            .store(now.saturating_sub(ago.as_millis() as u64).max(1), Ordering::Relaxed);
    }

    #[test]
    fn a_connection_lagging_under_the_lag_floor_goes_when_nothing_is_idle_or_slow() {
        // Bodies trickled at a few KiB a second, just above MIN_RATE: once LAG_AGE old,
        // the slowest of them makes room; a fast one and a young one do not.
        let table = Connections::new(3, 4);
        let lagging = admitted(table.admit("a", true)).0;
        let faster = admitted(table.admit("b", true)).0;
        let fast = admitted(table.admit("c", true)).0;
        let _busy = (lagging.busy(), faster.busy(), fast.busy());
        for (p, rate) in [(&lagging, 4_000), (&faster, 20_000), (&fast, 1_000_000)] {
            stall(p, Duration::from_millis(100));
            p.state.moved(rate, table.now());
        }
        let (d, shed) = admitted(table.admit("d", true));
        assert_eq!(shed, Some(Shed::Lagging));
        assert!(
            !table.inner.lock().unwrap().open.contains_key(&lagging.id),
            "the slowest"
        );
        let _d_busy = d.busy();
        let (e, shed) = admitted(table.admit("e", true));
        assert_eq!(shed, Some(Shed::Lagging));
        assert!(!table.inner.lock().unwrap().open.contains_key(&faster.id));
        let _e_busy = e.busy();
        // Left: the 1 MB/s one and two young ones: nothing may go.
        assert!(matches!(table.admit("f", true), Admission::Full));
        assert_eq!(table.open(), 3);
        // Under LAG_AGE a lagging connection is not judged yet.
        let young = Connections::new(1, 4);
        let x = admitted(young.admit("x", true)).0;
        let _x_busy = x.busy();
        x.state.stalled_since.store(young.now(), Ordering::Relaxed);
        x.state
            .opened_at
            .store(young.now().saturating_sub(1_000), Ordering::Relaxed);
        x.state.moved(4_000, young.now());
        assert!(matches!(young.admit("y", true), Admission::Full));
    }

    #[tokio::test]
    async fn a_queued_request_goes_when_nothing_else_can() {
        let table = Connections::new(2, 4);
        let waiting = admitted(table.admit("a", true)).0;
        let answering = admitted(table.admit("b", true)).0;
        let _busy = (waiting.busy(), answering.busy());
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let g = gate.clone();
        let queued_wait = tokio::spawn(waiting.answering(async move { queued(g.acquire_owned()).await }));
        tokio::task::yield_now().await;
        while waiting.state.queued.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        // Requests answered (not queued) never go; the queued one does, however briefly it
        // waited.
        let (_c, shed) = admitted(table.admit("c", true));
        assert_eq!(shed, Some(Shed::Queued));
        assert!(!table.inner.lock().unwrap().open.contains_key(&waiting.id));
        // Its wait ends at once, refused (the gate never opened), the mark is gone, and a
        // later wait of that connection is refused too; outside a connection's task `queued`
        // marks nothing.
        assert_eq!(queued_wait.await.unwrap().err(), Some(Dequeued));
        assert_eq!(waiting.state.queued.load(Ordering::Relaxed), 0);
        assert_eq!(waiting.state.queued_since.load(Ordering::Relaxed), 0);
        let again = waiting.answering(queued(gate.clone().acquire_owned())).await;
        assert_eq!(again.err(), Some(Dequeued));
        gate.add_permits(1);
        assert_eq!(queued(async { 7 }).await, Ok(7));
    }

    #[test]
    fn a_dripped_request_head_goes_before_an_idle_connection() {
        // A client dripping its request head byte by byte is never idle for long; it is
        // slow, and goes before an office's connection between two requests.
        let table = Connections::new(3, 4);
        let office = admitted(table.admit("office", true)).0;
        let dripper = admitted(table.admit("dripper", true)).0;
        let fresh = admitted(table.admit("fresh", true)).0;
        idle(&office, Duration::from_secs(2));
        let now = table.now();
        dripper.state.head_since.store(now - 4_000, Ordering::Relaxed);
        dripper.state.opened_at.store(now - 5_000, Ordering::Relaxed);
        dripper.state.moved(20, now);
        // A head that just began to arrive (young) is not judged yet.
        fresh.state.head_since.store(now, Ordering::Relaxed);
        let (_new, shed) = admitted(table.admit("new", true));
        assert_eq!(shed, Some(Shed::Stalled));
        let inner = table.inner.lock().unwrap();
        assert!(!inner.open.contains_key(&dripper.id), "the dripper");
        assert!(inner.open.contains_key(&office.id) && inner.open.contains_key(&fresh.id));
        drop(inner);
        // Its head whole, a request is answered and no longer counts as a head arriving.
        let _busy = fresh.busy();
        assert_eq!(fresh.state.head_since.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_young_dripper_goes_before_a_connection_between_two_requests() {
        let table = Connections::new(2, 4);
        let office = admitted(table.admit("office", true)).0;
        let dripper = admitted(table.admit("dripper", true)).0;
        idle(&office, Duration::from_millis(150));
        dripper.state.head_since.store(table.now(), Ordering::Relaxed);
        dripper.state.moved(3, table.now());
        let (_new, shed) = admitted(table.admit("new", true));
        assert_eq!(shed, Some(Shed::Stalled));
        assert!(table.inner.lock().unwrap().open.contains_key(&office.id));
    }

    #[test]
    fn a_connection_idle_for_an_instant_between_requests_goes_last() {
        // An office's kept-alive connection between two quick requests (idle for a few
        // milliseconds) is not shed for its address while another candidate exists: its
        // client may already be sending the next request.
        let table = Connections::new(4, 8);
        let office: Vec<_> = (0..3).map(|_| admitted(table.admit("office", true)).0).collect();
        let other = admitted(table.admit("other", true)).0;
        let _busy: Vec<_> = office[1..].iter().map(Place::busy).collect();
        idle(&office[0], Duration::from_millis(20));
        idle(&other, Duration::from_secs(5));
        let (new, shed) = admitted(table.admit("new", true));
        assert_eq!(shed, Some(Shed::Idle));
        assert!(
            !table.inner.lock().unwrap().open.contains_key(&other.id),
            "the long idle one"
        );
        assert!(table.inner.lock().unwrap().open.contains_key(&office[0].id));
        // With nothing else left, the briefly idle one makes room after all.
        let _new_busy = new.busy();
        let (_newer, shed) = admitted(table.admit("newer", true));
        assert_eq!(shed, Some(Shed::Idle));
        assert!(!table.inner.lock().unwrap().open.contains_key(&office[0].id));
    }

    #[test]
    fn the_address_holding_the_most_places_makes_room() {
        let table = Connections::new(4, 4);
        let a: Vec<_> = (0..3).map(|_| admitted(table.admit("a", true)).0).collect();
        let b = admitted(table.admit("b", true)).0;
        let _busy: Vec<_> = a.iter().map(Place::busy).chain([b.busy()]).collect();
        // b has waited longer than any of a's, but a holds the most places.
        stall(&a[1], Duration::from_secs(2));
        stall(&b, Duration::from_secs(9));
        let (_c, shed) = admitted(table.admit("c", true));
        assert_eq!(shed, Some(Shed::Address));
        assert_eq!(table.open(), 4);
        let inner = table.inner.lock().unwrap();
        assert_eq!(inner.per_address.get("a"), Some(&2));
        assert_eq!(inner.per_address.get("b"), Some(&1));
        assert!(inner.open.contains_key(&b.id), "the smaller address kept its place");
        assert!(
            !inner.open.contains_key(&a[1].id),
            "the one of the biggest that waited was shed"
        );
    }

    #[test]
    fn requests_answered_at_full_speed_are_not_shed_for_their_address() {
        // An office behind one address with requests in flight (none waiting for its
        // client): a newcomer sheds no request of it; here nothing else qualifies either.
        let table = Connections::new(3, 4);
        let a: Vec<_> = (0..3).map(|_| admitted(table.admit("a", true)).0).collect();
        let _busy: Vec<_> = a.iter().map(Place::busy).collect();
        // One of them waits for its client, who reads 100 KB a second: not slow.
        stall(&a[0], Duration::from_millis(100));
        a[0].state.moved(100_000, table.now());
        assert!(matches!(table.admit("c", true), Admission::Full));
        assert_eq!(table.open(), 3);
        // Once one is idle past the grace (its response sent), it makes room for the address.
        drop(_busy);
        idle(&a[1], Duration::from_secs(2));
        let (_c, shed) = admitted(table.admit("c", true));
        assert_eq!(shed, Some(Shed::Address));
        assert!(!table.inner.lock().unwrap().open.contains_key(&a[1].id));
    }

    #[test]
    fn a_trickling_request_body_counts_as_waiting_for_the_client() {
        use hyper::body::Body;
        /// A body whose client never sends.
        struct Never;
        impl Body for Never {
            type Data = bytes::Bytes;
            type Error = std::convert::Infallible;
            fn poll_frame(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
                Poll::Pending
            }
        }
        let table = Connections::new(2, 4);
        let slow = admitted(table.admit("a", true)).0;
        let fast = admitted(table.admit("b", true)).0;
        let _busy = (slow.busy(), fast.busy());
        // A body that never sends: polling it waits for the client.
        let mut body = slow.wait_for_body(Never);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut body).poll_frame(&mut cx).is_pending());
        // A second and a bit later, it is the one shed.
        slow.state.opened_at.store(table.now() - 5_000, Ordering::Relaxed);
        let (_c, shed) = admitted(table.admit("c", true));
        assert_eq!(shed, Some(Shed::Stalled));
        assert!(!table.inner.lock().unwrap().open.contains_key(&slow.id));
    }

    #[test]
    fn an_address_cannot_shed_its_equals_and_a_full_table_of_busy_places_refuses() {
        let table = Connections::new(2, 4);
        let a = admitted(table.admit("a", true)).0;
        let b = admitted(table.admit("b", true)).0;
        let _busy = (a.busy(), b.busy());
        assert!(matches!(table.admit("c", true), Admission::Full));
        assert!(matches!(table.admit("a", true), Admission::Full));
        drop(_busy);
        // Idle now: the longest idle makes room.
        let (_c, shed) = admitted(table.admit("c", true));
        assert_eq!(shed, Some(Shed::Idle));
    }

    #[test]
    fn an_idle_connection_goes_first_then_the_slowest_and_never_a_young_or_fast_one() {
        let table = Connections::new(3, 4);
        let a = admitted(table.admit("a", true)).0;
        let b = admitted(table.admit("b", true)).0;
        let c = admitted(table.admit("c", true)).0;
        let _busy = (b.busy(), c.busy());
        idle(&a, Duration::from_secs(3));
        // b waits for a client that reads nothing, c for one that read 500 bytes just now.
        stall(&b, Duration::from_secs(5));
        stall(&c, Duration::from_secs(2));
        c.state.moved(500, table.now());
        let (d, shed) = admitted(table.admit("d", true));
        assert_eq!(shed, Some(Shed::Idle), "the idle one first");
        let _d_busy = d.busy();
        let (e, shed) = admitted(table.admit("e", true));
        assert_eq!(shed, Some(Shed::Stalled));
        assert!(!table.inner.lock().unwrap().open.contains_key(&b.id), "the slowest");
        let _e_busy = e.busy();
        let (f, shed) = admitted(table.admit("f", true));
        assert_eq!(shed, Some(Shed::Stalled));
        assert!(!table.inner.lock().unwrap().open.contains_key(&c.id));
        let _f_busy = f.busy();
        // d, e and f are answering and not waiting for their clients: nothing may go.
        assert!(matches!(table.admit("g", true), Admission::Full));
        // A young connection waiting for its client is not judged yet.
        let young = Connections::new(1, 4);
        let x = admitted(young.admit("x", true)).0;
        let _x_busy = x.busy();
        x.state.stalled_since.store(young.now(), Ordering::Relaxed);
        assert!(matches!(young.admit("y", true), Admission::Full));
    }

    #[test]
    fn the_rate_is_that_of_the_last_whole_second_and_decays_to_nothing() {
        let s = State::default();
        s.second.store(100, Ordering::Relaxed);
        s.moved(4000, 100_200);
        assert_eq!(s.rate(100_500), 4000, "this second so far");
        assert_eq!(s.rate(101_300), 4000, "the last whole second");
        s.moved(10, 101_400);
        assert_eq!(s.rate(101_500), 4000);
        assert_eq!(s.rate(102_100), 10);
        assert_eq!(s.rate(103_000), 0, "nothing for two seconds");
    }

    #[test]
    fn shares_per_address_are_capped_except_for_trusted_proxies_and_given_back() {
        let table = Connections::new(10, 2);
        let a1 = admitted(table.admit("a", true)).0;
        let _a2 = admitted(table.admit("a", true)).0;
        assert!(matches!(table.admit("a", true), Admission::TooManyFromAddress));
        let _p: Vec<_> = (0..5).map(|_| admitted(table.admit("proxy", false)).0).collect();
        drop(a1);
        let _a3 = admitted(table.admit("a", true)).0;
        drop(_p);
        assert_eq!(table.open(), 2);
        assert_eq!(table.inner.lock().unwrap().per_address.len(), 1);
    }
}
