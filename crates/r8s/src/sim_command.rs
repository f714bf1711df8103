//! `r8s sim`: simulated nodes against any cluster, until SIGINT or SIGTERM.

use tokio_util::sync::CancellationToken;

use crate::cli::SimCommandArgs;
use crate::kube_client::client_from;

pub async fn run(args: SimCommandArgs) -> anyhow::Result<()> {
    let client = client_from(&args.kubeconfig).await?;
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        stop.cancel();
    });
    sim::run(client, args.sim, cancel).await?;
    Ok(())
}
