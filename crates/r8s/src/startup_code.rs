//! Hands back the pages of r8s's own code that a long-running agent ran only while starting.
//!
//! The kernel maps a binary's code into a process as it runs, 64 KiB around each page it faults
//! in ("fault-around"), and never takes those pages out of the process unless memory runs short.
//! The agent's start-up (flag parsing, the join and its certificate, the node's registration, the
//! runtime re-reading its state) runs code it never runs again, so an idle agent's resident set is
//! half code it does not use. Once started, the agent asks the kernel to unmap the clean file
//! pages of its executable (`MADV_DONTNEED`): they stay in the page cache, and the code the agent
//! keeps running is mapped back on its next use (a minor fault).
//!
//! Only mappings that can be dropped without losing anything qualify: private, not writable, of
//! the running executable, and with no anonymous (copied-on-write) pages. That excludes the
//! RELRO segment, which the dynamic loader wrote relocations into, and the data segments.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::ptr::NonNull;

/// One mapping of `/proc/self/smaps` that the kernel can drop and refault from the file.
#[derive(Debug, PartialEq, Eq)]
pub struct CleanFileMapping {
    pub start: usize,
    pub end: usize,
    /// Its `Rss:`, in bytes: what dropping it takes out of the resident set.
    pub resident_bytes: u64,
}

/// Drops this process's clean mappings of its own executable; returns how many bytes of the
/// resident set it unmapped.
pub fn release() -> std::io::Result<u64> {
    let exe = std::fs::read_link("/proc/self/exe")?;
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = 0;
    for mapping in clean_mappings_of(&smaps, &exe.to_string_lossy()) {
        let Some(start) = NonNull::new(std::ptr::with_exposed_provenance_mut::<c_void>(
            mapping.start,
        )) else {
            continue;
        };
        // SAFETY: the range is a whole private, read-only mapping of the executable with no
        // anonymous pages (checked from smaps just above). MADV_DONTNEED on such a mapping only
        // removes page-table entries; every later access faults the same bytes back in from the
        // file, which cannot change while it runs (the kernel refuses writes to a running
        // executable). No Rust reference is invalidated: the bytes read back are identical.
        unsafe {
            nix::sys::mman::madvise(
                start,
                mapping.end - mapping.start,
                nix::sys::mman::MmapAdvise::MADV_DONTNEED,
            )
        }
        .map_err(std::io::Error::from)?;
        released += mapping.resident_bytes;
    }
    Ok(released)
}

/// The mappings of `exe` in `smaps` that are private, not writable and hold no anonymous pages.
pub fn clean_mappings_of(smaps: &str, exe: &str) -> Vec<CleanFileMapping> {
    let mut found = Vec::new();
    let mut current: Option<(CleanFileMapping, bool)> = None;
    for line in smaps.lines() {
        if let Some(header) = mapping_header(line) {
            if let Some((mapping, true)) = current.take() {
                found.push(mapping);
            }
            current = header_of_exe(header, exe).map(|mapping| (mapping, true));
        } else if let Some((mapping, clean)) = current.as_mut() {
            if let Some(anonymous) = line.strip_prefix("Anonymous:") {
                *clean &= anonymous.trim() == "0 kB";
            } else if let Some(rss) = line.strip_prefix("Rss:") {
                let kib = rss.trim().trim_end_matches("kB").trim();
                mapping.resident_bytes = kib.parse::<u64>().unwrap_or(0) * 1024;
            }
        }
    }
    if let Some((mapping, true)) = current {
        found.push(mapping);
    }
    found
}

/// The fields of a mapping's first line (`start-end perms offset dev inode path`), or None for
/// the `Key: value` lines that follow it.
fn mapping_header(line: &str) -> Option<Vec<&str>> {
    let first = line.split_whitespace().next()?;
    let (start, end) = first.split_once('-')?;
    if start.is_empty()
        || !start
            .bytes()
            .chain(end.bytes())
            .all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    Some(line.splitn(6, ' ').collect())
}

fn header_of_exe(fields: Vec<&str>, exe: &str) -> Option<CleanFileMapping> {
    let [range, perms, _offset, _device, _inode, path] = fields.as_slice() else {
        return None;
    };
    // Readable, not writable, private (`r-xp`, `r--p`).
    let clean_perms = perms.len() == 4 && perms.starts_with("r-") && perms.ends_with('p');
    if path.trim_start() != exe || !clean_perms {
        return None;
    }
    let (start, end) = range.split_once('-')?;
    Some(CleanFileMapping {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        resident_bytes: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d000000000-55d000200000 r--p 00000000 fe:01 1234                       /opt/r8s
Size:               2048 kB
Rss:                1800 kB
Anonymous:             0 kB
55d000200000-55d002000000 r-xp 00200000 fe:01 1234                       /opt/r8s
Size:              30720 kB
Rss:               21000 kB
Anonymous:             0 kB
55d002000000-55d0020c8000 r--p 02000000 fe:01 1234                       /opt/r8s
Size:                800 kB
Rss:                 800 kB
Anonymous:           800 kB
55d0020c8000-55d0020d0000 rw-p 020c8000 fe:01 1234                       /opt/r8s
Rss:                  32 kB
Anonymous:            32 kB
7f0000000000-7f0000100000 r-xp 00000000 fe:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1132 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0 
Rss:                 500 kB
Anonymous:           500 kB
";

    #[test]
    fn only_the_executables_clean_read_only_mappings_qualify() {
        assert_eq!(
            clean_mappings_of(SMAPS, "/opt/r8s"),
            vec![
                CleanFileMapping {
                    start: 0x55d0_0000_0000,
                    end: 0x55d0_0020_0000,
                    resident_bytes: 1800 * 1024,
                },
                CleanFileMapping {
                    start: 0x55d0_0020_0000,
                    end: 0x55d0_0200_0000,
                    resident_bytes: 21000 * 1024,
                },
            ],
            "the relocated (anonymous) RELRO segment, the data segment, libc and the heap stay"
        );
    }

    #[test]
    fn a_replaced_executable_still_matches_its_maps_name() {
        let smaps = SMAPS.replace("/opt/r8s", "/opt/r8s (deleted)");
        assert_eq!(clean_mappings_of(&smaps, "/opt/r8s (deleted)").len(), 2);
        assert!(clean_mappings_of(&smaps, "/opt/r8s").is_empty());
    }

    #[test]
    fn releasing_the_test_binarys_code_leaves_it_running() {
        let released = release().expect("madvise on the test binary");
        // Code runs on after its pages were dropped: they fault back in from the file.
        let mut sum = 0u64;
        for n in 0..1000u64 {
            sum = sum.wrapping_add(n * n);
        }
        assert_eq!(sum, 332_833_500);
        assert!(released > 0, "the test binary had resident code to drop");
        assert!(!clean_mappings_of(
            &std::fs::read_to_string("/proc/self/smaps").expect("smaps"),
            &std::fs::read_link("/proc/self/exe")
                .expect("exe")
                .to_string_lossy()
        )
        .is_empty());
    }
}
