//! The real thing: `nft -f -` with the script on stdin.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{Nft, NftError};

#[derive(Debug, Clone)]
pub struct NftCommand {
    program: PathBuf,
}

impl Default for NftCommand {
    fn default() -> Self {
        Self {
            program: PathBuf::from("nft"),
        }
    }
}

impl NftCommand {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }
}

impl Nft for NftCommand {
    fn apply(&self, script: &str) -> Result<(), NftError> {
        let spawn_error = |source| NftError::Spawn {
            program: self.program.display().to_string(),
            source,
        };
        let mut child = Command::new(&self.program)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes()).map_err(spawn_error)?;
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(NftError::Rejected {
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let nft = NftCommand::new("/nonexistent/nft");
        assert!(matches!(nft.apply(""), Err(NftError::Spawn { .. })));
    }
}
