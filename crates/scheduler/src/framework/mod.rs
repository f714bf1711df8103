//! The scheduling framework: extension points, statuses, per-cycle state, the failure summary.

mod cycle;
mod fit_error;
mod profile;
mod sampling;
mod status;
mod traits;

pub use cycle::CycleState;
pub use fit_error::{sorted_histogram, FitError};
pub use profile::Framework;
pub use sampling::num_feasible_nodes_to_find;
pub use status::{Code, Status};
pub use traits::{
    BindPlugin, FilterPlugin, FilterRunner, NodeStatuses, PermitPlugin, Plugin, PostFilterPlugin,
    PostFilterResult, PreBindPlugin, PreEnqueuePlugin, PreFilterPlugin, PreScorePlugin,
    QueueSortPlugin, ReservePlugin, ScorePlugin, MAX_NODE_SCORE,
};
