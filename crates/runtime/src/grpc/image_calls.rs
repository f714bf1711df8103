//! ImageService calls.

use base64::Engine as _;
use k8s_cri::v1 as cri;

use crate::images::{ImageRecord, RegistryCredentials};
use crate::{Runtime, RuntimeError};

fn image_name(spec: Option<&cri::ImageSpec>) -> Result<&str, RuntimeError> {
    match spec.map(|spec| spec.image.as_str()) {
        Some(image) if !image.is_empty() => Ok(image),
        _ => Err(RuntimeError::InvalidArgument(
            "image spec is required".into(),
        )),
    }
}

pub async fn list_images(
    runtime: &Runtime,
    request: cri::ListImagesRequest,
) -> Result<cri::ListImagesResponse, RuntimeError> {
    let wanted = match request.filter.as_ref().and_then(|f| f.image.as_ref()) {
        Some(spec) if !spec.image.is_empty() => match runtime.images.status(&spec.image).await? {
            Some(record) => Some(record.id),
            None => return Ok(cri::ListImagesResponse { images: Vec::new() }),
        },
        _ => None,
    };
    let mut images = Vec::new();
    for record in runtime.images.list().await? {
        if wanted.as_ref().is_none_or(|id| *id == record.id) {
            images.push(to_cri_image(runtime, &record).await?);
        }
    }
    Ok(cri::ListImagesResponse { images })
}

pub async fn image_status(
    runtime: &Runtime,
    request: cri::ImageStatusRequest,
) -> Result<cri::ImageStatusResponse, RuntimeError> {
    let name = image_name(request.image.as_ref())?;
    let Some(record) = runtime.images.status(name).await? else {
        return Ok(cri::ImageStatusResponse::default());
    };
    let image = to_cri_image(runtime, &record).await?;
    let mut info = std::collections::HashMap::new();
    if request.verbose {
        let verbose = serde_json::json!({
            "manifestDigest": record.manifest_digest,
            "layers": record.layers,
            "imageSpec": runtime.images.config(&record).await?,
        });
        info.insert("info".to_string(), verbose.to_string());
    }
    Ok(cri::ImageStatusResponse {
        image: Some(image),
        info,
    })
}

pub async fn pull_image(
    runtime: &Runtime,
    request: cri::PullImageRequest,
) -> Result<cri::PullImageResponse, RuntimeError> {
    let name = image_name(request.image.as_ref())?;
    let credentials = credentials_from(request.auth.as_ref())?;
    let image_ref = runtime.images.pull(name, credentials).await?;
    Ok(cri::PullImageResponse { image_ref })
}

pub async fn remove_image(
    runtime: &Runtime,
    request: cri::RemoveImageRequest,
) -> Result<cri::RemoveImageResponse, RuntimeError> {
    let name = image_name(request.image.as_ref())?;
    runtime.images.remove(name).await?;
    Ok(cri::RemoveImageResponse {})
}

pub async fn image_fs_info(
    runtime: &Runtime,
    _request: cri::ImageFsInfoRequest,
) -> Result<cri::ImageFsInfoResponse, RuntimeError> {
    let usage = runtime.images.usage().await?;
    let timestamp = jiff::Timestamp::now().as_nanosecond() as i64;
    let filesystem = cri::FilesystemUsage {
        timestamp,
        fs_id: Some(cri::FilesystemIdentifier {
            mountpoint: runtime
                .images
                .snapshots_dir()
                .to_string_lossy()
                .into_owned(),
        }),
        used_bytes: Some(cri::UInt64Value { value: usage.bytes }),
        inodes_used: Some(cri::UInt64Value {
            value: usage.inodes,
        }),
    };
    Ok(cri::ImageFsInfoResponse {
        image_filesystems: vec![filesystem],
        container_filesystems: Vec::new(),
    })
}

/// Kubelet's pull secrets: username/password, a base64 `user:password` in `auth`, or a registry token.
fn credentials_from(auth: Option<&cri::AuthConfig>) -> Result<RegistryCredentials, RuntimeError> {
    let Some(auth) = auth else {
        return Ok(RegistryCredentials::Anonymous);
    };
    if !auth.username.is_empty() || !auth.password.is_empty() {
        return Ok(RegistryCredentials::Basic {
            username: auth.username.clone(),
            password: auth.password.clone(),
        });
    }
    if !auth.auth.is_empty() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.auth.trim())
            .map_err(|e| RuntimeError::InvalidArgument(format!("auth is not base64: {e}")))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| RuntimeError::InvalidArgument("auth is not UTF-8".into()))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| RuntimeError::InvalidArgument("auth is not user:password".into()))?;
        return Ok(RegistryCredentials::Basic {
            username: username.to_string(),
            password: password.to_string(),
        });
    }
    if !auth.registry_token.is_empty() {
        return Ok(RegistryCredentials::Bearer(auth.registry_token.clone()));
    }
    if !auth.identity_token.is_empty() {
        return Ok(RegistryCredentials::Bearer(auth.identity_token.clone()));
    }
    Ok(RegistryCredentials::Anonymous)
}

async fn to_cri_image(runtime: &Runtime, record: &ImageRecord) -> Result<cri::Image, RuntimeError> {
    let config = runtime.images.config(record).await?;
    let user = config
        .config()
        .as_ref()
        .and_then(|c| c.user().clone())
        .unwrap_or_default();
    let (uid, username) = user_of(&user);
    Ok(cri::Image {
        id: record.id.clone(),
        repo_tags: record.repo_tags.clone(),
        repo_digests: record.repo_digests.clone(),
        size: record.size,
        uid: uid.map(|value| cri::Int64Value { value }),
        username,
        spec: Some(cri::ImageSpec {
            image: record.id.clone(),
            ..Default::default()
        }),
        pinned: false,
    })
}

/// The image's `User` as CRI reports it: a numeric uid, or else a user name (empty means root).
fn user_of(user: &str) -> (Option<i64>, String) {
    let name = user.split(':').next().unwrap_or_default();
    if name.is_empty() {
        return (None, String::new());
    }
    match name.parse::<i64>() {
        Ok(uid) => (Some(uid), String::new()),
        Err(_) => (None, name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_uids_or_names() {
        assert_eq!(user_of(""), (None, String::new()));
        assert_eq!(user_of("1000:1000"), (Some(1000), String::new()));
        assert_eq!(user_of("nobody"), (None, "nobody".to_string()));
    }

    #[test]
    fn credentials_come_from_any_auth_form() {
        let basic = RegistryCredentials::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let from_fields = cri::AuthConfig {
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        assert_eq!(credentials_from(Some(&from_fields)).unwrap(), basic);
        let from_auth = cri::AuthConfig {
            auth: base64::engine::general_purpose::STANDARD.encode("u:p"),
            ..Default::default()
        };
        assert_eq!(credentials_from(Some(&from_auth)).unwrap(), basic);
        assert_eq!(
            credentials_from(None).unwrap(),
            RegistryCredentials::Anonymous
        );
    }
}
