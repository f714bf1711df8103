//! Structured logs through tracing, with an upstream-style `-v` level.
//!
//! `R8S_LOG` takes `EnvFilter` directives (per-module levels). Without it the level from `-v`
//! is a plain `LevelFilter`: an `EnvFilter` consults its per-span state on every span enter and
//! exit, and kube-runtime enters a span around every poll of every reconcile, which cost a few
//! percent of a loaded server's CPU for no filtering at all.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => LevelFilter::WARN,
        1 | 2 => LevelFilter::INFO,
        3..=5 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let directives = EnvFilter::try_from_env("R8S_LOG").ok();
    let plain_level = directives.is_none().then_some(level);
    tracing_subscriber::registry()
        .with(directives)
        .with(plain_level)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
}
