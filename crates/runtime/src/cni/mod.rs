//! CNI 1.0: the conflist r8s writes and the plugin calls (ADD, CHECK, DEL).
