//! RuntimeService calls that hand out streaming URLs (exec, attach, port-forward).

use k8s_cri::v1 as cri;

use crate::{Runtime, RuntimeError};

pub async fn exec(
    _runtime: &Runtime,
    _request: cri::ExecRequest,
) -> Result<cri::ExecResponse, RuntimeError> {
    Err(RuntimeError::Failed("exec is not implemented yet".into()))
}

pub async fn attach(
    _runtime: &Runtime,
    _request: cri::AttachRequest,
) -> Result<cri::AttachResponse, RuntimeError> {
    Err(RuntimeError::Failed("attach is not implemented yet".into()))
}

pub async fn port_forward(
    _runtime: &Runtime,
    _request: cri::PortForwardRequest,
) -> Result<cri::PortForwardResponse, RuntimeError> {
    Err(RuntimeError::Failed("port_forward is not implemented yet".into()))
}
