//! The shim's command line.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimArgs {
    pub id: String,
    /// The bundle, which is also the container's directory (the shim's state files live there).
    pub bundle: PathBuf,
    /// The CRI log file; empty: output is discarded.
    pub log: PathBuf,
    pub runtime: PathBuf,
    pub runtime_root: PathBuf,
    /// Set on the detached copy that does the work.
    pub supervise: bool,
    /// The container reads stdin from attach clients (CRI `stdin`).
    pub stdin: bool,
    /// Its stdin closes when the first attach client's stdin ends (CRI `stdin_once`).
    pub stdin_once: bool,
    /// It runs on a terminal (the spec's `process.terminal`); output goes to the log as stdout.
    pub tty: bool,
}

impl ShimArgs {
    /// Parses the words after `shim`, e.g. `["--id", "c1", "--bundle", "/dir", ...]`.
    pub fn parse(words: &[String]) -> Result<Self, String> {
        let mut args = Self {
            id: String::new(),
            bundle: PathBuf::new(),
            log: PathBuf::new(),
            runtime: PathBuf::from("runc"),
            runtime_root: PathBuf::new(),
            supervise: false,
            stdin: false,
            stdin_once: false,
            tty: false,
        };
        let mut words = words.iter().skip_while(|w| w.as_str() == "shim");
        while let Some(flag) = words.next() {
            let switch = match flag.as_str() {
                "--supervise" => Some(&mut args.supervise),
                "--stdin" => Some(&mut args.stdin),
                "--stdin-once" => Some(&mut args.stdin_once),
                "--tty" => Some(&mut args.tty),
                _ => None,
            };
            if let Some(switch) = switch {
                *switch = true;
                continue;
            }
            let value = words
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--id" => args.id = value.clone(),
                "--bundle" => args.bundle = value.into(),
                "--log" => args.log = value.into(),
                "--runtime" => args.runtime = value.into(),
                "--runtime-root" => args.runtime_root = value.into(),
                other => return Err(format!("unknown flag {other}")),
            }
        }
        if args.id.is_empty()
            || args.bundle.as_os_str().is_empty()
            || args.runtime_root.as_os_str().is_empty()
        {
            return Err("--id, --bundle and --runtime-root are required".into());
        }
        Ok(args)
    }

    /// The command line that `parse` reads back, starting with `shim`.
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut words: Vec<std::ffi::OsString> = vec![
            "shim".into(),
            "--id".into(),
            self.id.clone().into(),
            "--bundle".into(),
            self.bundle.clone().into(),
            "--log".into(),
            self.log.clone().into(),
            "--runtime".into(),
            self.runtime.clone().into(),
            "--runtime-root".into(),
            self.runtime_root.clone().into(),
        ];
        for (on, flag) in [
            (self.supervise, "--supervise"),
            (self.stdin, "--stdin"),
            (self.stdin_once, "--stdin-once"),
            (self.tty, "--tty"),
        ] {
            if on {
                words.push(flag.into());
            }
        }
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_args_round_trips_through_parse() {
        let args = ShimArgs {
            id: "abc".into(),
            bundle: "/var/c/abc".into(),
            log: "".into(),
            runtime: "/usr/sbin/runc".into(),
            runtime_root: "/run/runc".into(),
            supervise: true,
            stdin: true,
            stdin_once: false,
            tty: true,
        };
        let words: Vec<String> = args
            .to_args()
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        assert_eq!(ShimArgs::parse(&words), Ok(args));
    }

    #[test]
    fn parse_rejects_a_missing_id() {
        assert!(ShimArgs::parse(&["--bundle".into(), "/b".into()]).is_err());
    }
}
