//! Simulated node loss: the `--fail-node` nodes stop their heartbeats after `--fail-after`, and
//! each SIGUSR1 stops the heartbeats of the first node still alive.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::SimError;
use crate::sim_node::SimNode;

/// The nodes named by `--fail-node`, in the order given.
pub fn nodes_to_fail(
    nodes: &[Arc<SimNode>],
    names: &[String],
) -> Result<Vec<Arc<SimNode>>, SimError> {
    names
        .iter()
        .map(|name| {
            nodes
                .iter()
                .find(|node| &node.name == name)
                .cloned()
                .ok_or_else(|| SimError::UnknownFailNode(name.clone()))
        })
        .collect()
}

/// Fails `doomed` after `after`, then waits for SIGUSR1s until `cancel`.
pub async fn run(
    nodes: Arc<[Arc<SimNode>]>,
    doomed: Vec<Arc<SimNode>>,
    after: Duration,
    cancel: CancellationToken,
) -> Result<(), SimError> {
    let scheduled = async {
        if doomed.is_empty() {
            return;
        }
        tokio::time::sleep(after).await;
        for node in &doomed {
            if node.fail() {
                tracing::info!(node = %node.name, "node failed: heartbeats stopped");
            }
        }
    };
    let signalled = fail_on_signal(&nodes);
    tokio::select! {
        _ = cancel.cancelled() => Ok(()),
        result = async { futures::join!(scheduled, signalled).1 } => result,
    }
}

#[cfg(unix)]
async fn fail_on_signal(nodes: &[Arc<SimNode>]) -> Result<(), SimError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut signals = signal(SignalKind::user_defined1()).map_err(SimError::Signal)?;
    while signals.recv().await.is_some() {
        match fail_first_alive(nodes) {
            Some(name) => tracing::info!(node = %name, "SIGUSR1: node failed, heartbeats stopped"),
            None => tracing::info!("SIGUSR1: every node has failed already"),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
async fn fail_on_signal(_: &[Arc<SimNode>]) -> Result<(), SimError> {
    std::future::pending().await
}

/// Fails the first node still alive and answers its name.
pub fn fail_first_alive(nodes: &[Arc<SimNode>]) -> Option<String> {
    let node = nodes.iter().find(|node| node.is_alive())?;
    node.fail();
    Some(node.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<Arc<SimNode>> {
        (0..3).map(|i| Arc::new(SimNode::new("n", i))).collect()
    }

    #[test]
    fn fail_nodes_must_exist() {
        let nodes = nodes();
        let doomed = nodes_to_fail(&nodes, &["n-2".to_string()]).unwrap();
        assert_eq!(doomed[0].name, "n-2");
        assert!(matches!(
            nodes_to_fail(&nodes, &["other".to_string()]),
            Err(SimError::UnknownFailNode(name)) if name == "other"
        ));
    }

    #[test]
    fn signals_fail_nodes_in_order() {
        let nodes = nodes();
        assert_eq!(fail_first_alive(&nodes).as_deref(), Some("n-0"));
        assert_eq!(fail_first_alive(&nodes).as_deref(), Some("n-1"));
        assert_eq!(fail_first_alive(&nodes).as_deref(), Some("n-2"));
        assert_eq!(fail_first_alive(&nodes), None);
    }

    #[tokio::test(start_paused = true)]
    async fn doomed_nodes_fail_after_the_delay() {
        let nodes: Arc<[Arc<SimNode>]> = nodes().into();
        let doomed = vec![nodes[1].clone()];
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(
            nodes.clone(),
            doomed,
            Duration::from_secs(5),
            cancel.clone(),
        ));
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(nodes[1].is_alive());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!nodes[1].is_alive());
        assert!(nodes[0].is_alive());
        cancel.cancel();
        task.await.unwrap().unwrap();
    }
}
