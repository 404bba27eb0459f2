//! The Analysis of small texts: entities and their context rule, CVEs with KEV status,
//! exploitation status, dates, risk factors, mitigations and leads.

use ctiforge_analyze::{Analyzer, Options};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::analysis::{Analysis, Entity};
use ctiforge_model::{ExploitationStatus, Phase, RiskLevel, Tlp};
use ctiforge_text::Input;

fn analyze(kb: &KnowledgeBase, text: &str) -> Analysis {
    let analyzer = Analyzer::new(kb, Options::default()).expect("model");
    let document = analyzer
        .read(Input {
            bytes: text.as_bytes(),
            path: Some("report.txt"),
            ..Input::default()
        })
        .expect("ingests");
    analyzer.analyze(&document, Tlp::Green, &[])
}

fn names(list: &[Entity]) -> Vec<&str> {
    list.iter().map(|e| e.name.as_str()).collect()
}

#[test]
fn entities_need_context_when_their_name_is_an_ordinary_word() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let a = analyze(
        &kb,
        "Platinum sponsors attended the conference. The Silence group attacked banks in Russia. \
         Turla is active. Turla deployed Kazuar. Ping the server to test it. APT29 used Mimikatz.",
    );
    let actors = names(&a.entities.threat_actors);
    assert!(actors.contains(&"Turla"), "two mentions: {actors:?}");
    assert!(actors.contains(&"APT29"), "{actors:?}");
    assert!(!actors.contains(&"PLATINUM"), "no context: {actors:?}");
    assert!(
        a.entities
            .threat_actors
            .iter()
            .any(|e| e.id.as_deref() == Some("G0091")),
        "Silence group: {actors:?}"
    );
    assert!(names(&a.entities.malware).contains(&"Kazuar"));
    let tools = names(&a.entities.tools);
    assert!(
        tools.contains(&"Mimikatz") && !tools.contains(&"ping"),
        "{tools:?}"
    );
    assert!(names(&a.entities.sectors).contains(&"Finance"));
    assert!(names(&a.entities.countries).contains(&"Russia"));
    // Every entity quotes where it was found.
    for entity in a.entities.threat_actors.iter().chain(&a.entities.tools) {
        let quote = &entity.evidence[0];
        assert!(
            quote.text.contains(entity.mentions[0].as_str()),
            "{entity:?}"
        );
    }
}

#[test]
fn exploitation_status_follows_the_text_and_kev() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let cases = [
        (
            "A proof-of-concept for the flaw was published on GitHub.",
            ExploitationStatus::PocPublic,
        ),
        (
            "There is no evidence of exploitation at this time.",
            ExploitationStatus::NoneKnown,
        ),
        (
            "The vendor fixed a bug in the parser.",
            ExploitationStatus::NotStated,
        ),
        (
            "The flaw is actively exploited, CISA says.",
            ExploitationStatus::InTheWild,
        ),
        // In KEV: in the wild whatever the text says.
        (
            "Customers should patch CVE-2021-44228.",
            ExploitationStatus::InTheWild,
        ),
        // Advice claims nothing about this threat (the Hive advisory's mitigations).
        (
            "Hive actors gained access through RDP.\n\n\
             Mitigations\n\n\
             - Prioritize remediating known exploited vulnerabilities.\n",
            ExploitationStatus::NotStated,
        ),
    ];
    for (text, expected) in cases {
        let a = analyze(&kb, text);
        assert_eq!(a.exploitation.status, expected, "{text}");
        assert!(!a.exploitation.reasons.is_empty());
    }
    let a = analyze(
        &kb,
        "Customers should patch CVE-2021-44228 (CVSS 10.0) and CVE-2099-0001.",
    );
    let log4j = &a.entities.vulnerabilities[0];
    assert_eq!(log4j.id, "CVE-2021-44228");
    assert!(log4j.kev && log4j.kev_date_added.is_some());
    assert_eq!(log4j.cvss, Some(10.0));
    assert!(!a.entities.vulnerabilities[1].kev);
}

#[test]
fn dates_in_common_forms_are_found_near_the_top() {
    let kb = KnowledgeBase::embedded().expect("kb");
    for (text, expected) in [
        (
            "Posted on March 5, 2025 by the team. The actor ran whoami.",
            "2025-03-05",
        ),
        (
            "Updated 12 January 2024. The actor ran whoami.",
            "2024-01-12",
        ),
        (
            "Report date: 2023-07-01. The actor ran whoami.",
            "2023-07-01",
        ),
    ] {
        let a = analyze(&kb, text);
        assert_eq!(
            a.report.published.as_ref().map(|d| d.date.as_str()),
            Some(expected),
            "{text}"
        );
    }
    assert!(
        analyze(&kb, "No date here at all, only words.")
            .report
            .published
            .is_none()
    );
}

#[test]
fn risk_lists_every_factor_and_sums_them() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let quiet = analyze(
        &kb,
        "The vendor published a note about configuration hygiene.",
    );
    assert_eq!(quiet.risk.factors.len(), 7);
    assert_eq!(quiet.risk.level, RiskLevel::Low);
    let loud = analyze(
        &kb,
        "Hospitals were hit: the actor exploited CVE-2023-4966 in the wild, ran vssadmin delete \
         shadows /all /quiet and encrypted patient records with ransomware after using \
         Mimikatz and PsExec over RDP.",
    );
    let sum: u32 = loud.risk.factors.iter().map(|f| f.points).sum();
    assert_eq!(loud.risk.score, sum.min(100));
    assert!(loud.risk.score > quiet.risk.score + 50, "{:?}", loud.risk);
    assert!(matches!(
        loud.risk.level,
        RiskLevel::High | RiskLevel::Critical
    ));
    let sector = loud
        .risk
        .factors
        .iter()
        .find(|f| f.factor == "sector")
        .expect("sector");
    assert_eq!(sector.points, 15, "hospitals are a life-safety sector");
    // Defences follow the techniques.
    assert!(
        loud.mitigations
            .attack
            .iter()
            .any(|m| m.techniques.iter().any(|t| t == "T1490"))
    );
    assert!(loud.response.iter().any(|p| p.phase == Phase::Recovery));
}

#[test]
fn an_intrusion_without_an_exploit_is_as_real_as_one_with() {
    let kb = KnowledgeBase::embedded().expect("kb");
    // Change Healthcare as its write-ups tell it: no CVE, stolen credentials.
    let intrusion = analyze(
        &kb,
        "The attackers used stolen credentials to access the company's Citrix remote access \
         portal on February 12. Nine days later they deployed ransomware.",
    );
    let exploitation = risk_factor(&intrusion, "exploitation");
    assert_eq!(exploitation.points, 15, "{exploitation:?}");
    assert!(
        exploitation.reason.contains("Valid Accounts"),
        "{exploitation:?}"
    );
    // An advisory's weakness that "could be exploited" is no intrusion.
    let advisory = analyze(
        &kb,
        "Successful exploitation of this vulnerability could allow an attacker to execute code \
         on the public-facing web server.",
    );
    let exploitation = risk_factor(&advisory, "exploitation");
    assert_eq!(exploitation.points, 0, "{exploitation:?}");
}

fn risk_factor<'a>(analysis: &'a Analysis, name: &str) -> &'a ctiforge_model::analysis::RiskFactor {
    analysis
        .risk
        .factors
        .iter()
        .find(|f| f.factor == name)
        .expect("every factor is listed")
}

#[test]
fn files_named_in_a_vulnerability_are_not_indicators_but_an_intruders_files_are() {
    let kb = KnowledgeBase::embedded().expect("kb");
    let advisory = analyze(
        &kb,
        "Delta Electronics DIAEnergie is vulnerable to an SQL injection in the script Handler_CFG.ashx. \
         The loader dropped stage2.dll and ran it with rundll32.",
    );
    let listed: Vec<&str> = advisory.iocs.iter().map(|i| i.value.as_str()).collect();
    assert!(!listed.contains(&"Handler_CFG.ashx"), "{listed:?}");
    assert!(listed.contains(&"stage2.dll"), "{listed:?}");
    let flagged = advisory
        .false_positives
        .iter()
        .find(|i| i.value == "Handler_CFG.ashx")
        .expect("flagged, with its reason");
    assert!(
        flagged
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("vulnerability")
    );
}

#[test]
fn key_points_count_in_the_singular_when_there_is_one() {
    // A Change Healthcare write-up gave "1 techniques across 1 tactics".
    let kb = KnowledgeBase::embedded().expect("embedded knowledge base");
    let analysis = analyze(
        &kb,
        "Nine days later the threat actors deployed ransomware across the network.",
    );
    let points = &analysis.summary.key_points;
    assert!(
        points
            .iter()
            .any(|p| p.starts_with("1 technique across 1 tactic;")),
        "{points:?}"
    );
}
