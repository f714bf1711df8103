//! Errors of CNI plugin calls.

#[derive(Debug, thiserror::Error)]
pub enum CniError {
    /// The plugin answered with a CNI error object (non-zero exit).
    #[error("plugin type={plugin:?} failed ({command}): {msg} (code {code}){details}")]
    Plugin {
        plugin: String,
        command: String,
        code: i64,
        msg: String,
        details: String,
    },
    #[error("cannot run CNI plugin {plugin:?}: {source}")]
    Exec {
        plugin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("CNI plugin {plugin:?} gave an unreadable answer: {message}")]
    BadOutput { plugin: String, message: String },
    #[error("invalid CNI configuration: {0}")]
    BadConfig(String),
    #[error("CNI configuration {path}: {source}")]
    ConfigFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
