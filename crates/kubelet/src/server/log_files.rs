//! Where a container's log files are: `<pod_log_dir>/<ns>_<pod>_<uid>/<container>/<restart>.log`.

use std::path::{Path, PathBuf};

/// The pod's log directory; when a pod of that name was re-created, the most recently changed one.
pub fn find_pod_log_dir(
    root: &Path,
    namespace: &str,
    pod: &str,
) -> std::io::Result<Option<PathBuf>> {
    let prefix = format!("{namespace}_{pod}_");
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(&prefix) || name.len() == prefix.len() {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(t, _)| modified > *t) {
            best = Some((modified, entry.path()));
        }
    }
    Ok(best.map(|(_, path)| path))
}

/// The container's log files by restart count, oldest first.
pub fn container_log_files(
    pod_dir: &Path,
    container: &str,
) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let dir = pod_dir.join(container);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let restart = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(restart) = restart {
            files.push((restart, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// The current file, or with `previous` the one before it.
pub fn select_log_file(files: &[(u32, PathBuf)], previous: bool) -> Option<&Path> {
    let index = if previous {
        files.len().checked_sub(2)?
    } else {
        files.len().checked_sub(1)?
    };
    files.get(index).map(|(_, path)| path.as_path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_current_and_previous_files() {
        let root = tempfile::tempdir().unwrap();
        let pod_dir = root.path().join("default_web_1234");
        std::fs::create_dir_all(pod_dir.join("app")).unwrap();
        std::fs::create_dir_all(root.path().join("default_web2_999")).unwrap();
        for n in [0, 1, 10, 2] {
            std::fs::write(pod_dir.join("app").join(format!("{n}.log")), "").unwrap();
        }
        std::fs::write(pod_dir.join("app").join("1.log.20240101-000000"), "").unwrap();
        let found = find_pod_log_dir(root.path(), "default", "web")
            .unwrap()
            .unwrap();
        assert_eq!(found, pod_dir);
        let files = container_log_files(&found, "app").unwrap();
        assert_eq!(
            files.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![0, 1, 2, 10]
        );
        assert!(select_log_file(&files, false).unwrap().ends_with("10.log"));
        assert!(select_log_file(&files, true).unwrap().ends_with("2.log"));
        assert!(select_log_file(&files[..1], true).is_none());
        assert!(find_pod_log_dir(root.path(), "default", "we")
            .unwrap()
            .is_none());
    }
}
