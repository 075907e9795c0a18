//! Who the client is, behind a reverse proxy. The per-client limits (`ratelimit::ClientKey`)
//! key on the peer's address as the socket sees it, unless that peer is one of the proxies
//! named in `STREETPLANNER_TRUSTED_PROXIES` (addresses or CIDR networks). From a trusted peer
//! the proxy header is read (`X-Forwarded-For`, or RFC 7239 `Forwarded` when
//! `STREETPLANNER_FORWARDED_HEADER=forwarded`) from the right: each hop a trusted proxy
//! added is skipped, and the first address not itself a trusted proxy is the client. Hops
//! further left were written by the client and are never believed, so a client cannot choose
//! its own key by sending the header itself.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::ratelimit::ClientKey;

/// The most hops read from the right of a proxy header: deployments have one or two proxies;
/// a longer chain is client-written padding.
pub const MAX_HOPS: usize = 16;

/// Which header the trusted proxies set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, …` (nginx's `$proxy_add_x_forwarded_for`).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1, …`.
    Forwarded,
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parses a comma- or space-separated list of addresses and CIDR networks
    /// (`10.0.0.1, 192.168.0.0/16, ::1`).
    pub fn parse(list: &str, header: ForwardedHeader) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let net = match IpNet::from_str(item) {
                Ok(n) => n,
                Err(_) => IpAddr::from_str(item).map(IpNet::from).map_err(|_| {
                    format!("STREETPLANNER_TRUSTED_PROXIES: `{item}` is neither an address nor a CIDR network")
                })?,
            };
            nets.push(net.trunc());
        }
        Ok(TrustedProxies { nets, header })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: the peer's, or (from a trusted peer) the rightmost hop of the
    /// proxy header that is not a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in hops(headers, self.header).into_iter().take(MAX_HOPS) {
            match hop {
                // A hop that is not an address (`unknown`, an obfuscated name, garbage): the
                // chain cannot be followed further; the last proxy stands for the client.
                None => return client,
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        return ip;
                    }
                }
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops of the chosen header, rightmost (nearest) first. Several header lines count as
/// one list in order (RFC 7230 §3.2.2).
fn hops(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    };
    let mut out = Vec::new();
    for value in headers.get_all(name).iter().rev() {
        // Split the raw bytes: a hop that is not visible ASCII (obs-text the client wrote) is
        // garbage on its own, and the hops the proxies appended to its right are still read.
        for element in value.as_bytes().rsplit(|b| *b == b',') {
            let element = std::str::from_utf8(element).ok().filter(|e| e.is_ascii());
            let ip = match (header, element) {
                (_, None) => None,
                (ForwardedHeader::XForwardedFor, Some(e)) => parse_node(e.trim()),
                (ForwardedHeader::Forwarded, Some(e)) => forwarded_for(e),
            };
            out.push(ip);
            if out.len() >= MAX_HOPS {
                return out;
            }
        }
    }
    out
}

/// The `for=` node of one RFC 7239 forwarded-element (`for=192.0.2.60;proto=http`). An
/// element with two `for=` pairs, or a value with a quote that does not enclose it whole
/// (`host="x,for=…"` split at its comma), is garbage: a proxy that copied client text into
/// its own element cannot hand the client a node of its choosing.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let mut node = None;
    for pair in element.split(';') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let bare = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => inner,
            None => value,
        };
        if bare.contains('"') {
            return None;
        }
        if key.trim().eq_ignore_ascii_case("for") {
            if node.is_some() {
                return None;
            }
            node = Some(parse_node(bare)?);
        }
    }
    node
}

/// A node: `192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(node) {
        return Some(ip);
    }
    if let Ok(sa) = SocketAddr::from_str(node) {
        return Some(sa.ip());
    }
    let inner = node.strip_prefix('[')?.strip_suffix(']')?;
    IpAddr::from_str(inner).ok()
}

/// Puts the caller's `ClientKey` (and its address, `ClientIp`) into the request's extensions.
/// A request that did not come through a socket (tests calling the router directly) is
/// `local`.
pub async fn client_key(State(trusted): State<Arc<TrustedProxies>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let key = match peer {
        Some(peer) => {
            let ip = trusted.client_ip(peer, req.headers());
            req.extensions_mut().insert(ClientIp(ip));
            ClientKey::from_ip(ip)
        }
        None => ClientKey("local".to_string()),
    };
    req.extensions_mut().insert(key);
    next.run(req).await
}

/// The client's address as `client_key` found it (for logs).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_are_their_socket_address() {
        let t = TrustedProxies::parse("10.0.0.0/8", ForwardedHeader::XForwardedFor).unwrap();
        let h = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(t.client_ip(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.1, 10.1.0.0/16", ForwardedHeader::XForwardedFor).unwrap();
        // The client sent a spoofed X-Forwarded-For; the proxy appended the real address.
        let h = headers("x-forwarded-for", &["1.2.3.4, 203.0.113.9"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Two proxies: the inner one's hop is skipped.
        let h = headers("x-forwarded-for", &["1.2.3.4", "203.0.113.9, 10.1.2.3"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // No header from a trusted peer: the peer itself.
        assert_eq!(t.client_ip(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        // Garbage stops the walk at the last proxy.
        let h = headers("x-forwarded-for", &["203.0.113.9, not-an-address"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // Ports and brackets.
        let h = headers("x-forwarded-for", &["[2001:db8::7]:4711"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("2001:db8::7"));
        // An IPv4-mapped peer is the IPv4 address.
        assert_eq!(
            t.client_ip(ip("::ffff:10.0.0.1"), &headers("x-forwarded-for", &["203.0.113.9"])),
            ip("203.0.113.9")
        );
    }

    /// Bytes the client wrote that are not visible ASCII (`\xff`, UTF-8, obs-text)
    /// are garbage in the client's own hop only: the hops the proxies appended to the right are
    /// still read, so such a header cannot move a client onto the proxy's key.
    #[test]
    fn client_written_bytes_that_are_not_ascii_do_not_hide_the_hops_proxies_added() {
        let t = TrustedProxies::parse("10.0.0.1", ForwardedHeader::XForwardedFor).unwrap();
        for spoof in [
            &b"\xff"[..],
            b"\xfe\xfe",
            "客户端".as_bytes(),
            b"1.2.3.4\xa0",
            b"\x80\t\x80",
        ] {
            let mut value = spoof.to_vec();
            value.extend_from_slice(b", 203.0.113.9");
            let mut h = HeaderMap::new();
            h.append("x-forwarded-for", HeaderValue::from_bytes(&value).unwrap());
            assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"), "{spoof:?}");
            // As an earlier header line of its own.
            let mut h = HeaderMap::new();
            h.append("x-forwarded-for", HeaderValue::from_bytes(spoof).unwrap());
            h.append("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
            assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"), "{spoof:?}");
        }
        let t = TrustedProxies::parse("10.0.0.1", ForwardedHeader::Forwarded).unwrap();
        let mut h = HeaderMap::new();
        h.append(
            "forwarded",
            HeaderValue::from_bytes(b"for=\xff\xfe, for=203.0.113.9;proto=http").unwrap(),
        );
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Garbage in the hop the nearest proxy vouches for still stops the walk there.
        let t = TrustedProxies::parse("10.0.0.1", ForwardedHeader::XForwardedFor).unwrap();
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"203.0.113.9, \xff").unwrap(),
        );
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn rfc7239_forwarded() {
        let t = TrustedProxies::parse("10.0.0.1", ForwardedHeader::Forwarded).unwrap();
        let h = headers(
            "forwarded",
            &[r#"for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.1"#],
        );
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers("forwarded", &["For=192.0.2.60;proto=http"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("192.0.2.60"));
        let h = headers("forwarded", &["for=unknown"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // Client text a proxy copied into its own element: an unbalanced quote or a second
        // `for=` makes the element garbage, and the walk stops at the last proxy.
        let h = headers("forwarded", &[r#"for=1.2.3.4;host="x,for=5.6.7.8""#]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let h = headers("forwarded", &["for=192.0.2.60;for=192.0.2.61"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let h = headers("forwarded", &[r#"for=192.0.2.60;proto="ht"tp""#]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // X-Forwarded-For is not read when Forwarded is the configured header.
        let h = headers("x-forwarded-for", &["192.0.2.60"]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn a_chain_of_trusted_hops_is_bounded() {
        let t = TrustedProxies::parse("10.0.0.0/8", ForwardedHeader::XForwardedFor).unwrap();
        let chain = vec!["10.9.9.9"; 10_000].join(", ");
        let h = headers("x-forwarded-for", &[&format!("203.0.113.9, {chain}")]);
        // Only MAX_HOPS are read: the client hid behind too many hops gets a proxy's key.
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("10.9.9.9"));
    }

    #[test]
    fn the_list_is_checked() {
        assert!(TrustedProxies::parse("10.0.0.0/33", ForwardedHeader::XForwardedFor).is_err());
        assert!(TrustedProxies::parse("proxy.example", ForwardedHeader::XForwardedFor).is_err());
        let t = TrustedProxies::parse(" 10.0.0.1  ::1,192.168.0.0/16 ", ForwardedHeader::XForwardedFor).unwrap();
        assert_eq!(t.nets.len(), 3);
    }
}
