#![forbid(unsafe_code)]
mod descriptor;
