//! The per-host circuit breaker: after `threshold` consecutive failures a host's
//! circuit opens and its deliveries are held; after a cool-down one probe may go;
//! a success closes the circuit and releases what was held, a failure doubles the
//! cool-down (up to a day).

use crate::{db::hosts::HostRow, domain::CircuitState};

/// What happened at a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostEvent {
    /// 2xx.
    Delivered,
    /// The host answered with a final refusal (4xx): it is alive.
    Answered,
    /// Timeout, connection error, 408, 429 or 5xx.
    Failed,
}

/// A change of circuit state worth acting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Opened,
    Closed,
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub threshold: i64,
    pub cooldown_ms: i64,
}

const MAX_COOLDOWN_MS: i64 = 24 * 3600 * 1000;

/// Applies an event to a host's state.
pub fn apply(
    mut h: HostRow,
    event: HostEvent,
    error: Option<&str>,
    now: i64,
    policy: Policy,
) -> (HostRow, Transition) {
    h.updated_at = now;
    let was_open = h.circuit == CircuitState::Open;
    match event {
        HostEvent::Delivered | HostEvent::Answered => {
            h.consecutive_failures = 0;
            h.circuit = CircuitState::Closed;
            h.opened_count = 0;
            h.open_until = None;
            (
                h,
                if was_open {
                    Transition::Closed
                } else {
                    Transition::None
                },
            )
        }
        HostEvent::Failed => {
            h.consecutive_failures += 1;
            h.last_error = error.map(str::to_owned);
            if was_open || h.consecutive_failures >= policy.threshold {
                h.opened_count += 1;
                let factor = 1i64 << (h.opened_count - 1).clamp(0, 20);
                h.open_until =
                    Some(now + (policy.cooldown_ms.saturating_mul(factor)).min(MAX_COOLDOWN_MS));
                h.circuit = CircuitState::Open;
                (
                    h,
                    if was_open {
                        Transition::None
                    } else {
                        Transition::Opened
                    },
                )
            } else {
                (h, Transition::None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        threshold: 3,
        cooldown_ms: 1000,
    };

    fn host() -> HostRow {
        HostRow::closed("h".into())
    }

    #[test]
    fn opens_after_threshold_and_doubles_cooldown_on_failed_probes() {
        let (h, t) = apply(host(), HostEvent::Failed, Some("x"), 0, P);
        assert_eq!((h.circuit, t), (CircuitState::Closed, Transition::None));
        let (h, _) = apply(h, HostEvent::Failed, None, 0, P);
        let (h, t) = apply(h, HostEvent::Failed, None, 10, P);
        assert_eq!(
            (h.circuit, t, h.open_until),
            (CircuitState::Open, Transition::Opened, Some(1010))
        );
        let (h, t) = apply(h, HostEvent::Failed, None, 2000, P);
        assert_eq!((t, h.open_until), (Transition::None, Some(4000)));
        let (h, t) = apply(h, HostEvent::Delivered, None, 5000, P);
        assert_eq!(
            (h.circuit, t, h.consecutive_failures),
            (CircuitState::Closed, Transition::Closed, 0)
        );
    }

    #[test]
    fn an_answer_resets_the_count() {
        let (h, _) = apply(host(), HostEvent::Failed, None, 0, P);
        let (h, _) = apply(h, HostEvent::Failed, None, 0, P);
        let (h, t) = apply(h, HostEvent::Answered, None, 0, P);
        assert_eq!((h.consecutive_failures, t), (0, Transition::None));
    }
}
