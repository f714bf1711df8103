//! `r8s agent`: join a server and run this machine's pods until SIGINT or SIGTERM.

use tokio_util::sync::CancellationToken;

use crate::agent::{self, AgentConfig};
use crate::cli::AgentArgs;

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    crate::allocator::purge_freed_memory_in_background();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        stop.cancel();
    });
    tokio::spawn(release_startup_code_once_started());
    agent::run(
        AgentConfig {
            server_url: args.server,
            token: args.token,
            data_dir: args.data_dir,
            node: args.node,
        },
        cancel,
    )
    .await
}

/// How long after its start the agent drops the code pages it ran only to start (`startup_code`):
/// by then it has joined, registered its node and re-read the runtime's state.
const STARTED_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

async fn release_startup_code_once_started() {
    tokio::time::sleep(STARTED_AFTER).await;
    match crate::startup_code::release() {
        Ok(bytes) => tracing::info!(bytes, "released the start-up code's pages"),
        Err(error) => tracing::warn!(%error, "could not release the start-up code's pages"),
    }
}
