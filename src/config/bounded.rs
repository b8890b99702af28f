//! Numbers from the configuration, checked as they are parsed: a value out of range
//! never reaches the program, so nothing later (a `Duration`, a semaphore, a sum of
//! milliseconds) can panic or wrap on it. Each type refuses NaN, the infinities, zero,
//! negatives and anything above its `MAX`; the message says the range, and
//! [`super::Config::parse`] adds the file, line and field.
//!
//! Use them for any new setting: `Seconds<MAX>` and `Hours<MAX>` for times,
//! `Count<MAX>` for how many (at least 1). Defaults are checked at compile time:
//! `const { Seconds::new(10.0) }`.

use std::{fmt, time::Duration};

use serde::Deserialize;

macro_rules! positive_time {
    ($name:ident, $unit:literal, $secs_per_unit:expr) => {
        #[doc = concat!("A finite number of ", $unit, ", more than 0 and at most `MAX`.")]
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Deserialize)]
        #[serde(try_from = "f64")]
        pub struct $name<const MAX: u32>(f64);

        impl<const MAX: u32> $name<MAX> {
            /// For defaults, in a `const` block: out of range fails the build.
            pub const fn new(value: f64) -> Self {
                assert!(value > 0.0 && value <= MAX as f64, "out of range");
                Self(value)
            }

            #[doc = concat!("The number of ", $unit, ".")]
            pub fn get(self) -> f64 {
                self.0
            }

            /// As a `Duration` (cannot panic: the value is finite, positive and bounded).
            pub fn duration(self) -> Duration {
                Duration::from_secs_f64(self.0 * $secs_per_unit)
            }

            /// In whole milliseconds (cannot overflow: `MAX` fits in a `u32`).
            pub fn millis(self) -> i64 {
                (self.0 * $secs_per_unit * 1000.0) as i64
            }
        }

        impl<const MAX: u32> TryFrom<f64> for $name<MAX> {
            type Error = String;

            fn try_from(value: f64) -> Result<Self, String> {
                if value.is_finite() && value > 0.0 && value <= f64::from(MAX) {
                    Ok(Self(value))
                } else {
                    Err(format!(
                        "`{value:?}` is out of range: a number of {} more than 0 and at most {MAX}",
                        $unit
                    ))
                }
            }
        }

        impl<const MAX: u32> fmt::Display for $name<MAX> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.0, $unit)
            }
        }
    };
}

positive_time!(Seconds, "seconds", 1.0);
positive_time!(Hours, "hours", 3600.0);

/// How many of something: at least 1, at most `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "i64")]
pub struct Count<const MAX: u32>(u32);

impl<const MAX: u32> Count<MAX> {
    /// For defaults, in a `const` block: out of range fails the build.
    pub const fn new(value: u32) -> Self {
        assert!(value >= 1 && value <= MAX, "out of range");
        Self(value)
    }

    pub fn get(self) -> u32 {
        self.0
    }

    pub fn usize(self) -> usize {
        self.0 as usize
    }
}

impl<const MAX: u32> TryFrom<i64> for Count<MAX> {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, String> {
        match u32::try_from(value) {
            Ok(v) if (1..=MAX).contains(&v) => Ok(Self(v)),
            _ => Err(format!(
                "`{value}` is out of range: a whole number from 1 to {MAX}"
            )),
        }
    }
}

impl<const MAX: u32> fmt::Display for Count<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_refuse_what_is_not_a_sane_positive_number() {
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -1.0,
            1e300,
            61.0,
        ] {
            assert!(Seconds::<60>::try_from(bad).is_err(), "{bad}");
        }
        let s = Seconds::<60>::try_from(0.5).expect("in range");
        assert_eq!(s.millis(), 500);
        assert_eq!(s.duration(), Duration::from_millis(500));
        assert_eq!(
            Hours::<24>::try_from(2.0).expect("in range").millis(),
            7_200_000
        );
    }

    #[test]
    fn counts_are_from_one_to_max() {
        for bad in [0, -1, 11, i64::MAX] {
            assert!(Count::<10>::try_from(bad).is_err(), "{bad}");
        }
        assert_eq!(Count::<10>::try_from(10).expect("in range").usize(), 10);
    }
}
