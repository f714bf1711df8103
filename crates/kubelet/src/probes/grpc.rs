//! grpc probes: `grpc.health.v1.Health/Check` with the probe's service name.

use std::time::Duration;

use tonic::transport::Endpoint;

use super::tcp::join_host_port;

/// `grpc.health.v1.HealthCheckRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    pub service: String,
}

/// `grpc.health.v1.HealthCheckResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    pub status: i32,
}

/// The `ServingStatus` names, by number.
fn serving_status_name(status: i32) -> &'static str {
    match status {
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    }
}

/// Runs the health check; `Err` carries upstream's probe message.
pub async fn check_grpc(
    host: &str,
    port: u16,
    service: &str,
    timeout: Duration,
) -> Result<(), String> {
    let address = join_host_port(host, port);
    let seconds = timeout.as_secs();
    let channel = async {
        Endpoint::from_shared(format!("http://{address}"))
            .map_err(|e| e.to_string())?
            .connect_timeout(timeout)
            .connect()
            .await
            .map_err(|e| e.to_string())
    };
    let channel = match tokio::time::timeout(timeout, channel).await {
        Ok(Ok(channel)) => channel,
        Ok(Err(e)) => {
            return Err(format!(
                "timeout: failed to connect service \"{address}\" within {seconds}s: {e}"
            ))
        }
        Err(_) => {
            return Err(format!(
                "timeout: failed to connect service \"{address}\" within {seconds}s: context deadline exceeded"
            ))
        }
    };
    let mut grpc = tonic::client::Grpc::new(channel);
    let call = async {
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let path = http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/Check");
        let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
        let request = tonic::Request::new(HealthCheckRequest {
            service: service.to_string(),
        });
        grpc.unary(request, path, codec).await
    };
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Err(format!(
            "timeout: health rpc did not complete within {seconds}s"
        )),
        Ok(Err(status)) if status.code() == tonic::Code::Unimplemented => Err(format!(
            "this server does not implement the grpc health protocol (grpc.health.v1.Health): {}",
            status.message()
        )),
        Ok(Err(status)) if status.code() == tonic::Code::DeadlineExceeded => Err(format!(
            "timeout: health rpc did not complete within {seconds}s"
        )),
        Ok(Err(status)) => Err(format!(
            "health rpc probe failed: rpc error: code = {:?} desc = {}",
            status.code(),
            status.message()
        )),
        Ok(Ok(response)) => {
            let status = response.into_inner().status;
            if status == 1 {
                Ok(())
            } else {
                Err(format!(
                    "service unhealthy (responded with \"{}\")",
                    serving_status_name(status)
                ))
            }
        }
    }
}
