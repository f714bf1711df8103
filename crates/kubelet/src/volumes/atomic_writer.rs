//! Writes a set of files into a volume so that readers always see one complete version
//! (upstream's AtomicWriter): the files live in a hidden `..<timestamp>` directory, `..data` is
//! a symlink to it swapped with `rename`, and every visible top-level name is a symlink into
//! `..data`. Writing again replaces the whole set at once and removes the previous directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path};

/// One file of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProjection {
    pub data: Vec<u8>,
    pub mode: u32,
}

/// Relative path → file contents and mode.
pub type Payload = BTreeMap<String, FileProjection>;

const DATA_DIR: &str = "..data";
const DATA_DIR_TMP: &str = "..data_tmp";

/// Makes `target_dir` hold exactly `payload` (it must exist). Does nothing when the current
/// contents already match.
pub fn write_payload(target_dir: &Path, payload: &Payload) -> io::Result<()> {
    for path in payload.keys() {
        validate_path(path)?;
    }
    let data_link = target_dir.join(DATA_DIR);
    let old_ts_dir = fs::read_link(&data_link).ok();
    if let Some(old) = &old_ts_dir {
        if payload_matches(&target_dir.join(old), payload) {
            return ensure_user_links(target_dir, payload);
        }
    }

    let ts_name = timestamp_dir_name(target_dir);
    let ts_dir = target_dir.join(&ts_name);
    fs::create_dir(&ts_dir)?;
    fs::set_permissions(&ts_dir, fs::Permissions::from_mode(0o755))?;
    for (path, file) in payload {
        let full = ts_dir.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&full, &file.data)?;
        fs::set_permissions(&full, fs::Permissions::from_mode(file.mode & 0o7777))?;
    }

    let tmp_link = target_dir.join(DATA_DIR_TMP);
    let _ = fs::remove_file(&tmp_link);
    symlink(&ts_name, &tmp_link)?;
    fs::rename(&tmp_link, &data_link)?;

    ensure_user_links(target_dir, payload)?;
    remove_stale_user_links(target_dir, payload)?;
    if let Some(old) = old_ts_dir {
        let old = target_dir.join(old);
        if old != ts_dir {
            fs::remove_dir_all(old)?;
        }
    }
    Ok(())
}

fn top_level_names(payload: &Payload) -> BTreeSet<String> {
    payload
        .keys()
        .filter_map(|p| p.split('/').next().map(str::to_string))
        .collect()
}

fn ensure_user_links(target_dir: &Path, payload: &Payload) -> io::Result<()> {
    for name in top_level_names(payload) {
        let link = target_dir.join(&name);
        let want = Path::new(DATA_DIR).join(&name);
        match fs::read_link(&link) {
            Ok(current) if current == want => continue,
            Ok(_) => fs::remove_file(&link)?,
            Err(_) if fs::symlink_metadata(&link).is_ok() => fs::remove_dir_all(&link)?,
            Err(_) => {}
        }
        symlink(&want, &link)?;
    }
    Ok(())
}

fn remove_stale_user_links(target_dir: &Path, payload: &Payload) -> io::Result<()> {
    let wanted = top_level_names(payload);
    for entry in fs::read_dir(target_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") || wanted.contains(&name) {
            continue;
        }
        if entry.file_type()?.is_symlink() {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn payload_matches(ts_dir: &Path, payload: &Payload) -> bool {
    let mut present = Vec::new();
    if collect_files(ts_dir, ts_dir, &mut present).is_err() {
        return false;
    }
    if present.len() != payload.len() {
        return false;
    }
    payload.iter().all(|(path, file)| {
        let full = ts_dir.join(path);
        let same_data = fs::read(&full).map(|d| d == file.data).unwrap_or(false);
        let same_mode = fs::metadata(&full)
            .map(|m| m.permissions().mode() & 0o7777 == file.mode & 0o7777)
            .unwrap_or(false);
        same_data && same_mode
    })
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            collect_files(root, &entry.path(), out)?;
        } else {
            let relative = entry.path();
            let relative = relative.strip_prefix(root).unwrap_or(&relative);
            out.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// `..2024_05_01_10_11_12.<random>`, unique in `target_dir`.
fn timestamp_dir_name(target_dir: &Path) -> String {
    let now = jiff::Zoned::now().strftime("%Y_%m_%d_%H_%M_%S").to_string();
    loop {
        let name = format!("..{now}.{}", rand::random::<u32>());
        if fs::symlink_metadata(target_dir.join(&name)).is_err() {
            return name;
        }
    }
}

/// Upstream's payload path rules: relative, no `..` element, not starting with `..`.
fn validate_path(path: &str) -> io::Result<()> {
    let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{path}: {why}"));
    if path.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if path.len() > 4096 {
        return Err(invalid("must be less than or equal to 4096 characters"));
    }
    if Path::new(path).is_absolute() {
        return Err(invalid("must be relative path"));
    }
    if Path::new(path)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(invalid("must not contain '..'"));
    }
    if path.starts_with("..") {
        return Err(invalid("must not start with '..'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(files: &[(&str, &str, u32)]) -> Payload {
        files
            .iter()
            .map(|(p, d, m)| {
                (
                    p.to_string(),
                    FileProjection {
                        data: d.as_bytes().to_vec(),
                        mode: *m,
                    },
                )
            })
            .collect()
    }

    fn timestamp_dirs(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("..") && n != DATA_DIR)
            .collect()
    }

    #[test]
    fn update_swaps_data_and_removes_old_version() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path();
        write_payload(
            target,
            &payload(&[("a", "one", 0o644), ("sub/b", "two", 0o600)]),
        )
        .unwrap();
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "one");
        assert_eq!(fs::read_to_string(target.join("sub/b")).unwrap(), "two");
        assert_eq!(
            fs::read_link(target.join("a")).unwrap(),
            Path::new("..data/a")
        );
        assert_eq!(
            fs::read_link(target.join("sub")).unwrap(),
            Path::new("..data/sub")
        );
        let mode = fs::metadata(target.join("sub/b"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let first = fs::read_link(target.join(DATA_DIR)).unwrap();

        write_payload(
            target,
            &payload(&[("a", "one", 0o644), ("sub/b", "two", 0o600)]),
        )
        .unwrap();
        assert_eq!(
            fs::read_link(target.join(DATA_DIR)).unwrap(),
            first,
            "unchanged"
        );

        write_payload(
            target,
            &payload(&[("a", "uno", 0o644), ("c", "three", 0o644)]),
        )
        .unwrap();
        let second = fs::read_link(target.join(DATA_DIR)).unwrap();
        assert_ne!(first, second);
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "uno");
        assert_eq!(fs::read_to_string(target.join("c")).unwrap(), "three");
        assert!(
            fs::symlink_metadata(target.join("sub")).is_err(),
            "stale link removed"
        );
        assert_eq!(
            timestamp_dirs(target),
            [second.to_string_lossy().into_owned()]
        );
        assert!(fs::symlink_metadata(target.join(DATA_DIR_TMP)).is_err());
    }

    #[test]
    fn rejects_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "/etc/passwd", "..hidden", "a/../../b", ""] {
            assert!(
                write_payload(dir.path(), &payload(&[(bad, "x", 0o644)])).is_err(),
                "{bad}"
            );
        }
    }
}
