//! Where pushes may go. A push endpoint is a URL anyone may register, so the delivery
//! client resolves host names to public addresses only: a name pointing into this
//! network (DNS set up for it, `localhost.`, `*.localhost`) cannot make the server call
//! its neighbours. Address literals are refused before an endpoint is stored
//! ([`parse_endpoint`](super::parse_endpoint)); this covers names, at every connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::{Error, Result};

/// The delivery client ([`crate::https`]'s) with [`PublicOnly`] as its resolver.
pub(super) fn client(timeout: Duration, allow_loopback: bool) -> Result<reqwest::Client> {
    crate::https::builder(timeout)?.dns_resolver(PublicOnly { allow_loopback }).build().map_err(Error::internal)
}

/// The system's resolver, keeping only public addresses; with `allow_loopback`,
/// loopback ones too (a local stand-in). The connection goes to the addresses checked
/// here, so a name cannot resolve to a public address when checked and a private one
/// when used.
#[derive(Clone, Copy, Debug)]
struct PublicOnly {
    allow_loopback: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let usable: Vec<SocketAddr> =
                found.filter(|a| is_public(a.ip()) || (allow_loopback && a.ip().is_loopback())).collect();
            if usable.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: none of the special-purpose ranges of
/// RFC 6890 and its successors (this network, private, shared, loopback, link-local,
/// documentation, benchmarking, multicast, reserved), nor an IPv6 form that embeds an
/// IPv4 address (mapped, compatible, NAT64, 6to4), which could lead back to one.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // this network
        || ip.is_private()
        || (a == 100 && b & 0xc0 == 64) // shared address space (carrier-grade NAT)
        || ip.is_loopback()
        || ip.is_link_local() // 169.254/16: cloud metadata services live here
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && b & 0xfe == 18) // benchmarking
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.to_ipv4().is_some() // IPv4-mapped and IPv4-compatible
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64
        || s[0] == 0x2002 // 6to4
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0] & 0xfe00 == 0xfc00 // unique local
        || s[0] & 0xffc0 == 0xfe80 // link-local
        || s[0] & 0xffc0 == 0xfec0; // site-local (deprecated)
    !special
}

#[cfg(test)]
mod tests {
    use reqwest::dns::Resolve as _;

    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for public in ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"] {
            assert!(public.parse().is_ok_and(is_public), "{public}");
        }
        for special in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.8",
            "100.64.0.1",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "2001:db8::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(special.parse().is_ok_and(|ip| !is_public(ip)), "{special}");
        }
        // Neighbours of the ranges are public.
        for public in ["172.32.0.1", "100.128.0.1", "198.20.0.1", "11.0.0.1"] {
            assert!(public.parse().is_ok_and(is_public), "{public}");
        }
    }

    #[tokio::test]
    async fn a_name_of_this_machine_resolves_only_where_loopback_is_allowed() -> Result<()> {
        let name = || "localhost".parse::<reqwest::dns::Name>().map_err(Error::internal);
        let refused = PublicOnly { allow_loopback: false }.resolve(name()?).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("no public address")));
        let allowed = PublicOnly { allow_loopback: true }.resolve(name()?).await.map_err(Error::internal)?;
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
        Ok(())
    }

    /// The delivery client calls a name of this machine only where loopback is allowed.
    #[tokio::test]
    async fn the_delivery_client_calls_loopback_names_only_where_allowed() -> Result<()> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(Error::internal)?;
        let url = format!("http://localhost:{}/push", listener.local_addr().map_err(Error::internal)?.port());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut head = [0_u8; 1024];
                let _ = stream.read(&mut head).await;
                let _ = stream.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n").await;
            }
        });
        let timeout = Duration::from_secs(5);
        let refused = client(timeout, false)?.post(&url).send().await;
        assert!(refused.is_err(), "{refused:?}");
        let sent = client(timeout, true)?.post(&url).send().await.map_err(Error::internal)?;
        assert_eq!(sent.status(), reqwest::StatusCode::CREATED);
        Ok(())
    }
}
