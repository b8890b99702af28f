//! What a response means for a delivery, and when to try again.

use rand::Rng;
use reqwest::{
    StatusCode,
    header::{HeaderMap, RETRY_AFTER},
};

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(u16),
    /// Worth trying again later (408, 429, 5xx, network errors).
    Retry {
        status: Option<u16>,
        reason: String,
        retry_after_ms: Option<i64>,
    },
    /// Will never succeed (other 4xx, an inbox we refuse to contact).
    Permanent {
        status: Option<u16>,
        reason: String,
    },
    /// 410: the inbox is gone for good; its followers are removed.
    Gone,
}

impl Outcome {
    /// The outcome's name in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Delivered(_) => "delivered",
            Self::Retry { .. } => "retry",
            Self::Permanent { .. } => "failed",
            Self::Gone => "gone",
        }
    }

    /// What this outcome says about the host, for its circuit breaker.
    pub fn host_event(&self) -> super::circuit::HostEvent {
        use super::circuit::HostEvent;
        match self {
            Self::Delivered(_) => HostEvent::Delivered,
            Self::Retry { .. } => HostEvent::Failed,
            // The host answered (or was never asked): it is not down.
            Self::Permanent { .. } | Self::Gone => HostEvent::Answered,
        }
    }
}

/// Sorts a response: 2xx done; 408, 429 and 5xx retried (honouring Retry-After);
/// any other status is permanent.
pub fn classify(status: StatusCode, headers: &HeaderMap) -> Outcome {
    let code = status.as_u16();
    if status.is_success() {
        return Outcome::Delivered(code);
    }
    if status == StatusCode::GONE {
        return Outcome::Gone;
    }
    let reason = format!("inbox answered {status}");
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Outcome::Retry {
            status: Some(code),
            reason,
            retry_after_ms: retry_after_ms(headers),
        }
    } else {
        Outcome::Permanent {
            status: Some(code),
            reason,
        }
    }
}

/// The longest wait before a retry, whatever the backoff or the inbox asks for.
pub const MAX_WAIT_MS: i64 = 86_400_000;

/// `Retry-After` as seconds or an HTTP date, in milliseconds from now, at most
/// [`MAX_WAIT_MS`]: the header is the remote's to choose, so no value of it may
/// overflow (`9223372036854775` seconds is `i64::MAX` milliseconds and more) or push
/// a retry past the day a backoff can wait.
fn retry_after_ms(headers: &HeaderMap) -> Option<i64> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let ms = if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() {
        // Digits only (RFC 9110 delay-seconds); too many for a u64 is "very long".
        v.parse::<u64>().unwrap_or(u64::MAX).saturating_mul(1000)
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        let wait = at.duration_since(std::time::SystemTime::now()).ok()?;
        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
    };
    Some(i64::try_from(ms).unwrap_or(i64::MAX).min(MAX_WAIT_MS))
}

/// Exponential backoff with ±25 % jitter, capped at one day per wait: with a 60 s
/// base the waits add up to about 3.4 days by the 14th attempt (the default
/// `max_attempts`), before jitter. `base_seconds` is finite and positive (the config
/// refuses anything else), and the result is at most 1.25 × [`MAX_WAIT_MS`].
pub fn backoff_ms(base_seconds: f64, attempts: i64) -> i64 {
    let exp = base_seconds * 2f64.powi(attempts.clamp(0, 30) as i32 - 1);
    let capped = exp.min(MAX_WAIT_MS as f64 / 1000.0);
    let jitter = rand::rng().random_range(0.75..1.25);
    // `as` saturates; NaN (impossible here) would become 0.
    (capped * jitter * 1000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_sorted_as_the_spec_says() {
        let h = HeaderMap::new();
        assert_eq!(classify(StatusCode::ACCEPTED, &h), Outcome::Delivered(202));
        assert!(matches!(
            classify(StatusCode::INTERNAL_SERVER_ERROR, &h),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(StatusCode::REQUEST_TIMEOUT, &h),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &h),
            Outcome::Permanent { .. }
        ));
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h),
            Outcome::Retry {
                status: Some(429),
                reason: "inbox answered 429 Too Many Requests".into(),
                retry_after_ms: Some(120_000)
            }
        );
    }

    #[test]
    fn retry_after_from_outside_never_overflows() {
        let wait = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, v.parse().unwrap());
            match classify(StatusCode::TOO_MANY_REQUESTS, &h) {
                Outcome::Retry { retry_after_ms, .. } => retry_after_ms,
                other => panic!("{other:?}"),
            }
        };
        for huge in [
            "9223372036854775",
            "9223372036854775807",
            "99999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(wait(huge), Some(MAX_WAIT_MS), "{huge}");
        }
        assert_eq!(wait("0"), Some(0));
        assert_eq!(wait("-5"), None, "not delay-seconds");
        assert_eq!(wait("soon"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff_ms(60.0, 1) <= 75_000);
        assert!(backoff_ms(60.0, 5) > backoff_ms(60.0, 1));
        assert!(backoff_ms(60.0, 30) <= 86_400_000 * 5 / 4);
    }
}
