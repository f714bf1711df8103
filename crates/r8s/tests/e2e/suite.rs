//! Every scenario against the embedded store and against Debian's etcd.

use crate::etcd::Etcd;
use crate::harness::Server;
use crate::scenarios;

fn with_etcd(scenario: fn(&Server)) {
    let etcd = Etcd::start();
    let server = Server::start_with(&["--datastore-endpoint", &etcd.endpoint]);
    scenario(&server);
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[test] fn $name() { super::scenarios::$name(&super::Server::start()); })*
        }
        mod etcd {
            $(#[test] fn $name() { super::with_etcd(super::scenarios::$name); })*
        }
    };
}

on_both_stores!(
    configmap_lifecycle,
    selectors_and_pagination,
    apply_and_diff,
    deployment_edits,
    invalid_manifests,
    discovery_and_explain,
    wait_events_and_auth,
);
