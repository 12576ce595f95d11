//! `next()` for lapin's streams (its consumer and its connection events),
//! without a futures utility crate.

use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;

/// The stream's next item, or `None` at its end.
pub(crate) async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}
