//! `r8s bench ...`: programs that print figures, against any cluster's kubeconfig.

pub mod api;
mod leader_leases;
mod local_processes;
mod machine_cpu;
pub mod pods;
mod progress;
pub mod scale;
pub mod scheduler;
pub mod services;
mod stats;
pub mod workloads;

use crate::cli::BenchCommand;

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Api(args) => api::run(args).await,
        BenchCommand::Scheduler(args) => scheduler::run(args).await,
        BenchCommand::Workloads(args) => workloads::run(args).await,
        BenchCommand::Scale(args) => scale::run(args).await,
        BenchCommand::Pods(args) => pods::run(args).await,
        BenchCommand::Services(args) => services::run(args).await,
    }
}
