//! The container's argv and environment, from the CRI config over the image config, as
//! Kubernetes defines them: `command` replaces the image Entrypoint, `args` replace its Cmd.

use k8s_cri::v1 as cri;
use oci_spec::image::Config as ImageConfig;

use crate::RuntimeError;

pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn argv(
    config: &cri::ContainerConfig,
    image: Option<&ImageConfig>,
) -> Result<Vec<String>, RuntimeError> {
    let entrypoint = image
        .and_then(|c| c.entrypoint().clone())
        .unwrap_or_default();
    let cmd = image.and_then(|c| c.cmd().clone()).unwrap_or_default();
    let argv: Vec<String> = if !config.command.is_empty() {
        config.command.iter().chain(&config.args).cloned().collect()
    } else if !config.args.is_empty() {
        entrypoint
            .into_iter()
            .chain(config.args.iter().cloned())
            .collect()
    } else {
        entrypoint.into_iter().chain(cmd).collect()
    };
    if argv.is_empty() {
        return Err(RuntimeError::InvalidArgument("no command specified".into()));
    }
    Ok(argv)
}

/// The image's environment, then the CRI envs (a later key replaces an earlier one in place),
/// with a default PATH when neither sets one.
pub fn environment(
    config: &cri::ContainerConfig,
    image: Option<&ImageConfig>,
    hostname: &str,
) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    let mut set = |entry: String| {
        let key = entry.split('=').next().unwrap_or_default().to_string();
        match env
            .iter_mut()
            .find(|e| e.split('=').next() == Some(key.as_str()))
        {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    };
    if !hostname.is_empty() {
        set(format!("HOSTNAME={hostname}"));
    }
    for entry in image.and_then(|c| c.env().clone()).unwrap_or_default() {
        set(entry);
    }
    for kv in &config.envs {
        set(format!("{}={}", kv.key, kv.value));
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(DEFAULT_PATH.to_string());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(entrypoint: &[&str], cmd: &[&str]) -> ImageConfig {
        let mut config = ImageConfig::default();
        config.set_entrypoint(Some(entrypoint.iter().map(|s| s.to_string()).collect()));
        config.set_cmd(Some(cmd.iter().map(|s| s.to_string()).collect()));
        config.set_env(Some(vec!["PATH=/bin".into(), "A=image".into()]));
        config
    }

    fn config(command: &[&str], args: &[&str]) -> cri::ContainerConfig {
        cri::ContainerConfig {
            command: command.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            envs: vec![cri::KeyValue {
                key: "A".into(),
                value: "cri".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn command_and_args_replace_entrypoint_and_cmd() {
        let image = image(&["/entry"], &["cmd1", "cmd2"]);
        let cases: [(&[&str], &[&str], &[&str]); 4] = [
            (&[], &[], &["/entry", "cmd1", "cmd2"]),
            (&[], &["a"], &["/entry", "a"]),
            (&["/c"], &[], &["/c"]),
            (&["/c"], &["a"], &["/c", "a"]),
        ];
        for (command, args, want) in cases {
            assert_eq!(argv(&config(command, args), Some(&image)).unwrap(), want);
        }
        assert!(argv(&config(&[], &[]), None).is_err());
    }

    #[test]
    fn cri_envs_override_the_image_env() {
        let env = environment(&config(&["x"], &[]), Some(&image(&[], &[])), "pod");
        assert_eq!(env, ["HOSTNAME=pod", "PATH=/bin", "A=cri"]);
        assert!(environment(&config(&["x"], &[]), None, "").contains(&DEFAULT_PATH.to_string()));
    }
}
