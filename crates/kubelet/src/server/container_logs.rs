//! `/containerLogs/{namespace}/{pod}/{container}`: the container's CRI log file, formatted.

use std::path::Path;
use std::time::Duration;

use http::StatusCode;

use super::body::{channel_body, response, KubeletResponse};
use super::container_lookup::{find_container, CriLiveness};
use super::http_error::HttpError;
use super::log_files::{container_log_files, find_pod_log_dir, select_log_file};
use super::log_options::LogOptions;
use super::log_stream::stream_log_file;
use super::query::QueryPairs;
use crate::CriClient;

const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(250);

pub async fn container_logs(
    cri: &CriClient,
    pod_log_dir: &Path,
    query: Option<&str>,
    (namespace, pod, container): (&str, &str, &str),
) -> Result<KubeletResponse, HttpError> {
    let options = LogOptions::from_query(&QueryPairs::parse(query), jiff::Timestamp::now())
        .map_err(HttpError::bad_request)?;
    let pod_dir = find_pod_log_dir(pod_log_dir, namespace, pod)
        .map_err(|e| HttpError::internal(e.to_string()))?
        .ok_or_else(|| HttpError::not_found(format!("pod \"{namespace}/{pod}\" not found")))?;
    let files =
        container_log_files(&pod_dir, container).map_err(|e| HttpError::internal(e.to_string()))?;
    let path = match select_log_file(&files, options.previous) {
        Some(path) => path.to_path_buf(),
        None if options.previous => {
            return Err(HttpError::bad_request(format!(
                "previous terminated container {container:?} in pod {pod:?} not found"
            )))
        }
        None => {
            return Err(HttpError::bad_request(format!(
                "container {container:?} in pod {pod:?} is waiting to start - no logs yet"
            )))
        }
    };
    // Only the current container is followed; a previous one has exited already.
    let container_id = if options.follow && !options.previous {
        find_container(cri, namespace, pod, container)
            .await
            .ok()
            .flatten()
            .map(|c| c.id)
    } else {
        None
    };
    let liveness = CriLiveness {
        cri: cri.clone(),
        container_id,
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        if let Err(error) =
            stream_log_file(&path, &options, &liveness, sender, FOLLOW_POLL_INTERVAL).await
        {
            tracing::debug!(%error, path = %path.display(), "streaming a container log failed");
        }
    });
    Ok(response(
        StatusCode::OK,
        "text/plain",
        channel_body(receiver),
    ))
}
