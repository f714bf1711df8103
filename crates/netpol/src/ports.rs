//! What a rule's `ports` entries mean, before named ports are looked up on pods.

use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::cluster::PodInfo;
use crate::rules::{PortMatch, Protocol};

/// One `ports` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    /// Known without looking at pods: a protocol, a port or a range.
    Fixed(PortMatch),
    /// A container port name, looked up on the destination pod.
    Named { protocol: Protocol, name: String },
    /// Unusable (unknown protocol, port out of range): matches nothing.
    Nothing,
}

/// The entries of a rule's port list; an empty or missing list means any port.
pub fn resolve_ports(ports: Option<&[NetworkPolicyPort]>) -> Vec<PortSpec> {
    match ports {
        None | Some([]) => vec![PortSpec::Fixed(PortMatch::Any)],
        Some(ports) => ports.iter().map(port_spec).collect(),
    }
}

fn port_spec(port: &NetworkPolicyPort) -> PortSpec {
    let Some(protocol) = Protocol::from_api(port.protocol.as_deref()) else {
        return PortSpec::Nothing;
    };
    match &port.port {
        None => PortSpec::Fixed(PortMatch::Protocol(protocol)),
        Some(IntOrString::String(name)) => PortSpec::Named {
            protocol,
            name: name.clone(),
        },
        Some(IntOrString::Int(number)) => {
            let first = u16::try_from(*number).ok().filter(|port| *port > 0);
            let last = port.end_port.map_or(first, |end| u16::try_from(end).ok());
            match (first, last) {
                (Some(first), Some(last)) if first <= last => PortSpec::Fixed(PortMatch::Range {
                    protocol,
                    first,
                    last,
                }),
                _ => PortSpec::Nothing,
            }
        }
    }
}

impl PortSpec {
    /// The port match on traffic to `destination`, if this entry can match it at all.
    pub fn on_destination(&self, destination: &PodInfo) -> Option<PortMatch> {
        match self {
            PortSpec::Fixed(port) => Some(*port),
            PortSpec::Named { protocol, name } => {
                destination
                    .named_port(name, *protocol)
                    .map(|port| PortMatch::Range {
                        protocol: *protocol,
                        first: port,
                        last: port,
                    })
            }
            PortSpec::Nothing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(protocol: Option<&str>, port: Option<IntOrString>, end: Option<i32>) -> PortSpec {
        port_spec(&NetworkPolicyPort {
            protocol: protocol.map(str::to_string),
            port,
            end_port: end,
        })
    }

    #[test]
    fn entries() {
        let range = |protocol, first, last| {
            PortSpec::Fixed(PortMatch::Range {
                protocol,
                first,
                last,
            })
        };
        assert_eq!(
            port(None, Some(IntOrString::Int(80)), None),
            range(Protocol::Tcp, 80, 80)
        );
        assert_eq!(
            port(Some("UDP"), Some(IntOrString::Int(32000)), Some(32768)),
            range(Protocol::Udp, 32000, 32768)
        );
        assert_eq!(
            port(Some("SCTP"), None, None),
            PortSpec::Fixed(PortMatch::Protocol(Protocol::Sctp))
        );
        assert_eq!(
            port(None, Some(IntOrString::String("http".into())), None),
            PortSpec::Named {
                protocol: Protocol::Tcp,
                name: "http".into()
            }
        );
        assert_eq!(port(Some("ICMP"), None, None), PortSpec::Nothing);
        assert_eq!(
            port(None, Some(IntOrString::Int(70000)), None),
            PortSpec::Nothing
        );
        assert_eq!(
            port(None, Some(IntOrString::Int(90)), Some(80)),
            PortSpec::Nothing
        );
        assert_eq!(
            resolve_ports(Some(&[])),
            vec![PortSpec::Fixed(PortMatch::Any)]
        );
    }
}
