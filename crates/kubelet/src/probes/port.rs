//! Probe and hook ports: a number, or the name of one of the container's ports.

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Resolves `port` (named ports against `container`'s ports).
pub fn resolve_port(port: &IntOrString, container: Option<&Container>) -> Result<u16, String> {
    let number = match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => match name.parse::<i32>() {
            Ok(n) => n,
            Err(_) => container
                .and_then(|c| c.ports.as_ref())
                .and_then(|ports| ports.iter().find(|p| p.name.as_deref() == Some(name)))
                .map(|p| p.container_port)
                .ok_or_else(|| format!("couldn't find port: {name} in container"))?,
        },
    };
    u16::try_from(number)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid port number: {number}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ContainerPort;

    #[test]
    fn named_and_numbered_ports() {
        let container = Container {
            name: "c".into(),
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(resolve_port(&IntOrString::Int(80), None), Ok(80));
        assert_eq!(
            resolve_port(&IntOrString::String("81".into()), None),
            Ok(81)
        );
        assert_eq!(
            resolve_port(&IntOrString::String("http".into()), Some(&container)),
            Ok(8080)
        );
        assert!(resolve_port(&IntOrString::String("nope".into()), Some(&container)).is_err());
        assert!(resolve_port(&IntOrString::Int(0), None).is_err());
    }
}
