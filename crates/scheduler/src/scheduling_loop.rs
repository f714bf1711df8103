//! The scheduling thread: owns the snapshot and the queue, applies watch events between
//! decisions, schedules one pod at a time and hands bindings to [`Binder`].

use std::collections::HashSet;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;

use crate::algorithm::{Algorithm, ScheduleFailure};
use crate::binder::Binder;
use crate::framework::{Code, CycleState, FilterRunner, Framework, PostFilterResult, Status};
use crate::messages::{Kind, Message};
use crate::options::SchedulerOptions;
use crate::priority::PriorityClasses;
use crate::queue::{Failure, SchedulingQueue};
use crate::recorder::Recorder;
use crate::snapshot::{NodeChange, PodInfo, Snapshot};

pub struct SchedulingLoop {
    framework: Arc<Framework>,
    options: SchedulerOptions,
    snapshot: Snapshot,
    queue: SchedulingQueue,
    algorithm: Algorithm,
    priorities: PriorityClasses,
    binder: Binder,
    recorder: Recorder,
    listed_nodes: bool,
    listed_pods: bool,
    /// Uids of pods with a binding in flight that still exist.
    binding: HashSet<String>,
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

impl SchedulingLoop {
    pub fn new(
        framework: Arc<Framework>,
        options: SchedulerOptions,
        binder: Binder,
        recorder: Recorder,
    ) -> SchedulingLoop {
        let sort = framework
            .queue_sort
            .clone()
            .unwrap_or_else(|| Arc::new(crate::plugins::queue_sort::PrioritySort));
        SchedulingLoop {
            algorithm: Algorithm::new(options.percentage_of_nodes_to_score, options.parallelism),
            queue: SchedulingQueue::new(sort),
            framework,
            options,
            snapshot: Snapshot::new(),
            priorities: PriorityClasses::default(),
            binder,
            recorder,
            listed_nodes: false,
            listed_pods: false,
            binding: HashSet::new(),
        }
    }

    /// Runs until a Shutdown message or every sender is gone.
    pub fn run(mut self, rx: Receiver<Message>) {
        loop {
            // Apply everything that arrived before deciding, so decisions see fresh state.
            loop {
                match rx.try_recv() {
                    Ok(Message::Shutdown) => return,
                    Ok(message) => self.handle(message),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                }
            }
            let ready = self.listed_nodes && self.listed_pods;
            if ready && self.schedule_one() {
                continue;
            }
            let timeout = if ready {
                self.queue.idle_timeout(Instant::now())
            } else {
                Duration::from_secs(1)
            };
            match rx.recv_timeout(timeout.max(Duration::from_millis(1))) {
                Ok(Message::Shutdown) => return,
                Ok(message) => self.handle(message),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn handle(&mut self, message: Message) {
        let now = Instant::now();
        match message {
            Message::NodeApplied(node) => match self.snapshot.upsert_node(*node) {
                NodeChange::Added | NodeChange::Relevant => {
                    self.queue.move_all_to_active_or_backoff(now)
                }
                NodeChange::Irrelevant => {}
            },
            Message::NodeDeleted(name) => self.snapshot.remove_node(&name),
            Message::PodApplied(pod) => self.pod_applied(*pod, now),
            Message::PodDeleted(pod) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                self.queue.delete(&uid);
                self.binding.remove(&uid);
                if self.snapshot.remove_pod(&uid).is_some() {
                    self.queue.move_all_to_active_or_backoff(now);
                }
            }
            Message::PriorityClassApplied(class) => self.priorities.apply(&class),
            Message::PriorityClassDeleted(name) => self.priorities.delete(&name),
            Message::Listed { kind, seen } => self.listed(kind, &seen, now),
            Message::BindFinished {
                pod,
                node,
                status,
                attempts,
            } => self.bind_finished(pod, &node, status, attempts, now),
            Message::Shutdown => {}
        }
    }

    fn listed(&mut self, kind: Kind, seen: &std::collections::HashSet<String>, now: Instant) {
        match kind {
            Kind::Node => {
                let gone: Vec<String> = self
                    .snapshot
                    .nodes()
                    .iter()
                    .filter(|n| !seen.contains(&n.name))
                    .map(|n| n.name.clone())
                    .collect();
                for name in gone {
                    self.snapshot.remove_node(&name);
                }
                self.listed_nodes = true;
            }
            Kind::Pod => {
                let gone: Vec<String> = self
                    .snapshot
                    .placed_pods()
                    .filter(|(_, p)| !seen.contains(&p.uid) && !self.snapshot.is_assumed(&p.uid))
                    .map(|(_, p)| p.uid.clone())
                    .collect();
                for uid in gone {
                    self.snapshot.remove_pod(&uid);
                    self.queue.delete(&uid);
                }
                self.listed_pods = true;
                self.queue.move_all_to_active_or_backoff(now);
            }
            Kind::PriorityClass => {}
        }
    }

    fn pod_applied(&mut self, pod: Pod, now: Instant) {
        let priority = self.priorities.resolve(&pod);
        let info = PodInfo::new(pod, priority);
        if info.node_name.is_some() {
            self.queue.delete(&info.uid);
            if is_terminal(&info.pod) {
                if self.snapshot.remove_pod(&info.uid).is_some() {
                    self.queue.move_all_to_active_or_backoff(now);
                }
            } else {
                self.snapshot.add_pod(info.placed());
            }
            return;
        }
        if info.scheduler_name != self.options.scheduler_name
            || info.terminating
            || is_terminal(&info.pod)
        {
            self.queue.delete(&info.uid);
            return;
        }
        if self.snapshot.is_assumed(&info.uid) {
            return;
        }
        self.queue.update(&self.framework, Arc::new(info), now);
    }

    fn bind_finished(
        &mut self,
        pod: Arc<PodInfo>,
        node: &str,
        status: Status,
        attempts: u32,
        now: Instant,
    ) {
        let still_exists = self.binding.remove(&pod.uid);
        if status.is_success() {
            return;
        }
        if !still_exists {
            self.snapshot.forget(&pod.uid);
            return;
        }
        tracing::debug!(pod = %pod.key(), node, error = %status.message(), "binding failed");
        self.snapshot.forget(&pod.uid);
        self.queue.move_all_to_active_or_backoff(now);
        let message = format!("Binding rejected: {}", status.message());
        self.recorder.failed_scheduling(pod.clone(), message);
        self.queue
            .requeue_after_bind_failure(&self.framework, pod, attempts, now);
    }

    /// One scheduling attempt; false when the queue had nothing ready.
    fn schedule_one(&mut self) -> bool {
        let now = Instant::now();
        let Some(queued) = self.queue.pop(now) else {
            return false;
        };
        let pod = queued.pod.clone();
        if self.snapshot.is_placed(&pod.uid) {
            self.queue.done(&pod.uid);
            return true;
        }
        let mut state = CycleState::new();
        let result = self
            .algorithm
            .schedule(&self.framework, &self.snapshot, &mut state, &pod);
        match result {
            Ok(result) => self.assume_and_bind(&mut state, &pod, result.node, queued.attempts),
            Err(ScheduleFailure::Fit(mut error, statuses)) => {
                let (status, outcome) = self.run_post_filter(&state, &pod, &statuses);
                if status.is_rejected() || !status.message().is_empty() {
                    let message = status.message();
                    if !message.is_empty() {
                        error.post_filter_message = Some(message);
                    }
                }
                let message = error.to_string();
                for victim in &outcome.victims {
                    self.recorder.delete_victim(victim.clone());
                }
                self.queue.requeue(
                    &pod.uid,
                    Failure::Unschedulable,
                    error.unschedulable_plugins.clone(),
                    Instant::now(),
                );
                self.recorder
                    .failed_scheduling(pod.clone(), message.clone());
                self.recorder
                    .unschedulable(pod, message, outcome.nominated_node);
            }
            Err(ScheduleFailure::Error(status)) => {
                tracing::warn!(pod = %pod.key(), error = %status.message(), "scheduling error");
                self.queue
                    .requeue(&pod.uid, Failure::Error, Vec::new(), Instant::now());
                self.recorder.failed_scheduling(pod, status.message());
            }
        }
        true
    }

    fn run_post_filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &crate::framework::NodeStatuses,
    ) -> (Status, PostFilterResult) {
        let runner: &dyn FilterRunner = self.framework.as_ref();
        let mut last = (Status::unschedulable(""), PostFilterResult::default());
        for plugin in &self.framework.post_filter {
            let (status, outcome) =
                plugin.post_filter(state, pod, &self.snapshot, statuses, runner);
            if status.is_success() {
                return (status, outcome);
            }
            if status.code() != Code::Unschedulable
                && status.code() != Code::UnschedulableAndUnresolvable
            {
                return (status, outcome);
            }
            last = (status, outcome);
        }
        last
    }

    fn assume_and_bind(
        &mut self,
        state: &mut CycleState,
        pod: &Arc<PodInfo>,
        node: String,
        attempts: u32,
    ) {
        self.snapshot.assume(pod, &node);
        let reserved = self.framework.run_reserve(state, pod, &node);
        let permitted = if reserved.is_success() {
            self.framework.run_permit(state, pod, &node)
        } else {
            reserved.clone()
        };
        if !permitted.is_success() {
            if reserved.is_success() {
                self.framework.run_unreserve(state, pod, &node);
            }
            self.snapshot.forget(&pod.uid);
            let failure = if permitted.is_rejected() {
                Failure::Unschedulable
            } else {
                Failure::Error
            };
            self.queue
                .requeue(&pod.uid, failure, vec![permitted.plugin()], Instant::now());
            self.recorder
                .failed_scheduling(pod.clone(), permitted.message());
            return;
        }
        self.queue.done(&pod.uid);
        self.binding.insert(pod.uid.clone());
        self.binder.bind(pod.clone(), node, attempts);
    }
}
