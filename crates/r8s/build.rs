//! Link options of the r8s binary.

fn main() {
    // Relative relocations packed as DT_RELR (glibc >= 2.36, as on Debian 12): the ~42,000
    // R_X86_64_RELATIVE entries of a PIE this size are 1 MB of .rela.dyn that the loader reads at
    // every start and that stays resident in every r8s process; packed they take a few KB.
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
