//! `r8s`: Kubernetes in one binary. This file holds flags and wiring only.
// One module makes a raw syscall: `startup_code` (madvise); it allows `unsafe` for that call.
#![deny(unsafe_code)]

mod agent;
mod agent_command;
mod allocator;
mod bench;
mod cli;
mod control_loops;
mod host_addresses;
mod image_command;
mod kube_client;
mod logging;
mod networking;
mod server_command;
mod server_node_role;
mod shutdown;
mod sim_command;
mod startup_code;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    // The per-container shim and the sandbox pause process stay small: no flag parsing, no
    // logging set-up, no async runtime.
    let argv: Vec<String> = std::env::args().collect();
    match argv.get(1).map(String::as_str) {
        Some("shim") => std::process::exit(runtime::shim::main(&argv[2..])),
        Some("pause") => std::process::exit(runtime::pause::main()),
        _ => {}
    }
    // Every TLS user in the process (API server, kube clients, registry pulls) shares ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli::Cli::parse();
    logging::init(cli.verbosity);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            cli::Command::Server(args) => server_command::run(args).await,
            cli::Command::Sim(args) => sim_command::run(args).await,
            cli::Command::Agent(args) => agent_command::run(args).await,
            cli::Command::Image(command) => image_command::run(command).await,
            cli::Command::Bench(bench) => bench::run(bench).await,
        }
    })
}
