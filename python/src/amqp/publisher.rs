//! `ringq.amqp._Publisher`: the core's publisher, for
//! `ringq.amqp.Publisher`.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use ringq::amqp::PublisherOptions;

use super::errors::{to_py, Op};
use super::wait::{in_slices, seconds, Patience};
use super::PICKLE_CONTENT_TYPE;

/// The broker connection behind ringq.amqp.Publisher (use that class).
#[pyclass(frozen, module = "ringq.amqp", name = "_Publisher")]
pub(crate) struct Publisher {
    inner: ringq::amqp::Publisher,
}

impl Publisher {
    fn publish(
        &self,
        py: Python<'_>,
        body: &[u8],
        content_type: Option<&str>,
        block: bool,
        timeout: Option<f64>,
    ) -> PyResult<u64> {
        let sent = match Patience::read(block, timeout)? {
            Patience::None => self.inner.put_with(body, content_type, Duration::ZERO),
            Patience::Until(deadline) => in_slices(py, deadline, |slice| {
                self.inner.put_with(body, content_type, slice)
            })?,
        };
        sent.map_err(|e| to_py(py, Op::Put, e))
    }
}

#[pymethods]
impl Publisher {
    #[new]
    #[pyo3(signature = (
        url, *, exchange, routing_key, window, mandatory, persistent, connection_name,
        connect_timeout, close_timeout
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &str,
        exchange: String,
        routing_key: String,
        window: i64,
        mandatory: bool,
        persistent: bool,
        connection_name: String,
        connect_timeout: f64,
        close_timeout: f64,
    ) -> PyResult<Self> {
        let window = usize::try_from(window)
            .ok()
            .filter(|&w| w >= 1)
            .ok_or_else(|| {
                PyValueError::new_err(format!("window must be at least 1, got {window}"))
            })?;
        let options = PublisherOptions {
            exchange,
            routing_key,
            window,
            mandatory,
            persistent,
            connection_name,
            connect_timeout: seconds("connect_timeout", connect_timeout)?,
            close_timeout: seconds("close_timeout", close_timeout)?,
            ..PublisherOptions::default()
        };
        let inner = py
            .detach(|| ringq::amqp::Publisher::connect(url, options))
            .map_err(|e| to_py(py, Op::Connect, e))?;
        Ok(Self { inner })
    }

    /// Publishes bytes as they are; returns the message's sequence number.
    #[pyo3(signature = (data, block = true, timeout = None))]
    fn put_bytes(
        &self,
        py: Python<'_>,
        data: &[u8],
        block: bool,
        timeout: Option<f64>,
    ) -> PyResult<u64> {
        self.publish(py, data, None, block, timeout)
    }

    /// Publishes obj pickled (protocol 5), with the content type that
    /// Message.value looks for.
    #[pyo3(signature = (obj, block = true, timeout = None))]
    fn put(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        block: bool,
        timeout: Option<f64>,
    ) -> PyResult<u64> {
        let data = crate::process::codec::dumps(obj)?;
        self.publish(
            py,
            data.as_bytes(),
            Some(PICKLE_CONTENT_TYPE),
            block,
            timeout,
        )
    }

    /// Waits until every message is confirmed; raises PublishError for
    /// those the broker refused.
    #[pyo3(signature = (timeout = None))]
    fn flush(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let deadline = match Patience::read(true, timeout)? {
            Patience::Until(deadline) => deadline,
            Patience::None => None,
        };
        in_slices(py, deadline, |slice| self.inner.flush(slice))?
            .map_err(|e| to_py(py, Op::Flush, e))
    }

    /// True while the broker blocks publishing (a resource alarm).
    fn is_blocked(&self) -> bool {
        self.inner.is_blocked()
    }

    /// Waits for outstanding confirms (up to close_timeout), then closes.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.close())
            .map_err(|e| to_py(py, Op::Put, e))
    }

    /// Counters: confirmed, failed, republished, reconnects.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("confirmed", s.confirmed)?;
        d.set_item("failed", s.failed)?;
        d.set_item("republished", s.republished)?;
        d.set_item("reconnects", s.reconnects)?;
        Ok(d)
    }
}
