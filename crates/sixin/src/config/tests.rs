//! Loading and validation: layers apply in order, and bad values name their key and source.
#![allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error by value

use std::time::Duration;

use figment::Jail;
use sixin_core::CoreConfig;
use sixin_http::HttpConfig;

use super::convert::core_key;
use super::load::{check_env, known_keys};
use super::{Config, LogFormat, Overrides};

#[test]
fn defaults_validate() {
    let s = Config::default().validate().unwrap();
    assert_eq!(s.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(s.core, CoreConfig::default());
    assert_eq!(s.store.url, "sqlite://sixin.db");
    assert_eq!(s.http, HttpConfig::default());
}

#[test]
fn layers_apply_in_order() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "sixin.toml",
            "[database]\nurl = \"sqlite://file.db\"\nmax_connections = 3\n\
             [limits]\nargon2_iterations = 5\nrecall_window_secs = 7\n",
        )?;
        jail.set_env("SIXIN_DATABASE_URL", "sqlite://env.db");
        jail.set_env("SIXIN_LIMITS__ARGON2_ITERATIONS", "1");
        jail.set_env("SIXIN_LISTEN", "127.0.0.1:9000");
        jail.set_env("SIXIN_TEST_PG_URL", "postgres://ignored");
        let cfg = Config::load(&Overrides::default()).unwrap().config;
        assert_eq!(cfg.database.url, "sqlite://env.db");
        assert_eq!(cfg.database.max_connections, 3);
        assert_eq!(cfg.limits.argon2_iterations, 1);
        assert_eq!(cfg.limits.recall_window_secs, 7);
        assert_eq!(cfg.http.listen, "127.0.0.1:9000");

        let flags = Overrides {
            database_url: Some("sqlite://flag.db".into()),
            listen: Some("127.0.0.1:9001".into()),
            log_format: Some(LogFormat::Json),
            ..Overrides::default()
        };
        let cfg = Config::load(&flags).unwrap().config;
        assert_eq!(cfg.database.url, "sqlite://flag.db");
        assert_eq!(cfg.http.listen, "127.0.0.1:9001");
        assert_eq!(cfg.log.format, LogFormat::Json);
        Ok(())
    });
}

#[test]
fn unknown_keys_and_bad_values_name_the_key() {
    Jail::expect_with(|jail| {
        jail.create_file("sixin.toml", "[database]\nurll = \"x\"\n")?;
        let err = Config::load(&Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("urll"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("SIXIN_LIMITS__ARGON2_ITERATIONS", "lots");
        let err = Config::load(&Overrides::default()).unwrap_err().to_string();
        // Figment names the key in the variable's upper case: LIMITS.ARGON2_ITERATIONS.
        assert!(err.to_lowercase().contains("argon2_iterations"), "{err}");
        Ok(())
    });
    let mut cfg = Config::default();
    cfg.http.listen = "localhost".into();
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("http.listen"), "{err}");
    let mut cfg = Config::default();
    cfg.dialects.time_zone = "Mars/Olympus".into();
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("dialects.time_zone"), "{err}");
}

#[test]
fn event_stream_settings_reach_the_core_and_http() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "sixin.toml",
            "[events]\nheartbeat_secs = 5\nidle_timeout_secs = 12\nbuffer = 64\n",
        )?;
        jail.set_env("SIXIN_EVENTS__MAX_STREAMS_PER_MEMBER", "3");
        let s = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(s.http.events.heartbeat, Duration::from_secs(5));
        assert_eq!(s.http.events.idle_timeout, Duration::from_secs(12));
        assert_eq!(s.core.stream_buffer, 64);
        assert_eq!(s.core.max_streams_per_member, 3);
        assert_eq!(s.core.max_replay, CoreConfig::default().max_replay);
        Ok(())
    });
    let mut cfg = Config::default();
    cfg.events.idle_timeout_secs = cfg.events.heartbeat_secs;
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("events.idle_timeout_secs"), "{err}");
    let mut cfg = Config::default();
    cfg.events.buffer = 0;
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("events.buffer"), "{err}");
}

#[test]
fn nats_url_comes_from_file_env_shorthand_or_flag() {
    assert!(Config::default().validate().unwrap().nats.is_none());
    Jail::expect_with(|jail| {
        jail.create_file(
            "sixin.toml",
            "[nats]\nurl = \"nats://file:4222\"\nsubject_prefix = \"prod.sixin\"\n",
        )?;
        let cfg = Config::load(&Overrides::default()).unwrap().config;
        assert_eq!(cfg.nats.url.as_deref(), Some("nats://file:4222"));
        jail.set_env("SIXIN_NATS__URL", "nats://section:4222");
        let cfg = Config::load(&Overrides::default()).unwrap().config;
        assert_eq!(cfg.nats.url.as_deref(), Some("nats://section:4222"));
        jail.set_env("SIXIN_NATS_URL", "nats://shorthand:4222");
        jail.set_env("SIXIN_TEST_NATS_URL", "nats://ignored:4222");
        let cfg = Config::load(&Overrides::default()).unwrap().config;
        assert_eq!(cfg.nats.url.as_deref(), Some("nats://shorthand:4222"));

        let flags = Overrides {
            nats_url: Some("tls://flag:4222".into()),
            ..Overrides::default()
        };
        let nats = Config::load(&flags)
            .unwrap()
            .validate()
            .unwrap()
            .nats
            .unwrap();
        assert_eq!(nats.url, "tls://flag:4222");
        assert_eq!(nats.options.subject_prefix, "prod.sixin");
        Ok(())
    });
}

#[test]
fn nats_settings_are_checked() {
    let mut cfg = Config::default();
    cfg.nats.url = Some("  ".into());
    assert!(cfg.validate().unwrap().nats.is_none(), "blank means unset");
    for bad in [
        "http://127.0.0.1:4222",
        "127.0.0.1:4222",
        "nats://u:hunter2@h,x",
    ] {
        cfg.nats.url = Some(bad.into());
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("nats.url"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    cfg.nats.url = None;
    cfg.nats.subject_prefix = "sixin.>".into();
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("nats.subject_prefix"), "{err}");
}

#[test]
fn debug_redacts_the_nats_password() {
    let mut cfg = Config::default();
    cfg.nats.url = Some("nats://sixin:hunter2@nats:4222".into());
    let shown = format!("{cfg:?} {:?}", cfg.validate().unwrap());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("nats://sixin:***@nats:4222"), "{shown}");
}

#[test]
fn debug_redacts_the_database_password() {
    let mut cfg = Config::default();
    cfg.database.url = "postgres://sixin:hunter2@db/sixin".into();
    let shown = format!("{cfg:?} {:?}", cfg.validate().unwrap());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
}

#[test]
fn the_phalapi_token_lifetime_reaches_the_core() {
    assert_eq!(
        Config::default().validate().unwrap().core.access_token_ttl,
        Duration::from_secs(2 * 3600)
    );
    Jail::expect_with(|jail| {
        jail.set_env("SIXIN_DIALECTS__PHALAPI_ACCESS_TOKEN_TTL_SECS", "600");
        let s = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(s.core.access_token_ttl, Duration::from_secs(600));
        jail.set_env("SIXIN_DIALECTS__PHALAPI_ACCESS_TOKEN_TTL_SECS", "0");
        let err = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("`dialects.phalapi_access_token_ttl_secs` must be at least 1 second"),
            "{err}"
        );
        assert!(err.contains("SIXIN_"), "names the environment: {err}");
        Ok(())
    });
}

/// The message `validate` gives once `spoil` has changed the defaults.
fn refused(spoil: impl FnOnce(&mut Config)) -> String {
    let mut cfg = Config::default();
    spoil(&mut cfg);
    cfg.validate().unwrap_err().to_string()
}

#[test]
fn core_limits_are_checked_by_the_core_and_named_by_key() {
    let names = |key: &str, err: String| {
        let start = format!("invalid configuration: `{key}` must be");
        assert!(err.starts_with(&start), "{err}");
    };
    names(
        "limits.session_ttl_secs",
        refused(|c| c.limits.session_ttl_secs = 0),
    );
    names(
        "limits.max_group_members",
        refused(|c| c.limits.max_group_members = 1),
    );
    names(
        "limits.argon2_memory_kib",
        refused(|c| c.limits.argon2_memory_kib = 7),
    );
    names(
        "limits.argon2_iterations",
        refused(|c| c.limits.argon2_iterations = 0),
    );
    let streams = refused(|c| c.events.max_streams_per_member = 0);
    names("events.max_streams_per_member", streams);
    names("events.buffer", refused(|c| c.events.buffer = 1_000_001));
    names(
        "events.max_replay",
        refused(|c| c.events.max_replay = u64::MAX),
    );
}

#[test]
fn an_invalid_value_names_the_layer_that_set_it() {
    Jail::expect_with(|jail| {
        jail.create_file("sixin.toml", "[limits]\nmax_group_members = 1\n")?;
        let err = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("`limits.max_group_members` must be at least 2"),
            "{err}"
        );
        assert!(
            err.contains("(from TOML file") && err.contains("sixin.toml)"),
            "{err}"
        );

        let flags = Overrides {
            listen: Some("nowhere".into()),
            ..Overrides::default()
        };
        let err = Config::load(&flags)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`http.listen`") && err.ends_with("(from --listen)"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn every_core_field_has_a_key() {
    // `{:#?}` lists one field a line, `    name: value,`: the fields as the core defines them.
    let shown = format!("{:#?}", CoreConfig::default());
    let fields: Vec<&str> = shown
        .lines()
        .filter_map(|l| {
            l.strip_prefix("    ")
                .filter(|f| !f.starts_with(' '))?
                .split_once(':')
        })
        .map(|(name, _)| name)
        .collect();
    assert!(fields.len() >= 9, "{shown}");
    for field in fields {
        if field == "limits" {
            // Many keys, one per rate limit: `every_rate_limit_has_a_key`.
            continue;
        }
        let key = core_key(field);
        assert_ne!(key, field, "no configuration key sets CoreConfig::{field}");
        let (section, name) = key.split_once('.').unwrap();
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        assert!(defaults[section].get(name).is_some(), "{key} is not a key");
    }
}

#[test]
fn unknown_sixin_variables_stop_it_by_name() {
    let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let err = check_env(names(&["PATH", "SIXIN_FOO"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("SIXIN_FOO is not a setting"), "{err}");
    let err = check_env(names(&["SIXIN_LOG__FILTR"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean SIXIN_LOG__FILTER?"), "{err}");
    // A known section with an unknown key is refused by the variable's name too.
    let err = check_env(names(&["SIXIN_DATABASE__URLL"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("SIXIN_DATABASE__URLL"), "{err}");
    // Every documented key, the shorthands, and the test suite's variables pass.
    let mut ok: Vec<String> = known_keys()
        .iter()
        .map(|k| format!("SIXIN_{}", k.replace('.', "__").to_uppercase()))
        .collect();
    ok.extend(names(&[
        "SIXIN_DATABASE_URL",
        "SIXIN_NATS_URL",
        "SIXIN_LISTEN",
        "SIXIN_TEST_PG_URL",
        "SIXIN_TEST_NATS_BIN",
        "HOME",
    ]));
    assert!(ok.len() > 25, "{ok:?}");
    check_env(ok).unwrap();
    Jail::expect_with(|jail| {
        jail.set_env("SIXIN_LIMTS__ARGON2_ITERATIONS", "1");
        let err = Config::load(&Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("SIXIN_LIMTS__ARGON2_ITERATIONS"), "{err}");
        assert!(err.contains("SIXIN_LIMITS__ARGON2_ITERATIONS?"), "{err}");
        Ok(())
    });
}

#[test]
fn known_keys_are_the_documented_keys() {
    let keys = known_keys();
    for key in [
        "database.url",
        "nats.url",
        "log.access",
        "database.acquire_timeout_ms",
    ] {
        assert!(keys.contains(key), "{key} missing from {keys:?}");
    }
    assert!(!keys.iter().any(|k| k.starts_with("default")), "{keys:?}");
}

#[test]
fn bad_values_name_the_variable_not_library_internals() {
    Jail::expect_with(|jail| {
        jail.set_env("SIXIN_LIMITS__ARGON2_ITERATIONS", "lots");
        let err = Config::load(&Overrides::default()).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid configuration: `limits.argon2_iterations`: invalid type: found string \
             \"lots\", expected a whole number (from environment variable \
             SIXIN_LIMITS__ARGON2_ITERATIONS)"
        );
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.create_file("sixin.toml", "[log]\naccess = 3\n")?;
        let err = Config::load(&Overrides::default()).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid configuration: `log.access`: "),
            "{err}"
        );
        assert!(
            err.contains("expected true or false (from TOML file"),
            "{err}"
        );
        assert!(!err.contains("default."), "{err}");
        Ok(())
    });
}

#[test]
fn a_postgres_url_without_a_database_is_refused() {
    for url in [
        "postgres://postgres@127.0.0.1:5432",
        "postgres://u:hunter2@db/",
    ] {
        let err = refused(|c| c.database.url = url.into());
        assert!(err.contains("`database.url` names no database"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let mut cfg = Config::default();
    cfg.database.url = "postgres://postgres@127.0.0.1:5432/test".into();
    cfg.validate().unwrap();
    let err = refused(|c| c.database.acquire_timeout_ms = 0);
    assert!(err.contains("database.acquire_timeout_ms"), "{err}");
}

#[test]
fn the_acquire_timeout_and_access_switch_reach_the_crates() {
    let s = Config::default().validate().unwrap();
    assert_eq!(s.store.acquire_timeout, Duration::from_secs(1));
    assert!(!s.http.access_log);
    Jail::expect_with(|jail| {
        jail.set_env("SIXIN_DATABASE__ACQUIRE_TIMEOUT_MS", "250");
        jail.set_env("SIXIN_LOG__ACCESS", "true");
        let s = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(s.store.acquire_timeout, Duration::from_millis(250));
        assert!(s.http.access_log);
        Ok(())
    });
}

#[test]
fn the_effective_configuration_is_toml_by_documented_keys_with_passwords_redacted() {
    let mut cfg = Config::default();
    cfg.database.url = "postgres://sixin:hunter2@db:5432/sixin".into();
    cfg.nats.url = Some("nats://n:s3cret@nats:4222".into());
    cfg.limits.argon2_iterations = 3;
    let shown = cfg.to_redacted_toml();
    assert!(
        !shown.contains("hunter2") && !shown.contains("s3cret"),
        "{shown}"
    );
    let back: Config = toml::from_str(&shown).unwrap();
    assert_eq!(back.database.url, "postgres://sixin:***@db:5432/sixin");
    assert_eq!(back.nats.url.as_deref(), Some("nats://n:***@nats:4222"));
    assert_eq!(back.limits, cfg.limits);
    let value: toml::Value = toml::from_str(&shown).unwrap();
    // Every `section.key`, and `section.key.part` for the rate limits' quotas.
    fn walk(value: &toml::Value, prefix: &str, keys: &mut Vec<String>) {
        for (name, child) in value.as_table().unwrap() {
            let path = format!("{prefix}{name}");
            match child {
                toml::Value::Table(_) => walk(child, &format!("{path}."), keys),
                _ => keys.push(path),
            }
        }
    }
    let mut keys = Vec::new();
    walk(&value, "", &mut keys);
    keys.sort();
    assert_eq!(keys, known_keys().into_iter().collect::<Vec<_>>());
}

#[test]
fn connection_limits_and_cors_are_read_and_checked() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "sixin.toml",
            "[http]\nmax_connections = 50\nheader_read_timeout_secs = 3\n\
             keep_alive_idle_secs = 7\nmax_uri_bytes = 1000\n",
        )?;
        jail.set_env(
            "SIXIN_HTTP__CORS_ALLOWED_ORIGINS",
            r#"["https://chat.example.com", "http://localhost:3000"]"#,
        );
        let s = Config::load(&Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(s.connections.max_connections, 50);
        assert_eq!(s.connections.header_read_timeout, Duration::from_secs(3));
        assert_eq!(s.connections.keep_alive_idle, Duration::from_secs(7));
        assert_eq!(s.http.max_uri_bytes, 1000);
        assert_eq!(
            s.http.cors_allowed_origins,
            ["https://chat.example.com", "http://localhost:3000"]
        );
        Ok(())
    });
    type Spoil = fn(&mut Config);
    let cases: [(&str, Spoil); 6] = [
        ("http.max_connections", |c| c.http.max_connections = 0),
        ("http.header_read_timeout_secs", |c| {
            c.http.header_read_timeout_secs = 0
        }),
        ("http.keep_alive_idle_secs", |c| {
            c.http.keep_alive_idle_secs = 0
        }),
        ("http.max_uri_bytes", |c| c.http.max_uri_bytes = 10),
        ("http.cors_allowed_origins", |c| {
            c.http.cors_allowed_origins = vec!["https://a.example/app".into()]
        }),
        ("http.cors_allowed_origins", |c| {
            c.http.cors_allowed_origins = vec!["*".into(), "https://a.example".into()]
        }),
    ];
    for (key, spoil) in cases {
        let err = refused(spoil);
        assert!(err.contains(key), "{key}: {err}");
    }
}
