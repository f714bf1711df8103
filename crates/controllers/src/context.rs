use std::sync::Arc;

use crate::options::ControllerOptions;

/// What every controller starts from.
#[derive(Clone)]
pub struct ControllerContext {
    pub client: kube::Client,
    pub options: Arc<ControllerOptions>,
}

impl ControllerContext {
    pub fn new(client: kube::Client, options: ControllerOptions) -> Self {
        Self {
            client,
            options: Arc::new(options),
        }
    }
}
