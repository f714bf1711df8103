//! Rotating one container's log file on disk (the runtime reopens it afterwards).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Upstream's rotated-file suffix format (Go's `20060102-150405`).
const TIMESTAMP_FORMAT: &str = "%Y%m%d-%H%M%S";
const COMPRESSED_SUFFIX: &str = ".gz";
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Whether the log file has grown past `max_size` bytes.
pub fn needs_rotation(log: &Path, max_size: u64) -> bool {
    std::fs::metadata(log).is_ok_and(|m| m.len() > max_size)
}

/// Where `log` is renamed to when it is rotated at `now`.
pub fn rotated_path(log: &Path, now: jiff::Timestamp) -> PathBuf {
    let stamp = now.strftime(TIMESTAMP_FORMAT).to_string();
    let mut name = log.as_os_str().to_os_string();
    name.push(".");
    name.push(stamp);
    PathBuf::from(name)
}

/// The rotated files of `log` (`<log>.<timestamp>[.gz]`), oldest first.
pub fn rotated_logs(log: &Path) -> std::io::Result<Vec<PathBuf>> {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name().and_then(|n| n.to_str())) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.");
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_str()?.to_string();
            (file.starts_with(&prefix) && !file.ends_with(TEMPORARY_SUFFIX)).then(|| entry.path())
        })
        .collect();
    rotated.sort();
    Ok(rotated)
}

/// Makes room for one more rotated file: leftover temporary files go, the oldest rotated files
/// beyond `max_files - 2` go (the current file and the one about to be rotated make up the rest),
/// and every rotated file but the newest is compressed.
pub fn prepare_rotation(log: &Path, max_files: usize) -> std::io::Result<()> {
    remove_temporary_files(log)?;
    let rotated = rotated_logs(log)?;
    let keep = max_files.saturating_sub(2);
    let excess = rotated.len().saturating_sub(keep);
    for old in &rotated[..excess] {
        remove_if_present(old)?;
    }
    let kept = &rotated[excess..];
    if let Some((_, older)) = kept.split_last() {
        for file in older {
            if !file.to_string_lossy().ends_with(COMPRESSED_SUFFIX) {
                compress(file)?;
            }
        }
    }
    Ok(())
}

fn remove_temporary_files(log: &Path) -> std::io::Result<()> {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name().and_then(|n| n.to_str())) else {
        return Ok(());
    };
    for entry in std::fs::read_dir(dir)?.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.starts_with(&format!("{name}.")) && file.ends_with(TEMPORARY_SUFFIX) {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// `file` → `file.gz` (written to `file.gz.tmp` first, so a crash leaves no half file).
fn compress(file: &Path) -> std::io::Result<()> {
    let mut target = file.as_os_str().to_os_string();
    target.push(COMPRESSED_SUFFIX);
    let mut temporary = target.clone();
    temporary.push(TEMPORARY_SUFFIX);
    let mut input = std::fs::File::open(file)?;
    let output = std::fs::File::create(&temporary)?;
    let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
    std::io::copy(&mut input, &mut encoder)?;
    encoder.finish()?.flush()?;
    std::fs::rename(&temporary, &target)?;
    remove_if_present(file)
}

fn remove_if_present(file: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn names(log: &Path) -> Vec<String> {
        rotated_logs(log)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn rotated_name_carries_the_timestamp() {
        let now: jiff::Timestamp = "2024-03-05T06:07:08Z".parse().unwrap();
        assert_eq!(
            rotated_path(Path::new("/l/c/0.log"), now),
            PathBuf::from("/l/c/0.log.20240305-060708")
        );
    }

    #[test]
    fn keeps_max_files_and_compresses_all_but_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("0.log");
        std::fs::write(&log, "x".repeat(100)).unwrap();
        assert!(needs_rotation(&log, 99));
        assert!(!needs_rotation(&log, 100));
        for stamp in ["20240101-000001", "20240101-000002", "20240101-000003"] {
            std::fs::write(dir.path().join(format!("0.log.{stamp}")), stamp).unwrap();
        }
        std::fs::write(dir.path().join("0.log.20240101-000000.gz.tmp"), "half").unwrap();
        std::fs::write(dir.path().join("1.log.20240101-000000"), "other").unwrap();

        prepare_rotation(&log, 4).unwrap();
        assert_eq!(
            names(&log),
            vec!["0.log.20240101-000002.gz", "0.log.20240101-000003"]
        );
        assert!(!dir.path().join("0.log.20240101-000000.gz.tmp").exists());
        assert!(dir.path().join("1.log.20240101-000000").exists());
        let mut text = String::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(dir.path().join("0.log.20240101-000002.gz")).unwrap(),
        )
        .read_to_string(&mut text)
        .unwrap();
        assert_eq!(text, "20240101-000002");
    }
}
