//! Image garbage collection (upstream's image GC manager): unused images are removed, least
//! recently used first, when the image filesystem fills past the high threshold.

mod manager;
pub mod runtime;
pub mod selection;

pub use manager::{run_image_gc, ImageGc};
pub use runtime::{ImageRuntime, RuntimeImage};
