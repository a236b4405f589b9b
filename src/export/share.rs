//! Share links: a run's configuration and step in the URL fragment.
//!
//! ```text
//! #s=<base64url( raw-deflate( JSON ) )>
//! JSON = {"v":1,"scenario":"checkout" | {…full scenario…},"seed":1,
//!         "faults":{…},"anti_patterns":[…],"step":42}
//! ```
//!
//! A run is a pure function of its configuration, so the link carries only that: an
//! unmodified built-in scenario by name, anything else in full. The fragment never
//! reaches a server, which is why the whole run can live there. Raw deflate (no zlib
//! header) and base64url without padding keep it short and free of characters a URL
//! would escape. Links longer than [`FRAGMENT_CHARS_MAX`] are refused with advice
//! to export a trace file instead; browsers and chat tools cut long URLs.
//!
//! The decoder assumes a hostile link: the text, the decoded bytes and the inflated
//! JSON are each bounded before the next stage runs, and every failure is an error
//! message naming the field concerned, never a panic.

use std::fmt;

use base64::engine::general_purpose::{URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
use base64::Engine as _;
use miniz_oxide::inflate::TINFLStatus;
use serde_json::Value;

use super::{error_at, under};
use crate::sim::anti_pattern::AntiPattern;
use crate::sim::fault::FaultScript;
use crate::sim::reader::{u64_of, Obj, Read};
use crate::sim::scenario::{self, Scenario, ScenarioErrors};
use crate::sim::simulation::RunConfig;

/// The payload version this build writes and the newest it reads.
pub const SHARE_VERSION: u64 = 1;
/// Longest fragment written or read, in characters (16 KiB).
pub const FRAGMENT_CHARS_MAX: usize = 16 * 1024;
/// Largest inflated payload read, in bytes: a scenario (at most 1 MiB) and its faults.
pub const JSON_BYTES_MAX: usize = 2 << 20;
/// The fragment parameter that holds the payload.
pub const PARAM: &str = "s=";

/// What a share link restores.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedRun {
    pub config: RunConfig,
    pub step: u64,
}

/// The link would be too long to share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareTooLong {
    pub chars: usize,
}

impl fmt::Display for ShareTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the share link would be {} characters; the limit is {FRAGMENT_CHARS_MAX}: \
             export a trace file (.eventscope.json) and share that instead",
            self.chars
        )
    }
}

impl std::error::Error for ShareTooLong {}

/// The payload as read, before the scenario is resolved and checked.
struct PayloadIn {
    scenario: Value,
    seed: u64,
    faults: FaultScript,
    anti_patterns: Vec<AntiPattern>,
    step: u64,
}

fn read_payload(value: Value) -> Read<PayloadIn> {
    let mut o = Obj::new(value, "", &["v", "scenario", "seed", "faults", "anti_patterns", "step"])?;
    Ok(PayloadIn {
        scenario: o.req("scenario")?,
        seed: o.get("seed", u64_of)?,
        faults: o.or("faults", FaultScript::default(), FaultScript::read)?,
        anti_patterns: o.list_or_empty("anti_patterns", AntiPattern::read)?,
        step: o.u64_or("step", 0)?,
    })
}

/// The fragment (`s=…`, without the `#`) that restores this configuration at `step`.
pub fn encode_share(config: &RunConfig, step: u64) -> Result<String, ShareTooLong> {
    encode_param(&payload_json(config, step))
}

/// The payload JSON of a share link: the run's configuration and step. The app hands
/// this text to its worker, which compresses it ([`encode_param`]) or replays the run
/// it describes for an export.
pub fn payload_json(config: &RunConfig, step: u64) -> String {
    let builtin = scenario::builtin(&config.scenario.name).is_some_and(|b| b == config.scenario);
    // Written as text around the scenario's own serialiser: the browser bundle then
    // needs no serialiser into `serde_json::Value` for this document.
    let scenario =
        if builtin { Value::from(config.scenario.name.clone()).to_string() } else { config.scenario.to_json() };
    let mut out = format!("{{\"v\":{SHARE_VERSION},\"scenario\":{scenario},\"seed\":{}", config.seed);
    if !config.faults.rules.is_empty() || !config.faults.scripted.is_empty() {
        out.push_str(",\"faults\":");
        out.push_str(&serde_json::to_string(&config.faults).unwrap_or_default());
    }
    if !config.anti_patterns.is_empty() {
        out.push_str(",\"anti_patterns\":");
        out.push_str(&serde_json::to_string(&config.anti_patterns).unwrap_or_default());
    }
    out.push_str(&format!(",\"step\":{step}}}"));
    out
}

/// The fragment parameter (`s=…`) that carries `payload` (from [`payload_json`]):
/// raw deflate, then base64url.
pub fn encode_param(payload: &str) -> Result<String, ShareTooLong> {
    let deflated = miniz_oxide::deflate::compress_to_vec(payload.as_bytes(), 9);
    let fragment = format!("{PARAM}{}", URL_SAFE_NO_PAD.encode(deflated));
    if fragment.len() > FRAGMENT_CHARS_MAX {
        return Err(ShareTooLong { chars: fragment.len() });
    }
    Ok(fragment)
}

/// Reads a share link: a whole URL, a fragment with or without `#`, or just `s=…`.
pub fn decode_share(link: &str) -> Result<SharedRun, ScenarioErrors> {
    decode_payload(&decode_param(link)?)
}

/// The payload JSON inside a share link, each stage bounded; [`decode_payload`] reads it.
pub fn decode_param(link: &str) -> Result<String, ScenarioErrors> {
    // Bound the text before looking at it: a fragment can be no longer than this plus
    // a URL in front of it.
    if link.len() > FRAGMENT_CHARS_MAX + 4096 {
        return Err(error_at("", too_long(link.len())));
    }
    let Some(encoded) = share_param(link) else {
        return Err(error_at("", "not an Eventscope share link: expected a fragment 's=…'"));
    };
    if encoded.len() > FRAGMENT_CHARS_MAX {
        return Err(error_at("", too_long(encoded.len())));
    }
    let deflated = URL_SAFE_NO_PAD_INDIFFERENT
        .decode(encoded)
        .map_err(|e| error_at("", format!("the share link is damaged (not base64url: {e})")))?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, JSON_BYTES_MAX).map_err(|e| {
        let why = if e.status == TINFLStatus::HasMoreOutput {
            format!("it expands beyond {JSON_BYTES_MAX} bytes")
        } else {
            "it does not inflate".to_string()
        };
        error_at("", format!("the share link is damaged ({why})"))
    })?;
    String::from_utf8(json).map_err(|_| error_at("", "the share link is damaged (not UTF-8 text)"))
}

/// Reads a payload (from [`decode_param`] or [`payload_json`]) into the run it restores.
pub fn decode_payload(text: &str) -> Result<SharedRun, ScenarioErrors> {
    if text.len() > JSON_BYTES_MAX {
        return Err(error_at("", format!("the share link is damaged (it expands beyond {JSON_BYTES_MAX} bytes)")));
    }
    // serde_json refuses nesting deeper than 128 levels: the stack is safe.
    let value: Value =
        serde_json::from_str(text).map_err(|e| error_at("", format!("the share link is damaged (not JSON: {e})")))?;
    if !value.is_object() {
        return Err(error_at("", "the share link is damaged (not a JSON object)"));
    }
    check_version(value.get("v"))?;
    let payload = read_payload(value).map_err(|e| ScenarioErrors::one(e.path, e.message))?;
    let scenario = match payload.scenario {
        Value::String(name) => scenario::builtin(&name).ok_or_else(|| {
            let names: Vec<&str> = scenario::builtin_names().collect();
            error_at(
                "scenario",
                format!("no built-in scenario named '{}' (built-ins: {})", clip(&name), names.join(", ")),
            )
        })?,
        object @ Value::Object(_) => Scenario::from_json(&object.to_string()).map_err(|e| under("scenario", e))?,
        _ => return Err(error_at("scenario", "must be a built-in scenario's name or a scenario object")),
    };
    let faults = payload.faults;
    faults.validate_against(&scenario).map_err(|e| under("faults", e))?;
    if payload.step > scenario.steps_max {
        return Err(error_at(
            "step",
            format!("is {}, beyond the scenario's steps_max of {}", payload.step, scenario.steps_max),
        ));
    }
    let config = RunConfig { scenario, seed: payload.seed, faults, anti_patterns: payload.anti_patterns };
    Ok(SharedRun { config, step: payload.step })
}

/// The encoded payload of a share link (the text after `s=`), if the link has one.
///
/// Accepts a whole URL or its fragment, with or without `#`, in both forms the app
/// writes: `#s=…` and, when the page uses routes in the fragment, `#/play?s=…`. Other
/// parameters may stand before or after it (`#/play?x=1&s=…`). The route itself is the
/// router's business; this only finds the payload, so the two coexist.
pub fn share_param(link: &str) -> Option<&str> {
    let fragment = link.split_once('#').map_or(link, |(_, f)| f).trim();
    // `/play?s=…`: the parameters follow the route's `?`; a bare `s=…` has none.
    let params = fragment.split_once('?').map_or(fragment, |(_, query)| query);
    params.split('&').find_map(|p| p.strip_prefix(PARAM))
}

/// The fragment (without `#`) that carries `param` (`s=…`), in the form the page's
/// current fragment uses: after the route when there is one (`/lessons/x` becomes
/// `/play?s=…`, since a shared run opens in the player), bare otherwise.
pub fn fragment_with(current_fragment: &str, param: &str) -> String {
    let current = current_fragment.strip_prefix('#').unwrap_or(current_fragment);
    if current.starts_with('/') {
        format!("/play?{param}")
    } else {
        param.to_string()
    }
}

fn too_long(chars: usize) -> String {
    format!("the share link is {chars} characters; the limit is {FRAGMENT_CHARS_MAX}")
}

/// The version field, checked before the rest so that a newer payload gets that
/// message rather than a complaint about a field it added.
fn check_version(v: Option<&Value>) -> Result<(), ScenarioErrors> {
    match v.map(Value::as_u64) {
        Some(Some(SHARE_VERSION)) => Ok(()),
        Some(Some(v)) if v > SHARE_VERSION => Err(error_at(
            "",
            format!("made by a newer Eventscope: format version {v}, this one reads up to {SHARE_VERSION}"),
        )),
        Some(Some(v)) => Err(error_at("v", format!("{v} is not a share-link version (expected 1)"))),
        Some(None) => Err(error_at("v", "must be a whole number")),
        None => Err(error_at("v", "missing")),
    }
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}
