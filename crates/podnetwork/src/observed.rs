//! Reading `ip -json` and `bridge -json` output (pure).

use std::net::Ipv4Addr;

use serde_json::Value;

use crate::node_view::is_mac;
use crate::state::{FdbEntry, Neighbor, ObservedRoute};
use crate::PodNetworkError;

/// One interface of `ip -details -json addr show`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub mtu: u32,
    pub mac: String,
    pub up: bool,
    /// `linkinfo.info_kind`: `vxlan`, `veth`, `bridge`...
    pub kind: Option<String>,
    pub vxlan: Option<VxlanInfo>,
    /// IPv4 addresses with their prefix length.
    pub ipv4: Vec<(Ipv4Addr, u8)>,
}

/// `linkinfo.info_data` of a VXLAN device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VxlanInfo {
    pub vni: Option<u64>,
    pub local: Option<Ipv4Addr>,
    pub underlay: Option<String>,
    pub port: Option<u64>,
    pub learning: Option<bool>,
}

fn array(what: &str, json: &str) -> Result<Vec<Value>, PodNetworkError> {
    let bad = |detail: String| PodNetworkError::BadOutput {
        what: what.to_owned(),
        detail,
    };
    // `ip` prints nothing at all for an empty neighbor table on some versions.
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str(json) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(other) => Err(bad(format!("expected an array, got {other}"))),
        Err(e) => Err(bad(e.to_string())),
    }
}

fn text<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

fn ipv4(item: &Value, key: &str) -> Option<Ipv4Addr> {
    text(item, key).and_then(|ip| ip.parse().ok())
}

pub fn parse_links(json: &str) -> Result<Vec<Link>, PodNetworkError> {
    Ok(array("links", json)?
        .iter()
        .filter_map(|item| {
            let info = item.get("linkinfo");
            let data = info.and_then(|i| i.get("info_data"));
            let kind = info.and_then(|i| text(i, "info_kind")).map(str::to_owned);
            let vxlan = (kind.as_deref() == Some("vxlan")).then(|| VxlanInfo {
                vni: data.and_then(|d| d.get("id")).and_then(Value::as_u64),
                local: data.and_then(|d| ipv4(d, "local")),
                underlay: data.and_then(|d| text(d, "link")).map(str::to_owned),
                port: data.and_then(|d| d.get("port")).and_then(Value::as_u64),
                learning: data
                    .and_then(|d| d.get("learning"))
                    .and_then(Value::as_bool),
            });
            let flags = item.get("flags").and_then(Value::as_array);
            Some(Link {
                name: text(item, "ifname")?.to_owned(),
                mtu: item
                    .get("mtu")
                    .and_then(Value::as_u64)
                    .and_then(|mtu| u32::try_from(mtu).ok())
                    .unwrap_or(0),
                mac: text(item, "address").unwrap_or_default().to_owned(),
                up: flags.is_some_and(|f| f.iter().any(|flag| flag == "UP")),
                kind,
                vxlan,
                ipv4: item
                    .get("addr_info")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|a| text(a, "family") == Some("inet"))
                    .filter_map(|a| {
                        let prefix = a.get("prefixlen").and_then(Value::as_u64)?;
                        Some((ipv4(a, "local")?, u8::try_from(prefix).ok()?))
                    })
                    .collect(),
            })
        })
        .collect())
}

/// `ip -json route show proto 82`.
pub fn parse_routes(json: &str) -> Result<Vec<ObservedRoute>, PodNetworkError> {
    Ok(array("routes", json)?
        .iter()
        .filter_map(|item| {
            Some(ObservedRoute {
                dst: text(item, "dst")?.to_owned(),
                gateway: ipv4(item, "gateway"),
                device: text(item, "dev").map(str::to_owned),
            })
        })
        .collect())
}

/// `ip -json neigh show dev r8s.1`: the permanent entries (the ones r8s writes).
pub fn parse_neighbors(json: &str) -> Result<Vec<Neighbor>, PodNetworkError> {
    Ok(array("neighbors", json)?
        .iter()
        .filter(|item| {
            item.get("state")
                .and_then(Value::as_array)
                .is_some_and(|states| states.iter().any(|s| s == "PERMANENT"))
        })
        .filter_map(|item| {
            Some(Neighbor {
                ip: ipv4(item, "dst")?,
                mac: text(item, "lladdr")
                    .filter(|m| is_mac(m))?
                    .to_ascii_lowercase(),
            })
        })
        .collect())
}

/// `bridge -json fdb show dev r8s.1`: the entries with a remote destination.
pub fn parse_fdb(json: &str) -> Result<Vec<FdbEntry>, PodNetworkError> {
    Ok(array("fdb", json)?
        .iter()
        .filter_map(|item| {
            Some(FdbEntry {
                mac: text(item, "mac")
                    .filter(|m| is_mac(m))?
                    .to_ascii_lowercase(),
                dst: ipv4(item, "dst")?,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed output of iproute2 6.1 in a test namespace.
    const LINKS: &str = r#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"mtu":65536,"address":"00:00:00:00:00:00","addr_info":[]},
      {"ifindex":3,"link":"eth0p","ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"address":"aa:00:de:1e:aa:ba","linkinfo":{"info_kind":"veth"},
       "addr_info":[{"family":"inet","local":"192.168.9.2","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fe80::1","prefixlen":64}]},
      {"ifindex":4,"ifname":"r8s.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"address":"c2:5d:ca:ab:3c:7c",
       "linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"192.168.9.2","link":"eth0","port":8472,"learning":false}},
       "addr_info":[{"family":"inet","local":"10.42.0.0","prefixlen":32}]}]"#;

    #[test]
    fn links_with_addresses_and_vxlan_details() {
        let links = parse_links(LINKS).unwrap();
        assert_eq!(links.len(), 3);
        assert_eq!(links[1].name, "eth0");
        assert_eq!(links[1].mtu, 1500);
        assert!(links[1].up);
        assert_eq!(links[1].ipv4, [(Ipv4Addr::new(192, 168, 9, 2), 24)]);
        assert_eq!(links[1].vxlan, None);
        let vxlan = links[2].vxlan.as_ref().unwrap();
        assert_eq!(vxlan.vni, Some(1));
        assert_eq!(vxlan.local, Some(Ipv4Addr::new(192, 168, 9, 2)));
        assert_eq!(vxlan.underlay.as_deref(), Some("eth0"));
        assert_eq!(vxlan.port, Some(8472));
        assert_eq!(vxlan.learning, Some(false));
        assert_eq!(links[2].mac, "c2:5d:ca:ab:3c:7c");
    }

    #[test]
    fn routes_neighbors_and_fdb() {
        let routes = parse_routes(
            r#"[{"dst":"10.42.1.0/24","gateway":"10.42.1.0","dev":"r8s.1","flags":["onlink"]},
                {"dst":"10.42.2.0/24","gateway":"192.168.9.3","dev":"eth0","flags":[]}]"#,
        )
        .unwrap();
        assert_eq!(routes[1].dst, "10.42.2.0/24");
        assert_eq!(routes[1].gateway, Some(Ipv4Addr::new(192, 168, 9, 3)));
        assert_eq!(routes[0].device.as_deref(), Some("r8s.1"));
        let neighbors = parse_neighbors(
            r#"[{"dst":"10.42.1.0","lladdr":"AA:bb:cc:dd:ee:ff","state":["PERMANENT"]},
                {"dst":"10.42.5.0","lladdr":"aa:bb:cc:dd:ee:00","state":["STALE"]}]"#,
        )
        .unwrap();
        assert_eq!(
            neighbors,
            [Neighbor {
                ip: Ipv4Addr::new(10, 42, 1, 0),
                mac: "aa:bb:cc:dd:ee:ff".into()
            }]
        );
        let fdb = parse_fdb(
            r#"[{"mac":"aa:bb:cc:dd:ee:ff","dst":"192.168.9.3","flags":["self"],"state":"permanent"},
                {"mac":"c2:5d:ca:ab:3c:7c","flags":["self"],"state":"permanent"}]"#,
        )
        .unwrap();
        assert_eq!(
            fdb,
            [FdbEntry {
                mac: "aa:bb:cc:dd:ee:ff".into(),
                dst: Ipv4Addr::new(192, 168, 9, 3)
            }]
        );
        assert_eq!(parse_neighbors("").unwrap(), []);
        assert!(parse_routes("{").is_err());
    }
}
