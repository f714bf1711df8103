//! The machine's own addresses: the node IP an agent reports, and the addresses a server listening
//! on all interfaces puts into its serving certificate.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

/// The source address of the default route, else the first global IPv4 address, else loopback.
/// Connecting a UDP socket only consults the routing table: nothing is sent.
pub fn detect_node_ip() -> IpAddr {
    let via_default_route = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|socket| {
            socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
            socket.local_addr()
        })
        .map(|addr| addr.ip());
    if let Ok(ip) = via_default_route {
        if !ip.is_unspecified() {
            return ip;
        }
    }
    global_ipv4_addresses()
        .into_iter()
        .next()
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Every global-scope IPv4 address of this network namespace, as `ip -4 -o addr` lists them.
pub fn global_ipv4_addresses() -> Vec<IpAddr> {
    let Ok(output) = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
    else {
        return Vec::new();
    };
    parse_ip_addr_lines(&String::from_utf8_lossy(&output.stdout))
}

fn parse_ip_addr_lines(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet")?;
            words.next()?.split('/').next()?.parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_inet_words() {
        let text =
            "2: node0    inet 192.168.77.2/24 scope global node0\\       valid_lft forever\n\
                    3: cni0    inet 10.42.0.1/24 brd 10.42.0.255 scope global cni0\n";
        assert_eq!(
            parse_ip_addr_lines(text),
            vec![
                IpAddr::from([192, 168, 77, 2]),
                IpAddr::from([10, 42, 0, 1])
            ]
        );
    }
}
