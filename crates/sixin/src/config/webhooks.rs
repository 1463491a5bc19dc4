//! `[webhooks]` checked and converted: the core's policy (targets, retries, leases; checked
//! again by [`CoreConfig::validate`](sixin_core::CoreConfig::validate)) and the worker's
//! delivery settings.

use std::time::Duration;

use sixin_core::webhook::{RetrySchedule, WebhookPolicy};
use sixin_webhooks::DeliveryConfig;

use super::{ConfigError, WebhooksSection};

impl WebhooksSection {
    /// What the core applies.
    pub(super) fn policy(&self) -> WebhookPolicy {
        WebhookPolicy {
            allow_private_targets: self.allow_private_targets,
            retry: RetrySchedule {
                first: Duration::from_millis(self.retry_first_ms),
                max_delay: Duration::from_secs(self.retry_max_delay_secs),
                retry_for: Duration::from_secs(self.retry_for_secs),
            },
            lease: Duration::from_secs(self.lease_secs),
            retention: Duration::from_secs(self.retention_secs),
        }
    }

    /// How this node's worker delivers; `None` when it delivers nothing.
    pub(super) fn delivery(&self) -> Result<Option<DeliveryConfig>, ConfigError> {
        let ensure = |ok: bool, key: &'static str| {
            ok.then_some(())
                .ok_or_else(|| ConfigError::invalid(key, "must be at least 1"))
        };
        ensure(self.timeout_secs > 0, "webhooks.timeout_secs")?;
        ensure(self.poll_interval_ms > 0, "webhooks.poll_interval_ms")?;
        ensure(
            self.max_endpoints_per_node > 0,
            "webhooks.max_endpoints_per_node",
        )?;
        Ok(self.deliver.then(|| DeliveryConfig {
            timeout: Duration::from_secs(self.timeout_secs),
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            max_endpoints: self.max_endpoints_per_node,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error

    use std::time::Duration;

    use figment::Jail;

    use super::super::{Config, Overrides};

    #[test]
    fn webhook_settings_reach_the_core_and_the_worker() {
        let s = Config::default().validate().unwrap();
        let delivery = s.webhooks.unwrap();
        assert_eq!(delivery.timeout, Duration::from_secs(10));
        assert_eq!(
            s.core.webhooks.retry.retry_for,
            Duration::from_secs(72 * 3600)
        );
        assert!(!s.core.webhooks.allow_private_targets);
        Jail::expect_with(|jail| {
            jail.create_file(
                "sixin.toml",
                "[webhooks]\nallow_private_targets = true\nretry_first_ms = 100\n",
            )?;
            jail.set_env("SIXIN_WEBHOOKS__LEASE_SECS", "3");
            let load = || Config::load(&Overrides::default()).unwrap().validate();
            let s = load().unwrap();
            assert!(s.core.webhooks.allow_private_targets);
            assert_eq!(s.core.webhooks.retry.first, Duration::from_millis(100));
            assert_eq!(s.core.webhooks.lease, Duration::from_secs(3));
            jail.set_env("SIXIN_WEBHOOKS__DELIVER", "false");
            assert!(
                load().unwrap().webhooks.is_none(),
                "this node delivers nothing"
            );
            jail.set_env("SIXIN_WEBHOOKS__LEASE_SECS", "0");
            let err = load().unwrap_err().to_string();
            assert!(
                err.contains("`webhooks.lease_secs` must be at least 1 second"),
                "{err}"
            );
            jail.set_env("SIXIN_WEBHOOKS__LEASE_SECS", "3");
            jail.set_env("SIXIN_WEBHOOKS__TIMEOUT_SECS", "0");
            let err = load().unwrap_err().to_string();
            assert!(
                err.contains("`webhooks.timeout_secs` must be at least 1"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn server_api_variables_reach_their_keys() {
        Jail::expect_with(|jail| {
            jail.set_env("SIXIN_SERVER_API__MAX_TOKEN_SECS", "60");
            let s = Config::load(&Overrides::default())
                .unwrap()
                .validate()
                .unwrap();
            assert_eq!(s.core.server_token_max_lifetime, Duration::from_secs(60));
            Ok(())
        });
    }
}
