//! Forwarding names outside the cluster to the node's own nameservers, as CoreDNS's
//! `forward . /etc/resolv.conf`: UDP first, TCP when the answer was truncated.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one upstream may take before the next is tried.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// Room for any UDP answer.
const MAX_UDP_ANSWER: usize = 65_535;
/// The header flag for a truncated message (byte 2, bit 1).
const TRUNCATED_FLAG: u8 = 0x02;

/// The nameservers answering names that are not the cluster's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstreams {
    pub servers: Vec<SocketAddr>,
}

impl Upstreams {
    /// The `nameserver` lines of a resolv.conf, without any of `exclude` (this server's own
    /// addresses: forwarding to them would loop).
    pub fn from_resolv_conf(text: &str, exclude: &[IpAddr]) -> Self {
        let servers = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                match (words.next(), words.next()) {
                    (Some("nameserver"), Some(address)) => address.parse::<IpAddr>().ok(),
                    _ => None,
                }
            })
            .filter(|ip| !exclude.contains(ip))
            .map(|ip| SocketAddr::new(ip, 53))
            .collect();
        Self { servers }
    }

    /// Sends the raw `query` to each upstream in turn; the first answer wins. `None` when none
    /// answered in time.
    pub async fn forward(&self, query: &[u8]) -> Option<Vec<u8>> {
        for server in &self.servers {
            match tokio::time::timeout(UPSTREAM_TIMEOUT, exchange(*server, query)).await {
                Ok(Ok(answer)) => return Some(answer),
                Ok(Err(error)) => tracing::debug!(%server, %error, "upstream DNS failed"),
                Err(_) => tracing::debug!(%server, "upstream DNS timed out"),
            }
        }
        None
    }
}

async fn exchange(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let answer = exchange_udp(server, query).await?;
    if answer
        .get(2)
        .is_some_and(|flags| flags & TRUNCATED_FLAG != 0)
    {
        return exchange_tcp(server, query).await;
    }
    Ok(answer)
}

async fn exchange_udp(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(query).await?;
    let mut buffer = vec![0; MAX_UDP_ANSWER];
    loop {
        let length = socket.recv(&mut buffer).await?;
        // A stray datagram with another id is not our answer.
        if length >= 2 && query.len() >= 2 && buffer[..2] == query[..2] {
            buffer.truncate(length);
            return Ok(buffer);
        }
    }
}

async fn exchange_tcp(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let length = u16::try_from(query.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "query too long"))?;
    let mut stream = TcpStream::connect(server).await?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let answer_length = stream.read_u16().await?;
    let mut answer = vec![0; usize::from(answer_length)];
    stream.read_exact(&mut answer).await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_come_from_resolv_conf_without_our_own_addresses() {
        let text = "# comment\nsearch example.com\nnameserver 192.168.1.1\nnameserver 10.43.0.10\n\
                    nameserver  fd00::1 \noptions ndots:5\nnameserver bogus\n";
        let upstreams = Upstreams::from_resolv_conf(text, &[IpAddr::from([10, 43, 0, 10])]);
        assert_eq!(
            upstreams.servers,
            vec![
                "192.168.1.1:53".parse::<SocketAddr>().unwrap(),
                "[fd00::1]:53".parse().unwrap()
            ]
        );
    }

    #[tokio::test]
    async fn forwards_to_an_upstream_and_relays_its_answer() {
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buffer = [0; 512];
            let (length, from) = upstream.recv_from(&mut buffer).await.unwrap();
            let mut answer = buffer[..length].to_vec();
            answer[2] |= 0x80;
            upstream.send_to(&answer, from).await.unwrap();
        });
        let upstreams = Upstreams {
            servers: vec![address],
        };
        let answer = upstreams
            .forward(&[0x12, 0x34, 0x01, 0, 0, 0])
            .await
            .unwrap();
        assert_eq!(answer, [0x12, 0x34, 0x81, 0, 0, 0]);
    }
}
