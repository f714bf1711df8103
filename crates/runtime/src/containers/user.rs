//! Who the container's process runs as: numeric ids from the security context, or a user name
//! (from the context or the image's `User`) looked up in the image's /etc/passwd.

use std::path::PathBuf;

use k8s_cri::v1 as cri;

use super::image_files::read_merged;
use crate::RuntimeError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
}

fn passwd(layers: &[PathBuf]) -> Vec<PasswdEntry> {
    let text = read_merged(layers, "etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: fields.first()?.to_string(),
                uid: fields.get(2)?.parse().ok()?,
                gid: fields.get(3)?.parse().ok()?,
            })
        })
        .collect()
}

/// `(name, gid, members)` from /etc/group.
fn groups(layers: &[PathBuf]) -> Vec<(String, u32, Vec<String>)> {
    let text = read_merged(layers, "etc/group").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let members = fields
                .get(3)
                .map(|m| {
                    m.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some((
                fields.first()?.to_string(),
                fields.get(2)?.parse().ok()?,
                members,
            ))
        })
        .collect()
}

pub fn resolve(
    security: Option<&cri::LinuxContainerSecurityContext>,
    image_user: &str,
    layers: &[PathBuf],
) -> Result<ResolvedUser, RuntimeError> {
    let passwd = passwd(layers);
    let groups = groups(layers);
    let by_uid = |uid: u32| passwd.iter().find(|e| e.uid == uid);
    let by_name = |name: &str| passwd.iter().find(|e| e.name == name);

    let (user_part, group_part) = match image_user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (image_user, None),
    };
    let (uid, mut gid, name) = if let Some(uid) = security.and_then(|s| s.run_as_user.as_ref()) {
        let uid = id_from(uid.value)?;
        let entry = by_uid(uid);
        (
            uid,
            entry.map(|e| e.gid).unwrap_or(0),
            entry.map(|e| e.name.clone()),
        )
    } else {
        let name = security
            .map(|s| s.run_as_username.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or(user_part);
        if name.is_empty() {
            (
                0,
                by_uid(0).map(|e| e.gid).unwrap_or(0),
                Some("root".into()),
            )
        } else if let Ok(uid) = name.parse::<u32>() {
            let entry = by_uid(uid);
            (
                uid,
                entry.map(|e| e.gid).unwrap_or(0),
                entry.map(|e| e.name.clone()),
            )
        } else {
            let entry = by_name(name).ok_or_else(|| {
                RuntimeError::InvalidArgument(format!(
                    "no user {name:?} in the image's /etc/passwd"
                ))
            })?;
            (entry.uid, entry.gid, Some(entry.name.clone()))
        }
    };
    if let Some(group) = group_part.filter(|g| !g.is_empty()) {
        gid = match group.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => groups
                .iter()
                .find(|(name, _, _)| name == group)
                .map(|(_, gid, _)| *gid)
                .ok_or_else(|| {
                    RuntimeError::InvalidArgument(format!(
                        "no group {group:?} in the image's /etc/group"
                    ))
                })?,
        };
    }
    if let Some(group) = security.and_then(|s| s.run_as_group.as_ref()) {
        gid = id_from(group.value)?;
    }
    let mut additional_gids: Vec<u32> = match &name {
        Some(name) => groups
            .iter()
            .filter(|(_, _, members)| members.contains(name))
            .map(|(_, gid, _)| *gid)
            .collect(),
        None => Vec::new(),
    };
    for group in security
        .map(|s| s.supplemental_groups.as_slice())
        .unwrap_or_default()
    {
        additional_gids.push(id_from(*group)?);
    }
    additional_gids.retain(|g| *g != gid);
    additional_gids.sort_unstable();
    additional_gids.dedup();
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
    })
}

fn id_from(value: i64) -> Result<u32, RuntimeError> {
    u32::try_from(value)
        .map_err(|_| RuntimeError::InvalidArgument(format!("invalid user or group id {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34::/var/www:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nwww:x:34:\nadm:x:4:www\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn image_user_names_resolve_through_passwd() {
        let dir = rootfs();
        let user = resolve(None, "www", &[dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            user,
            ResolvedUser {
                uid: 33,
                gid: 34,
                additional_gids: vec![4]
            }
        );
        assert_eq!(
            resolve(None, "1000:adm", &[dir.path().to_path_buf()])
                .unwrap()
                .gid,
            4
        );
        assert_eq!(
            resolve(None, "", &[dir.path().to_path_buf()]).unwrap(),
            ResolvedUser::default()
        );
        assert!(resolve(None, "nobody", &[dir.path().to_path_buf()]).is_err());
    }

    #[test]
    fn security_context_ids_win() {
        let dir = rootfs();
        let security = cri::LinuxContainerSecurityContext {
            run_as_user: Some(cri::Int64Value { value: 33 }),
            run_as_group: Some(cri::Int64Value { value: 99 }),
            supplemental_groups: vec![5, 99],
            ..Default::default()
        };
        let user = resolve(Some(&security), "root", &[dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            user,
            ResolvedUser {
                uid: 33,
                gid: 99,
                additional_gids: vec![4, 5]
            }
        );
    }
}
