//! CNI 1.0: the conflist r8s writes and the plugin calls (ADD, CHECK, DEL).
//!
//! There is no libcni in Rust: `attachment` runs a network list plugin by plugin (chaining each
//! result into the next one's `prevResult`), through the `PluginExec` trait so that the chaining is
//! unit-tested against `RecordingPluginExec`.

mod attachment;
mod conflist;
mod error;
mod masquerade;
mod network;
mod plugin_exec;
mod result;

pub use attachment::{Attachment, PortMappingArg};
pub use conflist::{bridge_conflist, loopback_config, CONFLIST_FILE, NETWORK_NAME};
pub use error::CniError;
pub use masquerade::{
    IptablesMasquerade, Masquerade, NoMasquerade, RecordingMasquerade, MASQUERADE_CHAIN,
};
pub use network::PodNetwork;
pub use plugin_exec::{BinaryPluginExec, PluginCall, PluginExec, RecordingPluginExec};
pub use result::PodIps;
