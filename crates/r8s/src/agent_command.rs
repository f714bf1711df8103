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
