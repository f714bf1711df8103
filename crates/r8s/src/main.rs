//! `r8s`: Kubernetes in one binary. This file holds flags and wiring only.
#![forbid(unsafe_code)]

mod bench;
mod cli;
mod control_loops;
mod kube_client;
mod logging;
mod server_command;
mod shutdown;
mod sim_command;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    logging::init(cli.verbosity);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            cli::Command::Server(args) => server_command::run(args).await,
            cli::Command::Sim(args) => sim_command::run(args).await,
            cli::Command::Bench(bench) => bench::run(bench).await,
        }
    })
}
