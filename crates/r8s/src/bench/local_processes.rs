//! The r8s processes running on this machine, for the benchmarks that report their memory.

use std::path::PathBuf;

/// One r8s process: its `/proc/<pid>` directory, pid and arguments (`argv[0]` first).
pub struct LocalProcess {
    pub proc_dir: PathBuf,
    pub pid: u32,
    pub argv: Vec<String>,
}

impl LocalProcess {
    /// The subcommand it runs (`server`, `agent`, `shim`, `pause`, ...).
    pub fn subcommand(&self) -> Option<&str> {
        self.argv.get(1).map(String::as_str)
    }

    /// Whether it was started with `flag` (`--disable-agent`, say).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.argv.iter().skip(2).any(|arg| arg == flag)
    }
}

/// Processes whose program file is named `r8s…`: the binary may be installed as `r8s` or copied
/// under another name, such as `r8s-release`.
pub fn local_r8s_processes() -> Vec<LocalProcess> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let argv: Vec<String> = cmdline
                .split(|byte| *byte == 0)
                .filter(|arg| !arg.is_empty())
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            is_r8s_program(argv.first()?).then_some(LocalProcess {
                proc_dir: entry.path(),
                pid,
                argv,
            })
        })
        .collect()
}

fn is_r8s_program(program: &str) -> bool {
    let file_name = program.rsplit('/').next().unwrap_or(program);
    file_name.starts_with("r8s")
}

#[cfg(test)]
mod tests {
    use super::{is_r8s_program, LocalProcess};

    #[test]
    fn subcommand_and_flags_come_after_the_program() {
        let process = LocalProcess {
            proc_dir: "/proc/1".into(),
            pid: 1,
            argv: ["/usr/local/bin/r8s", "server", "--disable-agent"]
                .map(String::from)
                .to_vec(),
        };
        assert_eq!(process.subcommand(), Some("server"));
        assert!(process.has_flag("--disable-agent"));
        assert!(!process.has_flag("server"));
    }

    #[test]
    fn program_names() {
        assert!(is_r8s_program("/usr/local/bin/r8s"));
        assert!(is_r8s_program("/tmp/r8s-release"));
        assert!(is_r8s_program("r8s"));
        assert!(!is_r8s_program("/usr/bin/kubectl"));
        assert!(!is_r8s_program("/opt/r8s/bin/kubelet"));
    }
}
