//! Prometheus metrics, served at the admin address (`[admin] listen`). Counters and
//! histograms live in this process; the queue depth and circuit states are read from
//! the database at each scrape, since other processes (`fedblog sync`) change them too.

use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// A standard method by name, anything else `other`: bounded cardinality.
    method: &'static str,
    /// The route pattern (`/{at_handle}/{slug}`), not the path: bounded cardinality.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InboxLabels {
    r#type: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignedLabels {
    /// `delivery` or `fetch`.
    kind: &'static str,
    /// `rfc9421` or `cavage`.
    scheme: &'static str,
    /// `refused` (the host refused the signature) or `answered` (anything else).
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    /// The config key, `limits.<table>.<key>`: a fixed set.
    key: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BoundLabels {
    /// The bound's name in code: a fixed set.
    bound: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The instance's metrics; one per app, so apps in one test process stay apart.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    inbox: Family<InboxLabels, Counter>,
    deliveries: Family<OutcomeLabels, Counter>,
    delivery_seconds: Family<OutcomeLabels, Histogram>,
    signed: Family<SignedLabels, Counter>,
    queue: Family<StateLabels, Gauge>,
    circuits: Family<StateLabels, Gauge>,
    limits: Family<LimitLabels, Gauge<f64, AtomicU64>>,
    limit_trips: Family<BoundLabels, Counter>,
}

/// HTTP methods counted by name (RFC 9110 and PATCH); anything else is `other`.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Activity types counted by name; anything else is `other`.
const INBOX_TYPES: [&str; 10] = [
    "Follow", "Undo", "Accept", "Reject", "Create", "Update", "Delete", "Like", "Announce", "Move",
];

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fedblog");
        let requests = Family::<RequestLabels, Counter>::default();
        let inbox = Family::<InboxLabels, Counter>::default();
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        let delivery_seconds = Family::<OutcomeLabels, Histogram>::new_with_constructor(|| {
            // 5 ms .. ~20 s: loopback peers to slow servers at the timeout.
            Histogram::new([
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
            ])
        });
        let signed = Family::<SignedLabels, Counter>::default();
        registry.register(
            "signed_requests",
            "Signed requests sent (deliveries and fetches), by signature scheme and whether the host refused the signature",
            signed.clone(),
        );
        let queue = Family::<StateLabels, Gauge>::default();
        let circuits = Family::<StateLabels, Gauge>::default();
        let limits = Family::<LimitLabels, Gauge<f64, AtomicU64>>::default();
        let limit_trips = Family::<BoundLabels, Counter>::default();
        registry.register(
            "limit",
            "Each configured bound ([limits] in config.toml), by key",
            limits.clone(),
        );
        registry.register(
            "limit_trips",
            "Times a bound was reached, by bound",
            limit_trips.clone(),
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "inbox_activities",
            "Activities POSTed to the inboxes, by type and answer",
            inbox.clone(),
        );
        registry.register(
            "deliveries",
            "Delivery attempts by outcome",
            deliveries.clone(),
        );
        registry.register(
            "delivery_duration_seconds",
            "Time to deliver one activity to one inbox",
            delivery_seconds.clone(),
        );
        registry.register(
            "delivery_queue",
            "Deliveries waiting: pending (never tried) and retrying",
            queue.clone(),
        );
        registry.register(
            "host_circuits",
            "Remote hosts by circuit-breaker state (closed, open)",
            circuits.clone(),
        );
        Self {
            registry,
            requests,
            inbox,
            deliveries,
            delivery_seconds,
            signed,
            queue,
            circuits,
            limits,
            limit_trips,
        }
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn request(&self, method: &str, route: &str, status: u16) {
        let method = METHODS
            .iter()
            .find(|m| **m == method)
            .copied()
            .unwrap_or("other");
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
    }

    /// An inbox POST and its answer; the type is read from the body if it is JSON.
    pub fn inbox_activity(&self, body: &[u8], status: u16) {
        #[derive(serde::Deserialize)]
        struct Typed<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<&'a str>,
        }
        let kind = serde_json::from_slice::<Typed>(body)
            .ok()
            .and_then(|t| t.kind)
            .and_then(|k| INBOX_TYPES.iter().find(|t| **t == k).copied())
            .unwrap_or("other");
        self.inbox
            .get_or_create(&InboxLabels {
                r#type: kind,
                status,
            })
            .inc();
    }

    /// A delivery attempt, by its outcome's label, and how long it took.
    pub fn delivery(&self, outcome: &'static str, took: Duration) {
        let labels = OutcomeLabels { outcome };
        self.deliveries.get_or_create(&labels).inc();
        self.delivery_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// A signed request sent (`kind` `delivery` or `fetch`) with `scheme`, and whether
    /// the host refused its signature.
    pub fn signed_request(&self, kind: &'static str, scheme: &'static str, refused: bool) {
        let outcome = if refused { "refused" } else { "answered" };
        self.signed
            .get_or_create(&SignedLabels {
                kind,
                scheme,
                outcome,
            })
            .inc();
    }

    /// Shows each configured bound as `fedblog_limit{key}`.
    pub fn set_limits(&self, values: &[(&'static str, f64)]) {
        for (key, value) in values {
            self.limits.get_or_create(&LimitLabels { key }).set(*value);
        }
    }

    /// A bound was reached: counted by name, and logged the first time only, so a
    /// flood of trips cannot flood the log.
    pub fn limit_tripped(&self, bound: &'static str) {
        let before = self.limit_trips.get_or_create(&BoundLabels { bound }).inc();
        if before == 0 {
            tracing::warn!(
                bound,
                "a limit was reached (logged once; see fedblog_limit_trips_total)"
            );
        }
    }

    /// The text exposition, with the queue's depth (never tried, retrying) and the
    /// hosts per circuit state as the caller read them from the database.
    pub fn render(&self, (pending, retrying): (i64, i64), circuits: &[(&str, i64)]) -> String {
        for (state, n) in [("pending", pending), ("retrying", retrying)] {
            self.queue
                .get_or_create(&StateLabels {
                    state: state.into(),
                })
                .set(n);
        }
        for state in ["closed", "open"] {
            self.circuits
                .get_or_create(&StateLabels {
                    state: state.into(),
                })
                .set(0);
        }
        for (state, n) in circuits {
            self.circuits
                .get_or_create(&StateLabels {
                    state: (*state).to_owned(),
                })
                .set(*n);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
