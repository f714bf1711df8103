//! User from a verified client certificate: user = CN, groups = O.

use super::UserInfo;

/// The user named by a client certificate (already verified against the CA by TLS).
pub fn user_from_client_cert(der: &[u8]) -> Option<UserInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())?
        .to_string();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_string))
        .collect();
    Some(
        UserInfo {
            name,
            uid: String::new(),
            groups,
        }
        .with_authenticated_group(),
    )
}
