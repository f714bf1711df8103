//! The streaming server behind CRI Exec, Attach and PortForward.
