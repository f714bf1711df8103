//! The message CreateContainer reports when `runc create` fails: runc's own words, without the
//! command line and log decoration (as containerd reports "OCI runtime create failed: ...").

use crate::oci_runtime::OciRuntimeError;

pub fn create_failure_message(error: &OciRuntimeError) -> String {
    match error {
        OciRuntimeError::Failed { stderr, .. } => {
            format!("OCI runtime create failed: {}", runc_message(stderr))
        }
        other => other.to_string(),
    }
}

/// The `msg` of a logfmt line (`time=".." level=error msg="..."`); the text itself otherwise.
fn runc_message(text: &str) -> String {
    let text = text.trim();
    let Some(start) = text.find("msg=\"") else {
        return text.to_string();
    };
    let mut message = String::new();
    let mut chars = text[start + 5..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => message.push('\n'),
                Some('t') => message.push('\t'),
                Some(other) => message.push(other),
                None => break,
            },
            '"' => return message,
            c => message.push(c),
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_runc_words() {
        let error = OciRuntimeError::Failed {
            command: "runc --root /r create x".into(),
            status: "exit status: 1".into(),
            stderr: r#"time="2026-11-23T00:48:50Z" level=error msg="runc create failed: unable to start container process: exec: \"/no/such\": stat /no/such: no such file or directory""#.into(),
        };
        assert_eq!(
            create_failure_message(&error),
            "OCI runtime create failed: runc create failed: unable to start container process: exec: \"/no/such\": stat /no/such: no such file or directory"
        );
        assert_eq!(runc_message("plain words"), "plain words");
        assert_eq!(runc_message("msg=\"unterminated"), "msg=\"unterminated");
    }
}
