//! The `metav1.Status` a v4+ exec reports on the error channel when the command ends.

use serde_json::{json, Value};

/// Success, or the failure that makes `kubectl exec` exit with `exit_code`.
pub fn exit_status(cmd: &[String], exit_code: i32) -> Value {
    if exit_code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {exit_code}",
            cmd.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
    })
}

/// A failure that is not the command's own (it could not be started, the stream broke).
pub fn internal_error(message: &str) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_has_no_message() {
        assert_eq!(
            exit_status(&["true".into()], 0),
            json!({"metadata": {}, "status": "Success"})
        );
    }

    #[test]
    fn a_non_zero_exit_names_the_code_as_upstream() {
        let cmd = vec!["sh".to_string(), "-c".to_string(), "exit 3".to_string()];
        let status = exit_status(&cmd, 3);
        assert_eq!(status["reason"], "NonZeroExitCode");
        assert_eq!(
            status["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        assert_eq!(
            status["message"],
            "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3"
        );
    }
}
