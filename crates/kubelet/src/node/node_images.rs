//! `status.images`: the runtime's images (CRI ListImages) as upstream's kubelet reports them.

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::ContainerImage;

use crate::{CriClient, KubeletError};

/// Upstream's `--node-status-max-images` default.
const MAX_IMAGES: usize = 50;
/// Upstream's `MaxNamesPerImageInNodeStatus`.
const MAX_NAMES_PER_IMAGE: usize = 5;

pub async fn list_node_images(cri: &CriClient) -> Result<Vec<ContainerImage>, KubeletError> {
    let images = cri
        .images
        .clone()
        .list_images(cri::ListImagesRequest { filter: None })
        .await?
        .into_inner()
        .images;
    Ok(node_images(images))
}

/// Largest first, at most 50, each named by its repo digests then its repo tags (at most five).
pub fn node_images(mut images: Vec<cri::Image>) -> Vec<ContainerImage> {
    images.sort_by_key(|image| std::cmp::Reverse(image.size));
    images
        .into_iter()
        .take(MAX_IMAGES)
        .map(|image| {
            let names: Vec<String> = image
                .repo_digests
                .into_iter()
                .chain(image.repo_tags)
                .take(MAX_NAMES_PER_IMAGE)
                .collect();
            ContainerImage {
                names: Some(names),
                size_bytes: i64::try_from(image.size).ok(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(size: u64, tags: &[&str], digests: &[&str]) -> cri::Image {
        cri::Image {
            id: format!("sha256:{size}"),
            size,
            repo_tags: tags.iter().map(|s| s.to_string()).collect(),
            repo_digests: digests.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn largest_first_with_digests_before_tags() {
        let images = node_images(vec![
            image(10, &["a:1"], &[]),
            image(30, &["b:1", "b:2"], &["b@sha256:x"]),
        ]);
        assert_eq!(
            images[0].names.as_deref(),
            Some(&["b@sha256:x".to_string(), "b:1".into(), "b:2".into()][..])
        );
        assert_eq!(images[0].size_bytes, Some(30));
        assert_eq!(images[1].names.as_deref(), Some(&["a:1".to_string()][..]));
    }

    #[test]
    fn at_most_five_names_and_fifty_images() {
        let tags: Vec<String> = (0..8).map(|i| format!("t:{i}")).collect();
        let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
        let many: Vec<cri::Image> = (0..60).map(|i| image(i, &tag_refs, &[])).collect();
        let images = node_images(many);
        assert_eq!(images.len(), 50);
        assert_eq!(images[0].names.as_ref().map(Vec::len), Some(5));
    }
}
