//! Where a share link's payload sits in a URL: `#s=…` and `#/play?s=…` both work, so
//! share links coexist with routes in the fragment.

use eventscope::export::share::{decode_share, encode_share, fragment_with, share_param};
use eventscope::sim::scenario::builtin;
use eventscope::sim::simulation::RunConfig;

#[test]
fn finds_the_payload_in_every_form() {
    let cases: &[(&str, Option<&str>)] = &[
        ("#s=abc", Some("abc")),
        ("s=abc", Some("abc")),
        ("#/play?s=abc", Some("abc")),
        ("#/play?speed=4&s=abc", Some("abc")),
        ("#/play?s=abc&speed=4", Some("abc")),
        ("https://example.org/eventscope/#/play?s=abc", Some("abc")),
        ("https://example.org/#s=abc", Some("abc")),
        ("#/lessons/dlq", None),
        ("#/play", None),
        ("", None),
        ("#", None),
        ("#x=1", None),
        // Only a parameter named exactly `s`.
        ("#/play?ss=abc", None),
    ];
    for (link, expected) in cases {
        assert_eq!(share_param(link), *expected, "{link}");
    }
}

#[test]
fn writes_the_form_the_page_uses() {
    assert_eq!(fragment_with("", "s=abc"), "s=abc");
    assert_eq!(fragment_with("#s=old", "s=abc"), "s=abc");
    assert_eq!(fragment_with("#/play", "s=abc"), "/play?s=abc");
    assert_eq!(fragment_with("#/lessons/dlq", "s=abc"), "/play?s=abc");
    assert_eq!(fragment_with("/play?s=old", "s=abc"), "/play?s=abc");
}

#[test]
fn a_routed_link_decodes_like_a_bare_one() {
    let config = RunConfig::new(builtin("checkout").expect("checkout is built in"), 7);
    let param = encode_share(&config, 12).expect("a built-in link is short");
    let bare = decode_share(&format!("#{param}")).expect("bare form decodes");
    let routed = decode_share(&format!("https://example.org/#{}", fragment_with("#/play", &param)))
        .expect("routed form decodes");
    assert_eq!(bare, routed);
    assert_eq!(routed.step, 12);
    assert_eq!(routed.config, config);
}

#[test]
fn an_unmodified_built_in_travels_by_name_and_an_edited_one_in_full() {
    let checkout = builtin("checkout").expect("checkout is built in");
    assert_eq!(builtin("checkout").expect("built in"), checkout, "equal documents compare equal");
    let by_name = eventscope::export::share::payload_json(&RunConfig::new(checkout.clone(), 1), 0);
    assert!(by_name.contains("\"scenario\":\"checkout\""), "{by_name}");
    let mut edited = checkout.clone();
    edited.description.push_str(" (edited)");
    assert_ne!(edited, checkout, "one changed field makes them differ");
    let in_full = eventscope::export::share::payload_json(&RunConfig::new(edited.clone(), 1), 0);
    assert!(in_full.contains("\"scenario\":{"), "{in_full}");
    let shared = eventscope::export::share::decode_payload(&in_full).expect("the edited copy travels");
    assert_eq!(shared.config.scenario, edited);
    assert_ne!(shared.config.scenario, checkout);
}
