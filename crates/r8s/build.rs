//! Link options of the r8s binary.

fn main() {
    // A position-dependent executable (ET_EXEC), as Go links kubelet, containerd and runc: the
    // loader then has no relocations to apply to r8s itself. As a PIE, every start of `r8s shim`
    // and `r8s pause` (two per pod) copied the ~200 pages of .data.rel.ro that the loader
    // relocates (about 800 KB of private memory in each of those processes, and the faults and
    // copies in their start). The libraries r8s links (libc, libgcc_s) are still placed at random.
    println!("cargo:rustc-link-arg-bins=-no-pie");
    // Should a build ever be a PIE again: relative relocations packed as DT_RELR (glibc >= 2.36,
    // as on Debian 12) keep .rela.dyn a few KB instead of 1 MB. Nothing to pack in an ET_EXEC.
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
