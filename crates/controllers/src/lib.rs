//! The controller manager's reconcile loops, one folder per controller.
#![forbid(unsafe_code)]
