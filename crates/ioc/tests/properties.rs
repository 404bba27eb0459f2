//! Properties of extraction over generated input.

use ctiforge_ioc::{Extractor, IocType};
use proptest::prelude::*;

/// Text mixing prose, indicator-like fragments, defang markers and arbitrary Unicode.
fn messy_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z]{1,12}",
        "[0-9]{1,4}(\\.[0-9]{1,4}){0,5}",
        Just("[.]".to_owned()),
        Just("(dot)".to_owned()),
        Just("hxxp://".to_owned()),
        Just("://".to_owned()),
        Just(" at ".to_owned()),
        Just(" dot ".to_owned()),
        Just("\\".to_owned()),
        Just("C:\\".to_owned()),
        Just("HKLM\\".to_owned()),
        Just("Mozilla/5.0 (".to_owned()),
        Just("References\n".to_owned()),
        "[ \\n\\t,;:()\\[\\]{}<>\"'|`@/.%=!?*-]{1,3}",
        any::<char>().prop_map(String::from),
        "\\PC{1,8}",
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn extraction_never_panics_and_offsets_slice_the_text(text in messy_text()) {
        for indicator in Extractor::new().extract(&text) {
            prop_assert!(indicator.start <= indicator.end);
            prop_assert_eq!(text.get(indicator.start..indicator.end), Some(indicator.raw.as_str()));
            prop_assert!(!indicator.value.is_empty());
        }
    }

    #[test]
    fn arbitrary_bytes_decoded_lossily_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        for indicator in Extractor::new().extract(&text) {
            prop_assert_eq!(text.get(indicator.start..indicator.end), Some(indicator.raw.as_str()));
        }
    }
}

fn label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{1,8}(-[a-z0-9]{1,6})?"
}

fn domain() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(label(), 1..3),
        prop::sample::select(vec![
            "com", "net", "org", "ru", "io", "co.uk", "info", "xyz", "top",
        ]),
    )
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

/// Defangs a name's dots in one of the common styles.
fn defang_dots(name: &str, style: usize) -> String {
    let dot = ["[.]", "(.)", "{.}", "[dot]", "(dot)", "\\."][style % 6];
    name.replace('.', dot)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn refanging_a_defanged_domain_gives_it_back(name in domain(), style in 0usize..6) {
        let text = format!("The actor used {} for C2.", defang_dots(&name, style));
        let found = Extractor::new().extract(&text);
        let domain = found.iter().find(|i| i.kind == IocType::Domain);
        prop_assert!(domain.is_some(), "{} gave {:?}", text, found);
        let domain = domain.expect("checked");
        prop_assert_eq!(&domain.value, &name);
        prop_assert!(domain.defanged);
        prop_assert!(domain.false_positive.is_none(), "{:?}", domain);
    }

    #[test]
    fn refanging_a_defanged_url_gives_it_back(
        name in domain(),
        path in "(/[a-zA-Z0-9_-]{1,10}){0,3}",
        secure in any::<bool>(),
        style in 0usize..6,
    ) {
        let scheme = if secure { "https" } else { "http" };
        let defanged_scheme = if secure { "hxxps" } else { "hxxp" };
        let url = format!("{scheme}://{name}{path}");
        let text = format!("Download from {defanged_scheme}[://]{}{path} then run.", defang_dots(&name, style));
        let found = Extractor::new().extract(&text);
        let urls: Vec<&str> = found.iter().filter(|i| i.kind == IocType::Url).map(|i| i.value.as_str()).collect();
        prop_assert_eq!(urls, vec![url.as_str()], "{}", text);
    }

    #[test]
    fn refanging_a_defanged_address_gives_it_back(octets in (1u8..=223, 0u8..=255, 0u8..=255, 1u8..=254), style in 0usize..6) {
        let ip = format!("{}.{}.{}.{}", octets.0, octets.1, octets.2, octets.3);
        let text = format!("beacon {} seen", defang_dots(&ip, style));
        let found = Extractor::new().extract(&text);
        let addresses: Vec<&str> = found.iter().filter(|i| i.kind == IocType::Ipv4).map(|i| i.value.as_str()).collect();
        prop_assert_eq!(addresses, vec![ip.as_str()]);
    }

    #[test]
    fn refanging_a_defanged_email_gives_it_back(user in "[a-z][a-z0-9._]{0,8}[a-z0-9]", name in domain(), at_style in 0usize..3) {
        let at = ["[@]", "[at]", "(at)"][at_style];
        let email = format!("{user}@{name}");
        let text = format!("Mail {user}{at}{} now", defang_dots(&name, 0));
        let found = Extractor::new().extract(&text);
        let emails: Vec<&str> = found.iter().filter(|i| i.kind == IocType::Email).map(|i| i.value.as_str()).collect();
        prop_assert_eq!(emails, vec![email.as_str()], "{}", text);
    }
}
