//! The collector's loop: apply watch changes to the graph, then act on the objects they touched.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::decision::{dependent_action, owner_action, DependentAction, ItemFacts, OwnerAction};
use super::effects::Effects;
use super::graph::{Graph, Node};
use super::monitored_resources::MonitoredResources;
use super::GraphEvent;

/// How long a deleting owner must look childless (foreground) or have been orphaning before its
/// finalizer is removed: dependents created just before the owner's deletion may not have
/// reached the graph yet, since each resource has its own watch.
const SETTLE: Duration = Duration::from_secs(1);
const RETRY_DELAY: Duration = Duration::from_secs(2);

pub struct Collector {
    effects: Effects,
    graph: Graph,
    dirty: VecDeque<String>,
    queued: HashSet<String>,
    retry_at: HashMap<String, Instant>,
    /// Owners waiting for SETTLE before their finalizer is removed, and since when.
    settling_since: HashMap<String, Instant>,
    /// Per resource, the uids listed so far by a relist in progress.
    relisting: HashMap<usize, HashSet<String>>,
}

impl Collector {
    pub fn new(client: kube::Client, monitored: MonitoredResources) -> Self {
        Self {
            effects: Effects::new(client, monitored),
            graph: Graph::default(),
            dirty: VecDeque::new(),
            queued: HashSet::new(),
            retry_at: HashMap::new(),
            settling_since: HashMap::new(),
            relisting: HashMap::new(),
        }
    }

    pub async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<GraphEvent>,
        cancel: CancellationToken,
    ) {
        loop {
            while let Ok(event) = events.try_recv() {
                self.apply(event);
            }
            self.requeue_due_retries();
            if let Some(uid) = self.dirty.pop_front() {
                self.queued.remove(&uid);
                if !self.process(&uid).await {
                    self.retry_at.insert(uid, Instant::now() + RETRY_DELAY);
                }
                continue;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                event = events.recv() => match event {
                    Some(event) => self.apply(event),
                    None => return,
                },
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Whether `uid` has waited SETTLE since first asked; starts the wait on the first call.
    fn settled(&mut self, uid: &str) -> bool {
        let since = *self
            .settling_since
            .entry(uid.to_string())
            .or_insert_with(Instant::now);
        if since.elapsed() < SETTLE {
            return false;
        }
        self.settling_since.remove(uid);
        true
    }

    fn mark_dirty(&mut self, uids: impl IntoIterator<Item = String>) {
        for uid in uids {
            if self.queued.insert(uid.clone()) {
                self.dirty.push_back(uid);
            }
        }
    }

    fn requeue_due_retries(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .retry_at
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in &due {
            self.retry_at.remove(uid);
        }
        self.mark_dirty(due);
    }

    fn apply(&mut self, event: GraphEvent) {
        let touched = match event {
            GraphEvent::Upsert(resource, meta) => Node::from_meta(resource, &meta)
                .map(|node| self.graph.upsert(node))
                .unwrap_or_default(),
            GraphEvent::Delete(meta) => meta
                .uid
                .as_deref()
                .map(|uid| self.graph.remove(uid))
                .unwrap_or_default(),
            GraphEvent::InitStarted(resource) => {
                self.relisting.insert(resource, HashSet::new());
                Vec::new()
            }
            GraphEvent::InitApply(resource, meta) => {
                let Some(node) = Node::from_meta(resource, &meta) else {
                    return;
                };
                self.relisting
                    .entry(resource)
                    .or_default()
                    .insert(node.uid.clone());
                self.graph.upsert(node)
            }
            GraphEvent::InitDone(resource) => {
                let listed = self.relisting.remove(&resource).unwrap_or_default();
                let mut touched = Vec::new();
                for uid in self.graph.uids_of_resource(resource) {
                    if !listed.contains(&uid) {
                        touched.extend(self.graph.remove(&uid));
                    }
                }
                touched
            }
        };
        self.mark_dirty(touched);
    }

    /// Act on one object; false when it should be tried again later.
    async fn process(&mut self, uid: &str) -> bool {
        let Some(node) = self.graph.node(uid).cloned() else {
            self.settling_since.remove(uid);
            return true;
        };
        let facts = ItemFacts {
            deleting: node.deleting,
            finalizers: node.finalizers.clone(),
            has_dependents: self.graph.has_dependents(uid),
        };
        // Counting blocking dependents walks them all (a ReplicaSet's thousand pods): only an
        // owner being deleted needs it.
        let blocking = if node.deleting {
            self.graph.blocking_dependents_of(uid)
        } else {
            0
        };
        match owner_action(&facts, blocking) {
            OwnerAction::OrphanDependents => {
                let dependents: Vec<Node> =
                    self.graph.dependents_of(uid).into_iter().cloned().collect();
                if !self.effects.orphan_dependents(&node, &dependents).await || !self.settled(uid) {
                    return false;
                }
                return self.effects.remove_orphan_finalizer(&node).await;
            }
            OwnerAction::AwaitDependents => {
                self.settling_since.remove(uid);
                let dependents: Vec<String> = self
                    .graph
                    .dependents_of(uid)
                    .iter()
                    .map(|d| d.uid.clone())
                    .collect();
                self.mark_dirty(dependents);
                return true;
            }
            OwnerAction::RemoveForegroundFinalizer => {
                if !self.settled(uid) {
                    return false;
                }
                // Non-blocking dependents go too, once the owner is gone.
                return self.effects.remove_foreground_finalizer(&node).await;
            }
            OwnerAction::None => {}
        }
        // Decide from the graph; before acting, decide again from a live read of the object,
        // as upstream's attemptToDeleteItem does: the graph may still hold references that a
        // write (an orphaning owner's, for one) has already removed.
        let Some(action) = self.dependent_decision(&node, &facts).await else {
            return false;
        };
        if action == DependentAction::Keep {
            return true;
        }
        let live = match self.effects.live_node(&node).await {
            Some(Some(live)) if live.uid == node.uid => live,
            Some(_) => return true,
            None => return false,
        };
        let live_facts = ItemFacts {
            deleting: live.deleting,
            finalizers: live.finalizers.clone(),
            has_dependents: facts.has_dependents,
        };
        let Some(action) = self.dependent_decision(&live, &live_facts).await else {
            return false;
        };
        match action {
            DependentAction::Keep => true,
            DependentAction::RewriteOwnerReferences { remove, unblock } => {
                self.effects
                    .rewrite_owner_references(&live, &remove, &unblock)
                    .await
            }
            DependentAction::Delete(propagation) => self.effects.delete(&live, propagation).await,
        }
    }

    /// What the dependent side asks for `node`, given how its owners stand; None when an
    /// owner's state cannot be told now.
    async fn dependent_decision(&self, node: &Node, facts: &ItemFacts) -> Option<DependentAction> {
        if node.owners.is_empty() || node.deleting {
            return Some(DependentAction::Keep);
        }
        let mut owner_states = Vec::new();
        for owner in &node.owners {
            let known = self.graph.node(&owner.uid);
            let state = self
                .effects
                .owner_state(owner, node.namespace.as_deref(), known)
                .await?;
            owner_states.push((owner.uid.clone(), state));
        }
        Some(dependent_action(facts, &owner_states))
    }
}
