//! Binding tasks: PreBind and Bind run off the scheduling thread, a bounded number at once;
//! the outcome goes back to the thread (a failure forgets the assumed pod and requeues it).

use std::sync::mpsc::Sender;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use crate::framework::Framework;
use crate::messages::Message;
use crate::recorder::Recorder;
use crate::snapshot::PodInfo;

pub struct Binder {
    runtime: Handle,
    permits: Arc<Semaphore>,
    framework: Arc<Framework>,
    recorder: Recorder,
    tx: Sender<Message>,
}

impl Binder {
    pub fn new(
        runtime: Handle,
        concurrency: usize,
        framework: Arc<Framework>,
        recorder: Recorder,
        tx: Sender<Message>,
    ) -> Binder {
        Binder {
            runtime,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            framework,
            recorder,
            tx,
        }
    }

    /// Starts binding `pod` (already assumed) to `node`; returns at once.
    pub fn bind(&self, pod: Arc<PodInfo>, node: String, attempts: u32) {
        let permits = self.permits.clone();
        let pre_bind = self.framework.pre_bind.clone();
        let bind = self.framework.bind.clone();
        let recorder = self.recorder.clone();
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let status = Framework::run_binding(pre_bind, bind, pod.clone(), node.clone()).await;
            if status.is_success() {
                recorder.scheduled(pod.clone(), &node);
            }
            let _ = tx.send(Message::BindFinished {
                pod,
                node,
                status,
                attempts,
            });
        });
    }
}
