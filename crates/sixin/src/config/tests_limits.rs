//! The rate limits of `[limits]` and the trusted proxies of `[http]`: read from every layer,
//! checked, and named by key when refused.
#![allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error by value

use figment::Jail;
use sixin_core::limits::{Limits, Quota};

use super::{Config, Overrides};

#[test]
fn rate_limits_come_from_the_file_and_env_key_by_key() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "sixin.toml",
            "[limits]\nfailed_logins_free = 3\n[limits.logins_per_ip]\nper = 5\n",
        )?;
        jail.set_env("SIXIN_LIMITS__REGISTRATIONS_PER_IP__BURST", "7");
        jail.set_env("SIXIN_LIMITS__FAILED_LOGIN_MAX_DELAY_SECS", "60");
        let s = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        let defaults = Limits::default();
        let l = s.core.limits;
        assert_eq!(l.failed_logins_free, 3);
        assert_eq!(l.failed_login_max_delay_secs, 60);
        // A quota's other keys keep their defaults.
        let logins = Quota {
            per: 5,
            ..defaults.logins_per_ip
        };
        assert_eq!(l.logins_per_ip, logins);
        assert_eq!(l.registrations_per_ip.burst, 7);
        assert_eq!(
            l.registrations_per_ip.per,
            defaults.registrations_per_ip.per
        );
        assert_eq!(l.sends, defaults.sends);
        Ok(())
    });
}

#[test]
fn rate_limits_that_cannot_work_are_named_by_key() {
    type Spoil = fn(&mut Config);
    let cases: [(&str, Spoil); 5] = [
        ("limits.sends.burst", |c| c.limits.sends.burst = 0),
        ("limits.registrations_per_ip.secs", |c| {
            c.limits.registrations_per_ip.secs = 0
        }),
        ("limits.logins_per_ip.per", |c| {
            c.limits.logins_per_ip.per = 0
        }),
        ("limits.failed_login_delay_secs", |c| {
            c.limits.failed_login_delay_secs = 0
        }),
        ("limits.failed_login_max_delay_secs", |c| {
            c.limits.failed_login_max_delay_secs = 86_401
        }),
    ];
    for (key, spoil) in cases {
        let mut cfg = Config::default();
        spoil(&mut cfg);
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("invalid configuration: `{key}` must be")),
            "{err}"
        );
    }
}

#[test]
fn every_rate_limit_has_a_key() {
    let limits = serde_json::to_value(Limits::default()).unwrap();
    let section = toml::Value::try_from(Config::default()).unwrap()["limits"].clone();
    for (name, value) in limits.as_object().unwrap() {
        let shown = section.get(name);
        assert!(shown.is_some(), "no key limits.{name}");
        assert_eq!(
            serde_json::to_value(shown).unwrap(),
            *value,
            "limits.{name} has another default than the core's"
        );
    }
    assert_eq!(Config::default().limits.rate_limits(), Limits::default());
}

#[test]
fn trusted_proxies_are_cidrs_or_addresses() {
    Jail::expect_with(|jail| {
        jail.set_env("SIXIN_HTTP__TRUSTED_PROXIES", r#"["10.0.0.0/8", "::1"]"#);
        let s = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        let shown: Vec<String> = s
            .http
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["10.0.0.0/8", "::1/128"]);
        Ok(())
    });
    let mut cfg = Config::default();
    cfg.http.trusted_proxies = vec!["proxy.local".into()];
    let err = cfg.validate().unwrap_err().to_string();
    assert!(
        err.contains("`http.trusted_proxies` \"proxy.local\" is not a CIDR"),
        "{err}"
    );
}
