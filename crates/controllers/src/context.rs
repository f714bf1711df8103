use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::informers::Informers;
use crate::options::ControllerOptions;

/// What every controller starts from.
#[derive(Clone)]
pub struct ControllerContext {
    pub client: kube::Client,
    pub options: Arc<ControllerOptions>,
    /// The one Pod watch and the one Node watch every controller shares.
    pub informers: Informers,
}

impl ControllerContext {
    /// A context whose shared informers watch until `cancel` fires.
    pub fn start(
        client: kube::Client,
        options: Arc<ControllerOptions>,
        cancel: &CancellationToken,
    ) -> Self {
        Self {
            informers: Informers::spawn(client.clone(), cancel),
            client,
            options,
        }
    }
}
