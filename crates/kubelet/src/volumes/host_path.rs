//! hostPath `type` checks, creating the path for the `...OrCreate` types (upstream's messages).

use std::fs;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Checks `path` against the hostPath `type` ("" or absent: no check).
pub fn check_host_path_type(path: &Path, path_type: Option<&str>) -> Result<(), String> {
    let shown = path.display();
    let metadata = fs::metadata(path).ok();
    let file_type = metadata.as_ref().map(|m| m.file_type());
    let failed = |what: &str| Err(format!("hostPath type check failed: {shown} is not {what}"));
    match path_type.unwrap_or_default() {
        "" => Ok(()),
        "DirectoryOrCreate" if metadata.is_none() => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
            .map_err(|e| format!("mkdir {shown}: {e}")),
        "DirectoryOrCreate" | "Directory" => match file_type {
            Some(t) if t.is_dir() => Ok(()),
            _ => failed("a directory"),
        },
        "FileOrCreate" if metadata.is_none() => fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o644)
            .open(path)
            .map(|_| ())
            .map_err(|e| format!("open {shown}: {e}")),
        "FileOrCreate" | "File" => match file_type {
            Some(t) if !t.is_dir() => Ok(()),
            _ => failed("a file"),
        },
        "Socket" => match file_type {
            Some(t) if t.is_socket() => Ok(()),
            _ => failed("a socket file"),
        },
        "CharDevice" => match file_type {
            Some(t) if t.is_char_device() => Ok(()),
            _ => failed("a character device"),
        },
        "BlockDevice" => match file_type {
            Some(t) if t.is_block_device() => Ok(()),
            _ => failed("a block device"),
        },
        other => Err(format!("{other} is an invalid volume type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_checks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        let sock = dir.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let missing = dir.path().join("missing");
        let d = dir.path();
        let err = |p: &Path, what: &str| {
            Err(format!(
                "hostPath type check failed: {} is not {what}",
                p.display()
            ))
        };
        let cases: Vec<(&Path, &str, Result<(), String>)> = vec![
            (&missing, "", Ok(())),
            (d, "Directory", Ok(())),
            (&file, "Directory", err(&file, "a directory")),
            (&missing, "Directory", err(&missing, "a directory")),
            (&file, "File", Ok(())),
            (d, "File", err(d, "a file")),
            (&missing, "File", err(&missing, "a file")),
            (&sock, "Socket", Ok(())),
            (&file, "Socket", err(&file, "a socket file")),
            (Path::new("/dev/null"), "CharDevice", Ok(())),
            (&file, "CharDevice", err(&file, "a character device")),
            (&file, "BlockDevice", err(&file, "a block device")),
            (&file, "DirectoryOrCreate", err(&file, "a directory")),
            (d, "FileOrCreate", err(d, "a file")),
            (
                &file,
                "Bogus",
                Err("Bogus is an invalid volume type".into()),
            ),
        ];
        for (path, kind, want) in cases {
            assert_eq!(
                check_host_path_type(path, Some(kind)),
                want,
                "{kind} {path:?}"
            );
        }

        let new_dir = dir.path().join("a/b");
        check_host_path_type(&new_dir, Some("DirectoryOrCreate")).unwrap();
        assert!(new_dir.is_dir());
        let new_file = dir.path().join("new-file");
        check_host_path_type(&new_file, Some("FileOrCreate")).unwrap();
        assert!(new_file.is_file());
    }
}
