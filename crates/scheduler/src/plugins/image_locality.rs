//! ImageLocality: prefer nodes that already have the pod's images, weighted by how widely
//! each image is spread (upstream's thresholds: 23 MB to 1000 MB per container).

use crate::framework::{CycleState, Plugin, PreScorePlugin, ScorePlugin, Status, MAX_NODE_SCORE};
use crate::snapshot::{normalized_image_name, NodeInfo, PodInfo, Snapshot};

pub const NAME: &str = "ImageLocality";

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

pub struct ImageLocality;

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// Each image of the pod with the fraction of nodes that have it.
struct ImageSpread {
    images: Vec<(String, f64)>,
}

impl PreScorePlugin for ImageLocality {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
        snapshot: &Snapshot,
    ) -> Status {
        let total = snapshot.len().max(1) as f64;
        let spec = pod.pod.spec.as_ref();
        let images = spec
            .into_iter()
            .flat_map(|s| s.init_containers.iter().flatten().chain(&s.containers))
            .filter_map(|c| c.image.as_deref())
            .map(|image| {
                let name = normalized_image_name(image);
                let spread = snapshot.image_spread(&name) as f64 / total;
                (name, spread)
            })
            .collect();
        state.write(NAME, ImageSpread { images });
        Status::success()
    }
}

/// Upstream's `calculatePriority`.
pub fn image_score(sum: i64, containers: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD * containers.max(1);
    let sum = sum.clamp(MIN_THRESHOLD, max_threshold);
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

impl ScorePlugin for ImageLocality {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(spread) = state.read::<ImageSpread>(NAME) else {
            return Ok(0);
        };
        let sum: i64 = spread
            .images
            .iter()
            .filter_map(|(name, fraction)| {
                node.images
                    .get(name)
                    .map(|size| (*size as f64 * fraction) as i64)
            })
            .sum();
        Ok(image_score(sum, spread.images.len() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use k8s_openapi::api::core::v1::ContainerImage;

    #[test]
    fn upstream_thresholds() {
        assert_eq!(image_score(0, 1), 0);
        assert_eq!(image_score(2000 * MB, 1), 100);
        // Upstream "two images spread on two nodes, prefer the larger image one": 250 MB
        // image on 1 of 2 nodes → 125 MB → (125-23)*100/(1000-23) = 10.
        assert_eq!(image_score(125 * MB, 1), 10);
    }

    #[test]
    fn node_with_image_scores_higher() {
        let mut snapshot = Snapshot::new();
        let mut with = node("a").node();
        with.status.get_or_insert_default().images = Some(vec![ContainerImage {
            names: Some(vec!["registry/big:1".into()]),
            size_bytes: Some(500 * MB),
        }]);
        snapshot.upsert_node(with);
        snapshot.upsert_node(node("b").node());
        let mut p = pod("p");
        p.spec.get_or_insert_default().containers[0].image = Some("registry/big:1".into());
        let p = PodInfo::new(p, 0);
        let mut state = CycleState::new();
        ImageLocality.pre_score(&mut state, &p, &[], &snapshot);
        let a = snapshot
            .node("a")
            .map(|n| ImageLocality.score(&state, &p, n));
        let b = snapshot
            .node("b")
            .map(|n| ImageLocality.score(&state, &p, n));
        // 500 MB * 1/2 = 250 MB → (250-23)*100/977 = 23.
        assert_eq!(a, Some(Ok(23)));
        assert_eq!(b, Some(Ok(0)));
    }
}
