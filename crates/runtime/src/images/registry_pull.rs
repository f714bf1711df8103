//! Pulls an image from a registry (OCI distribution API through `oci-client`) into the content store.

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::content::ContentStore;
use super::digest::{sha256_digest, verify_digest};
use super::index::ImageRecord;
use super::manifest::{
    record_from_stored_manifest, select_platform, Descriptor, ManifestOrIndex,
    ACCEPTED_MANIFEST_TYPES,
};
use super::reference::ImageReference;
use crate::RuntimeError;

/// Credentials for one pull.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum RegistryCredentials {
    #[default]
    Anonymous,
    Basic {
        username: String,
        password: String,
    },
    /// A registry (bearer) token.
    Bearer(String),
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => write!(f, "Anonymous"),
            Self::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Self::Bearer(_) => write!(f, "Bearer(***)"),
        }
    }
}

impl RegistryCredentials {
    fn to_auth(&self) -> RegistryAuth {
        match self {
            Self::Anonymous => RegistryAuth::Anonymous,
            Self::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
            Self::Bearer(token) => RegistryAuth::Bearer(token.clone()),
        }
    }
}

/// Whether `domain` is reached over plain HTTP: listed as insecure, or on the loopback host.
pub fn uses_plain_http(domain: &str, insecure_registries: &[String]) -> bool {
    let host = match domain.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => domain,
    };
    insecure_registries
        .iter()
        .any(|registry| registry == domain || registry == host)
        || matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// containerd's wording: `failed to pull and unpack image "<ref>": <step>: <error>`.
fn failed(
    what: &str,
    reference: &ImageReference,
) -> impl Fn(oci_client::errors::OciDistributionError) -> RuntimeError {
    let context = format!("failed to pull and unpack image \"{reference}\": {what}");
    move |error| RuntimeError::Failed(format!("{context}: {error}"))
}

/// Whether the registry said the repository or the tag does not exist.
fn is_not_found(error: &oci_client::errors::OciDistributionError) -> bool {
    use oci_client::errors::{OciDistributionError as E, OciErrorCode};
    match error {
        E::ImageManifestNotFoundError(_) | E::ServerError { code: 404, .. } => true,
        E::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        _ => false,
    }
}

/// A failed manifest fetch as containerd reports it; a missing tag is NotFound.
fn resolve_failed(
    reference: &ImageReference,
    error: oci_client::errors::OciDistributionError,
) -> RuntimeError {
    let context =
        format!("failed to pull and unpack image \"{reference}\": failed to resolve reference \"{reference}\"");
    if is_not_found(&error) {
        RuntimeError::NotFound(format!("{context}: {reference}: not found"))
    } else {
        RuntimeError::Failed(format!("{context}: {error}"))
    }
}

/// Fetches the manifest, config and layers of `reference` into `content` and returns the record.
pub async fn pull_image(
    content: &ContentStore,
    reference: &ImageReference,
    credentials: &RegistryCredentials,
    insecure_registries: &[String],
) -> Result<ImageRecord, RuntimeError> {
    let protocol = if uses_plain_http(&reference.domain, insecure_registries) {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    // The registry client takes rustls's process-wide provider; r8s uses ring everywhere.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::new(ClientConfig {
        protocol,
        platform_resolver: None,
        ..ClientConfig::default()
    });
    let auth = credentials.to_auth();
    let remote: Reference = reference
        .to_string()
        .parse()
        .map_err(|e| RuntimeError::InvalidArgument(format!("reference {reference}: {e}")))?;

    let (top_bytes, top_digest) = fetch_manifest(&client, &remote, &auth, reference).await?;
    let top = ManifestOrIndex::parse(&top_bytes)?;
    let (manifest_bytes, manifest_digest, manifest) = if top.is_index() {
        content.write_bytes(&top_bytes, Some(&top_digest))?;
        let chosen: Descriptor = select_platform(&top.manifests)?.clone();
        let by_digest = Reference::with_digest(
            remote.registry().to_string(),
            remote.repository().to_string(),
            chosen.digest.clone(),
        );
        let (bytes, digest) = fetch_manifest(&client, &by_digest, &auth, reference).await?;
        let parsed = ManifestOrIndex::parse(&bytes)?;
        (bytes, digest, parsed)
    } else {
        (top_bytes, top_digest.clone(), top)
    };
    let config = manifest.config.clone().ok_or_else(|| {
        RuntimeError::Failed(format!("pulling {reference}: manifest has no config"))
    })?;
    for blob in std::iter::once(&config).chain(manifest.layers.iter()) {
        fetch_blob(&client, &remote, content, &blob.digest, reference).await?;
    }
    content.write_bytes(&manifest_bytes, Some(&manifest_digest))?;
    let repo_tags = reference.tagged().into_iter().collect();
    let repo_digests = vec![reference.with_digest(&top_digest)];
    record_from_stored_manifest(content, &manifest_digest, repo_tags, repo_digests)
}

/// Fetches a manifest and checks its digest (against the reference's, when it names one).
async fn fetch_manifest(
    client: &Client,
    remote: &Reference,
    auth: &RegistryAuth,
    reference: &ImageReference,
) -> Result<(Vec<u8>, String), RuntimeError> {
    let (bytes, _) = client
        .pull_manifest_raw(remote, auth, &ACCEPTED_MANIFEST_TYPES)
        .await
        .map_err(|error| resolve_failed(reference, error))?;
    let digest = sha256_digest(&bytes);
    if let Some(expected) = remote.digest() {
        verify_digest(expected, &digest, "manifest")?;
    }
    Ok((bytes.to_vec(), digest))
}

/// Downloads one blob into the content store unless it is already there.
async fn fetch_blob(
    client: &Client,
    remote: &Reference,
    content: &ContentStore,
    digest: &str,
    reference: &ImageReference,
) -> Result<(), RuntimeError> {
    if content.contains(digest) {
        return Ok(());
    }
    let temp = content.ingest_path("pull")?;
    let download = async {
        let file = tokio::fs::File::create(&temp).await?;
        client
            .pull_blob(remote, digest, file)
            .await
            .map_err(failed(&format!("failed to copy blob {digest}"), reference))?;
        let (content, temp, digest) = (content.clone(), temp.clone(), digest.to_string());
        tokio::task::spawn_blocking(move || content.adopt_file(&temp, Some(&digest)))
            .await
            .map_err(|e| RuntimeError::Failed(format!("blob task: {e}")))?
    };
    match download.await {
        Ok(_) => Ok(()),
        Err(error) => {
            let _ = tokio::fs::remove_file(&temp).await;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_listed_registries_use_plain_http() {
        let insecure = vec!["registry.local:5000".to_string(), "10.0.0.1".to_string()];
        assert!(uses_plain_http("localhost:5000", &insecure));
        assert!(uses_plain_http("127.0.0.1:41234", &insecure));
        assert!(uses_plain_http("localhost", &insecure));
        assert!(uses_plain_http("registry.local:5000", &insecure));
        assert!(uses_plain_http("10.0.0.1:5000", &insecure));
        assert!(!uses_plain_http("docker.io", &insecure));
        assert!(!uses_plain_http("registry.local:5001", &insecure));
    }
}
