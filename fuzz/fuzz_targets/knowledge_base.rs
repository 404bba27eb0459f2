//! Any bytes as a knowledge-base snapshot file (`--kb FILE`) and as a warninglist index read in
//! place: an error or answers, never a crash. And any text as warninglist entries: every
//! host name and address put in the index is found again.
#![no_main]

use ctiforge_kb::{Bytes, KnowledgeBase, Warninglist, WarninglistIndex, WarninglistKind};
use libfuzzer_sys::fuzz_target;

fn ask(index: &WarninglistIndex) {
    for key in ["example.com", "10.0.0.1", "", "d41d8cd98f00b204e9800998ecf8427e"] {
        let _ = index.exact(key).count();
        let _ = index.hostname(key).count();
    }
    for address in ["10.1.2.3", "0.0.0.0", "255.255.255.255", "::1", "2001:db8::1"] {
        if let Ok(ip) = address.parse() {
            let _ = index.address(ip).count();
        }
    }
}

fn list(slug: &str, kind: WarninglistKind, entries: &[String]) -> Warninglist {
    Warninglist::new(
        slug.into(),
        slug.into(),
        "1".into(),
        kind,
        vec!["domain".into(), "ip-dst".into()],
        entries,
    )
}

fuzz_target!(|data: &[u8]| {
    if let Ok(kb) = KnowledgeBase::from_snapshot(data, "fuzz") {
        ask(kb.warninglist_index());
        let _ = kb.find("APT29");
        let _ = kb.resolve_technique("T1059.001");
        let _ = kb.relations_from("G0016").count();
    }
    if let Some(index) = WarninglistIndex::open(Bytes::Shared(data.into())) {
        ask(&index);
    }

    let text = String::from_utf8_lossy(data);
    let entries: Vec<String> = text.lines().take(2_000).map(str::to_owned).collect();
    let lists = [
        list("hosts", WarninglistKind::Hostname, &entries),
        list("ranges", WarninglistKind::Cidr, &entries),
    ];
    let index = WarninglistIndex::build(&lists);
    for entry in lists[0].entries() {
        let key = entry
            .trim()
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        assert!(index.hostname(&key).any(|id| id == 0), "{entry:?} lost");
    }
    for entry in lists[1].entries() {
        if let Ok(ip) = entry.trim().parse::<std::net::IpAddr>() {
            assert!(index.address(ip).any(|id| id == 1), "{entry:?} lost");
        }
    }
});
