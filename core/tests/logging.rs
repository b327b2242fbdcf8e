//! The core logs every step through the `log` facade at `debug`, with no secret in any record.

mod common;

use std::sync::Mutex;

use common::*;
use mcp_auth_demo_server::DemoConfig;

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS.lock().unwrap().push(format!(
            "{} {} {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

#[test]
fn a_full_flow_logs_its_steps_without_secrets() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    initialize(&c).unwrap();
    let token = c.access_token().unwrap();
    let records = RECORDS.lock().unwrap().clone();
    let ours: Vec<&String> = records
        .iter()
        .filter(|r| {
            r.split(' ')
                .nth(1)
                .is_some_and(|t| t.starts_with("mcp_auth"))
        })
        .collect();
    for step in [
        "protected_resource_metadata",
        "authorization",
        "token_exchange",
    ] {
        assert!(
            ours.iter().any(|r| r.contains(step)),
            "no {step} record in {ours:#?}"
        );
    }
    // Every record, ours and the HTTP library's, is free of secrets.
    let code = h.only("/token").form_value("code").unwrap();
    for r in &records {
        assert!(!r.contains(token.secret()), "access token in {r}");
        assert!(!r.contains(&code), "authorization code in {r}");
        assert!(!r.contains("state="), "state in {r}");
    }
}
