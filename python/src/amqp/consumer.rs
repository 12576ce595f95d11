//! `ringq.amqp._Consumer`: the core's consumer, for `ringq.amqp.Consumer`.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use ringq::amqp::{ConsumerOptions, Error};

use super::errors::{to_py, Op};
use super::message::Message;
use super::wait::{in_slices, seconds, Patience};

/// The broker connection behind ringq.amqp.Consumer (use that class).
#[pyclass(frozen, module = "ringq.amqp", name = "_Consumer")]
pub(crate) struct Consumer {
    inner: Arc<ringq::amqp::Consumer>,
    accept_pickle: bool,
}

impl Consumer {
    fn message(&self, py: Python<'_>, msg: ringq::amqp::Message) -> Message {
        Message::new(py, msg, Arc::clone(&self.inner), self.accept_pickle)
    }
}

#[pymethods]
impl Consumer {
    #[new]
    #[pyo3(signature = (
        url, queue, *, prefetch, declare, durable, dead_letter_exchange,
        dead_letter_routing_key, connection_name, connect_timeout, close_timeout,
        accept_pickle
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &str,
        queue: &str,
        prefetch: i64,
        declare: bool,
        durable: bool,
        dead_letter_exchange: Option<String>,
        dead_letter_routing_key: Option<String>,
        connection_name: String,
        connect_timeout: f64,
        close_timeout: f64,
        accept_pickle: bool,
    ) -> PyResult<Self> {
        let prefetch = u16::try_from(prefetch)
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| {
                PyValueError::new_err(format!("prefetch must be from 1 to 65535, got {prefetch}"))
            })?;
        let options = ConsumerOptions {
            prefetch,
            declare,
            durable,
            dead_letter_exchange,
            dead_letter_routing_key,
            connection_name,
            connect_timeout: seconds("connect_timeout", connect_timeout)?,
            close_timeout: seconds("close_timeout", close_timeout)?,
            ..ConsumerOptions::default()
        };
        let inner = py
            .detach(|| ringq::amqp::Consumer::connect(url, queue, options))
            .map_err(|e| to_py(py, Op::Connect, e))?;
        Ok(Self {
            inner: Arc::new(inner),
            accept_pickle,
        })
    }

    /// The next message (block and timeout as queue.Queue.get()).
    #[pyo3(signature = (block = true, timeout = None))]
    fn get(&self, py: Python<'_>, block: bool, timeout: Option<f64>) -> PyResult<Message> {
        let got = match Patience::read(block, timeout)? {
            Patience::None => self.inner.try_get(),
            Patience::Until(deadline) => {
                in_slices(py, deadline, |slice| self.inner.get_timeout(slice))?
            }
        };
        match got {
            Ok(msg) => Ok(self.message(py, msg)),
            // try_get reports an empty buffer as a timeout.
            Err(err) => Err(to_py(py, Op::Get, err)),
        }
    }

    /// Up to max_items messages: those buffered now, or the first to come.
    #[pyo3(signature = (max_items, block = true, timeout = None))]
    fn get_many(
        &self,
        py: Python<'_>,
        max_items: i64,
        block: bool,
        timeout: Option<f64>,
    ) -> PyResult<Vec<Message>> {
        if max_items < 1 {
            return Err(PyValueError::new_err(format!(
                "max_items must be at least 1, got {max_items}"
            )));
        }
        let first = self.get(py, block, timeout)?;
        let mut out = vec![first];
        while (out.len() as i64) < max_items {
            match self.inner.try_get() {
                Ok(msg) => out.push(self.message(py, msg)),
                Err(_) => break,
            }
        }
        Ok(out)
    }

    /// Acks msg (once).
    fn ack(&self, py: Python<'_>, msg: &Message) -> PyResult<()> {
        self.inner
            .ack(&msg.inner)
            .map_err(|e| to_py(py, Op::Settle, e))
    }

    /// Rejects msg: requeued, or dropped (dead-lettered when the queue has
    /// a dead-letter exchange).
    #[pyo3(signature = (msg, requeue = false))]
    fn reject(&self, py: Python<'_>, msg: &Message, requeue: bool) -> PyResult<()> {
        self.inner
            .reject(&msg.inner, requeue)
            .map_err(|e| to_py(py, Op::Settle, e))
    }

    /// Waits until every message handed out is settled, and the acks sent.
    fn join(&self, py: Python<'_>) -> PyResult<()> {
        let done = in_slices(py, None, |slice| {
            if self.inner.join_timeout(slice) {
                Ok(())
            } else {
                Err(Error::Timeout)
            }
        })?;
        done.map_err(|e| to_py(py, Op::Settle, e))
    }

    /// Stops consuming, hands back what no worker took, waits for the
    /// workers' acks, closes the connection.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.close())
            .map_err(|e| to_py(py, Op::Settle, e))
    }

    /// Counters: delivered, acked, ack_frames, rejected, stale, reconnects.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("delivered", s.delivered)?;
        d.set_item("acked", s.acked)?;
        d.set_item("ack_frames", s.ack_frames)?;
        d.set_item("rejected", s.rejected)?;
        d.set_item("stale", s.stale)?;
        d.set_item("reconnects", s.reconnects)?;
        Ok(d)
    }
}
