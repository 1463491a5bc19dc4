//! [`Limits::validate`]: which limits can work, named by configuration key, and the
//! failed-login lockout the limits describe.

use super::Limits;

impl Limits {
    /// Ok when every limit can work; otherwise the first that cannot, by its configuration key.
    ///
    /// - every quota (`sends`, `registrations_per_ip`, `logins_per_ip`): `per`, `secs` and
    ///   `burst` at least 1 (a zero would refuse everything, or divide by zero);
    /// - `new_direct_per_day`, `failed_logins_free`, `failed_login_delay_secs`: at least 1;
    /// - `failed_login_max_delay_secs`: from `failed_login_delay_secs` to [`MAX_LOGIN_DELAY_SECS`]
    ///   (a day), which bounds how long anyone who knows a username can keep its owner out.
    pub fn validate(&self) -> Result<(), LimitsError> {
        let quotas = [
            (
                self.sends,
                [
                    "limits.sends.per",
                    "limits.sends.secs",
                    "limits.sends.burst",
                ],
            ),
            (
                self.registrations_per_ip,
                [
                    "limits.registrations_per_ip.per",
                    "limits.registrations_per_ip.secs",
                    "limits.registrations_per_ip.burst",
                ],
            ),
            (
                self.logins_per_ip,
                [
                    "limits.logins_per_ip.per",
                    "limits.logins_per_ip.secs",
                    "limits.logins_per_ip.burst",
                ],
            ),
        ];
        for (q, [per, secs, burst]) in quotas {
            for (value, key) in [(q.per, per), (q.secs, secs), (q.burst, burst)] {
                at_least_one(value, key)?;
            }
        }
        at_least_one(self.new_direct_per_day, "limits.new_direct_per_day")?;
        at_least_one(self.failed_logins_free, "limits.failed_logins_free")?;
        at_least_one(
            self.failed_login_delay_secs,
            "limits.failed_login_delay_secs",
        )?;
        let max = self.failed_login_max_delay_secs;
        if max < self.failed_login_delay_secs || max > MAX_LOGIN_DELAY_SECS {
            return Err(LimitsError {
                key: "limits.failed_login_max_delay_secs",
                reason: "must be failed_login_delay_secs..86400 (a day)",
            });
        }
        Ok(())
    }

    /// The failed-login lockout these limits describe.
    pub fn lockout(&self) -> crate::rules::Lockout {
        crate::rules::Lockout {
            free: self.failed_logins_free,
            delay_secs: self.failed_login_delay_secs,
            max_delay_secs: self.failed_login_max_delay_secs,
        }
    }
}

/// The longest [`Limits::failed_login_max_delay_secs`]: a day.
pub const MAX_LOGIN_DELAY_SECS: u32 = 86_400;

/// A [`Limits`] value that cannot work: its configuration key (`limits.sends.burst`; an app's
/// override names it without `limits.`) and what it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{key} {reason}")]
pub struct LimitsError {
    pub key: &'static str,
    pub reason: &'static str,
}

fn at_least_one(value: u32, key: &'static str) -> Result<(), LimitsError> {
    if value >= 1 {
        Ok(())
    } else {
        Err(LimitsError {
            key,
            reason: "must be at least 1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_that_cannot_work_are_named_by_key() {
        assert_eq!(Limits::default().validate(), Ok(()));
        let refused = |spoil: fn(&mut Limits)| {
            let mut l = Limits::default();
            spoil(&mut l);
            l.validate().unwrap_err().key
        };
        assert_eq!(refused(|l| l.sends.burst = 0), "limits.sends.burst");
        assert_eq!(
            refused(|l| l.registrations_per_ip.per = 0),
            "limits.registrations_per_ip.per"
        );
        assert_eq!(
            refused(|l| l.logins_per_ip.secs = 0),
            "limits.logins_per_ip.secs"
        );
        assert_eq!(
            refused(|l| l.new_direct_per_day = 0),
            "limits.new_direct_per_day"
        );
        assert_eq!(
            refused(|l| l.failed_logins_free = 0),
            "limits.failed_logins_free"
        );
        assert_eq!(
            refused(|l| l.failed_login_delay_secs = 0),
            "limits.failed_login_delay_secs"
        );
        let max = "limits.failed_login_max_delay_secs";
        assert_eq!(refused(|l| l.failed_login_max_delay_secs = 0), max);
        assert_eq!(refused(|l| l.failed_login_max_delay_secs = 86_401), max);
    }
}
