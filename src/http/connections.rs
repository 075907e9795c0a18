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
//!    the newcomer's address would: the one of its connections that waited longest for its
//!    client (past `STALL_GRACE`), else its longest idle; a connection of that address that is
//!    answering a request at full speed is not shed, the next rules are tried instead;
//! 2. else the connection that has waited longest in all for its client — for a request body
//!    that trickles in, or for the client to read the response — once that is at least
//!    `STALL_GRACE` (the time is summed over the connection's life, so a client that sends or
//!    reads a little now and then still adds up);
//! 3. else the connection idle longest between requests (a kept-alive connection waiting, or
//!    one still sending its headers);
//! 4. else, every place answering at full speed, the newcomer gets a short `503` with
//!    `Retry-After` and is closed. It is not held (that would queue every later newcomer
//!    behind it).
//!
//! Each connection's state is kept by [`Watched`] (the socket: writes waiting for the client
//! to read), [`Place::wait_for_body`] (a request body: reads waiting for the client to send)
//! and [`Place::busy`] (a request is answered until its response body has been sent).

use std::collections::HashMap;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// How long, in all, a connection's writes must have waited for its client before it may be
/// shed for that (a momentarily full send buffer is normal for a large download).
pub const STALL_GRACE: Duration = Duration::from_secs(1);

/// Why a connection was shed, for the log and the metric's `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// Its address held the most places.
    Address,
    /// Its writes were stalled: the client was not reading.
    Stalled,
    /// It was idle between requests.
    Idle,
}

impl Shed {
    pub fn label(self) -> &'static str {
        match self {
            Shed::Address => "address",
            Shed::Stalled => "stalled",
            Shed::Idle => "idle",
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
    /// Milliseconds writes have waited for the client in all, not counting the current wait.
    stalled_ms: AtomicU64,
    /// The same for reads of a request body waiting for the client to send it (kept apart:
    /// the socket's flushes say nothing about the body).
    body_since: AtomicU64,
    body_ms: AtomicU64,
    /// Milliseconds since the epoch, plus one, of the last byte read or written.
    active_at: AtomicU64,
    /// Requests being answered (the service's futures not yet done).
    busy: AtomicUsize,
    /// Notified when the connection is shed.
    shed: Notify,
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
        state.active_at.store(self.now(), Ordering::Relaxed);
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
        let grace = STALL_GRACE.as_millis() as u64;
        // The time the connection has waited for its client, in all: writes it did not read,
        // request bodies it did not send (`None`: never).
        let stalled_for = |s: &State| {
            let waiting = |since: u64| {
                if since == 0 {
                    0
                } else {
                    now.saturating_sub(since).max(1)
                }
            };
            let total = s.stalled_ms.load(Ordering::Relaxed)
                + waiting(s.stalled_since.load(Ordering::Relaxed))
                + s.body_ms.load(Ordering::Relaxed)
                + waiting(s.body_since.load(Ordering::Relaxed));
            (total > 0).then_some(total)
        };
        let idle_for = |s: &State| {
            (s.busy.load(Ordering::Relaxed) == 0 && s.stalled_since.load(Ordering::Relaxed) == 0)
                .then(|| now.saturating_sub(s.active_at.load(Ordering::Relaxed)))
        };
        // 1. The address holding the most places, by at least two more than the newcomer's.
        if let Some((address, &most)) = inner.per_address.iter().max_by_key(|(_, n)| **n)
            && most >= mine + 2
        {
            let theirs = || inner.open.iter().filter(move |(_, e)| &e.address == address);
            let pick = theirs()
                .filter_map(|(id, e)| stalled_for(&e.state).map(|d| (*id, d)))
                .filter(|(_, d)| *d >= grace)
                .max_by_key(|(id, d)| (*d, std::cmp::Reverse(*id)))
                .or_else(|| {
                    theirs()
                        .filter_map(|(id, e)| idle_for(&e.state).map(|d| (*id, d)))
                        .max_by_key(|(id, d)| (*d, std::cmp::Reverse(*id)))
                })
                .map(|(id, _)| id);
            if let Some(id) = pick {
                return Some((id, Shed::Address));
            }
        }
        // 2. The longest stalled in all, past the grace.
        let stalled = inner
            .open
            .iter()
            .filter_map(|(id, e)| stalled_for(&e.state).map(|d| (*id, d)))
            .filter(|(_, d)| *d >= grace)
            .max_by_key(|(id, d)| (*d, std::cmp::Reverse(*id)));
        if let Some((id, _)) = stalled {
            return Some((id, Shed::Stalled));
        }
        // 3. The longest idle.
        inner
            .open
            .iter()
            .filter_map(|(id, e)| idle_for(&e.state).map(|d| (*id, d)))
            .max_by_key(|(id, d)| (*d, std::cmp::Reverse(*id)))
            .map(|(id, _)| (id, Shed::Idle))
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

impl Place {
    /// Resolves when the connection was shed to make room for a newcomer.
    pub async fn shed(&self) {
        self.state.shed.notified().await
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
        let (since, total) = (&self.state.body_since, &self.state.body_ms);
        if result.is_pending() {
            blocked(since, &self.table);
        } else {
            progressed(since, total, &self.state.active_at, &self.table);
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

/// The client did its part: the wait, if any, is added to the total.
fn progressed(since: &AtomicU64, total: &AtomicU64, active_at: &AtomicU64, table: &Connections) {
    let now = table.now();
    let was = since.swap(0, Ordering::Relaxed);
    if was != 0 {
        total.fetch_add(now.saturating_sub(was), Ordering::Relaxed);
        active_at.store(now, Ordering::Relaxed);
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
            Poll::Ready(_) => progressed(&s.stalled_since, &s.stalled_ms, &s.active_at, &self.table),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.active_at.store(self.table.now(), Ordering::Relaxed);
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note_write(&result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note_write(&result);
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

    fn stall(p: &Place, ago: Duration) {
        let at = p.table.now().saturating_sub(ago.as_millis() as u64).max(1);
        p.state.stalled_since.store(at, Ordering::Relaxed);
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
        stall(&a[0], Duration::from_millis(100));
        assert!(matches!(table.admit("c", true), Admission::Full));
        assert_eq!(table.open(), 3);
        // Once one is idle (its response sent), it makes room.
        drop(_busy);
        let (_c, shed) = admitted(table.admit("c", true));
        assert_eq!(shed, Some(Shed::Address));
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
        slow.state.body_since.store(table.now() - 1_500, Ordering::Relaxed);
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
    fn the_longest_stalled_is_shed_before_an_idle_one() {
        let table = Connections::new(3, 4);
        let a = admitted(table.admit("a", true)).0;
        let b = admitted(table.admit("b", true)).0;
        let c = admitted(table.admit("c", true)).0;
        stall(&b, Duration::from_secs(5));
        stall(&c, Duration::from_secs(2));
        let (_d, shed) = admitted(table.admit("d", true));
        assert_eq!(shed, Some(Shed::Stalled));
        assert!(!table.inner.lock().unwrap().open.contains_key(&b.id));
        // Waits are summed: a client that reads a little now and then (not waiting this
        // moment, 8 s of waits behind it) outranks one waiting 2 s now.
        a.state.stalled_ms.store(8_000, Ordering::Relaxed);
        let (_e, shed) = admitted(table.admit("e", true));
        assert_eq!(shed, Some(Shed::Stalled));
        assert!(!table.inner.lock().unwrap().open.contains_key(&a.id));
        // A stall shorter than the grace does not count as one.
        let e = Connections::new(1, 4);
        let x = admitted(e.admit("x", true)).0;
        let _busy = x.busy();
        stall(&x, Duration::from_millis(10));
        assert!(matches!(e.admit("y", true), Admission::Full));
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
