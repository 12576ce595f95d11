//! `ringq.amqp.Message`: one delivered message, its properties, and the
//! way to settle it (`ack()`, `reject()`).

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use ringq::amqp::HeaderValue;

use super::errors::{to_py, Op};
use super::PICKLE_CONTENT_TYPE;

/// A message a Consumer got from its broker queue.
///
/// .body is the bytes as published; .value the object when the publisher
/// used put(obj) and the consumer accepts pickles. Settle it with
/// consumer.task_done() (or msg.ack()), or msg.reject().
#[pyclass(frozen, module = "ringq.amqp", name = "Message")]
pub(crate) struct Message {
    pub(crate) inner: ringq::amqp::Message,
    pub(crate) consumer: Arc<ringq::amqp::Consumer>,
    body: Py<PyBytes>,
    accept_pickle: bool,
}

impl Message {
    pub(crate) fn new(
        py: Python<'_>,
        inner: ringq::amqp::Message,
        consumer: Arc<ringq::amqp::Consumer>,
        accept_pickle: bool,
    ) -> Self {
        let body = PyBytes::new(py, &inner.body).unbind();
        Self {
            inner,
            consumer,
            body,
            accept_pickle,
        }
    }
}

fn header_to_py<'py>(py: Python<'py>, value: &HeaderValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        HeaderValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        HeaderValue::Int(n) => n.into_pyobject(py)?.into_any(),
        HeaderValue::Float(x) => x.into_pyobject(py)?.into_any(),
        HeaderValue::Str(s) => s.into_pyobject(py)?.into_any(),
        HeaderValue::Bytes(b) => PyBytes::new(py, b).into_any(),
        HeaderValue::Timestamp(t) => t.into_pyobject(py)?.into_any(),
        HeaderValue::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(header_to_py(py, item)?)?;
            }
            list.into_any()
        }
        HeaderValue::Table(table) => table_to_py(py, table)?.into_any(),
        _ => py.None().into_bound(py),
    })
}

fn table_to_py<'py>(
    py: Python<'py>,
    table: &std::collections::BTreeMap<String, HeaderValue>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in table {
        dict.set_item(key, header_to_py(py, value)?)?;
    }
    Ok(dict)
}

#[pymethods]
impl Message {
    /// The body, as published.
    #[getter]
    fn body(&self, py: Python<'_>) -> Py<PyBytes> {
        self.body.clone_ref(py)
    }

    /// The object that Publisher.put(obj) sent.
    ///
    /// Raises ValueError when the body is not a pickle that put() made
    /// (its content type says so), and PermissionError when the consumer
    /// was not made with accept_pickle=True: unpickling runs code, so only
    /// a consumer whose publishers are trusted may do it.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.content_type.as_deref() != Some(PICKLE_CONTENT_TYPE) {
            return Err(PyValueError::new_err(format!(
                "the message is not one that Publisher.put() encoded (content type {:?}); use .body",
                self.inner.content_type.as_deref().unwrap_or("none")
            )));
        }
        if !self.accept_pickle {
            return Err(pyo3::exceptions::PyPermissionError::new_err(
                "the message is a pickle, and unpickling runs code: make the Consumer with \
                 accept_pickle=True if every publisher to its queue is trusted, or use .body",
            ));
        }
        crate::process::codec::loads(self.body.bind(py))
    }

    /// The AMQP headers, as a dict.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        table_to_py(py, &self.inner.headers)
    }

    /// The routing key it was published with.
    #[getter]
    fn routing_key(&self) -> &str {
        &self.inner.routing_key
    }

    /// The exchange it was published to ('' for the default exchange).
    #[getter]
    fn exchange(&self) -> &str {
        &self.inner.exchange
    }

    /// True when the broker delivered it before without an ack: the work
    /// may have been done once already.
    #[getter]
    fn redelivered(&self) -> bool {
        self.inner.redelivered
    }

    /// The broker's delivery tag (it counts per channel; see generation).
    #[getter]
    fn delivery_tag(&self) -> u64 {
        self.inner.delivery_tag
    }

    /// Which connection of the consumer delivered it: 0 for the first, one
    /// more after each reconnect.
    #[getter]
    fn generation(&self) -> u64 {
        self.inner.generation
    }

    /// The content type property, or None.
    #[getter]
    fn content_type(&self) -> Option<&str> {
        self.inner.content_type.as_deref()
    }

    /// Acknowledge the message: the work is done. Prefer
    /// consumer.task_done(msg), which also keeps the consumer's count of
    /// tasks; this is the same ack without it.
    fn ack(&self, py: Python<'_>) -> PyResult<()> {
        self.consumer
            .ack(&self.inner)
            .map_err(|e| to_py(py, Op::Settle, e))
    }

    fn __repr__(&self) -> String {
        format!(
            "<ringq.amqp.Message {} bytes, routing_key={:?}, delivery_tag={}, redelivered={}>",
            self.inner.body.len(),
            self.inner.routing_key,
            self.inner.delivery_tag,
            self.inner.redelivered
        )
    }
}
