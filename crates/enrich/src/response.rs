//! Incident-response steps by phase (NIST SP 800-61), each drawn from what the report
//! describes and naming the findings that call for it.

use std::collections::{BTreeMap, BTreeSet};

use ctiforge_model::analysis::{ResponsePhase, ResponseStep};
use ctiforge_model::{ExploitationStatus, Phase};

use crate::Findings;

fn step(action: String, because: Vec<String>) -> ResponseStep {
    ResponseStep { action, because }
}

/// Response steps by phase, phases without a step left out.
pub fn response(findings: &Findings<'_>) -> Vec<ResponsePhase> {
    [
        (Phase::Preparation, preparation(findings)),
        (Phase::DetectionAndAnalysis, detection(findings)),
        (Phase::Containment, containment(findings)),
        (Phase::Eradication, eradication(findings)),
        (Phase::Recovery, recovery(findings)),
        (Phase::LessonsLearned, lessons_learned(findings)),
    ]
    .into_iter()
    .filter(|(_, steps)| !steps.is_empty())
    .map(|(phase, steps)| ResponsePhase { phase, steps })
    .collect()
}

/// Collect the logs the leads need; patch the report's CVEs.
fn preparation(f: &Findings<'_>) -> Vec<ResponseStep> {
    let mut steps = Vec::new();
    let sources: BTreeSet<&str> = f
        .leads
        .iter()
        .flat_map(|l| l.where_.iter().map(String::as_str))
        .collect();
    if !sources.is_empty() {
        steps.push(step(
            format!(
                "Confirm these log sources are collected and retained: {}.",
                sources
                    .iter()
                    .take(8)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            f.leads
                .iter()
                .flat_map(|l| l.why.iter().cloned())
                .take(6)
                .collect(),
        ));
    }
    for v in f.vulnerabilities {
        let deadline = v
            .kev_due_date
            .as_deref()
            .map(|d| format!(" (CISA KEV due date {d})"))
            .unwrap_or_default();
        steps.push(step(
            format!(
                "Find every exposed instance of {} and patch {}{deadline}.",
                v.product.as_deref().unwrap_or("the affected product"),
                v.id
            ),
            vec![v.id.clone()],
        ));
    }
    steps
}

/// Search for the indicators; hunt along the technique leads.
fn detection(f: &Findings<'_>) -> Vec<ResponseStep> {
    let mut steps = Vec::new();
    if !f.iocs.is_empty() {
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for ioc in f.iocs {
            *types.entry(ioc.kind.as_str()).or_default() += 1;
        }
        steps.push(step(
            format!(
                "Search the retained logs for the report's {} indicators ({}) over at least the period the report covers.",
                f.iocs.len(),
                types.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
            ),
            f.iocs.iter().take(5).map(|i| i.value.clone()).collect(),
        ));
    }
    let technique_leads = f.leads.iter().filter(|l| {
        l.why
            .iter()
            .any(|w| w.starts_with('T') || w.starts_with("AML."))
    });
    for lead in technique_leads.take(8) {
        steps.push(step(
            format!(
                "Hunt for {} in {}.",
                lead.what,
                if lead.where_.is_empty() {
                    "the relevant logs".to_owned()
                } else {
                    lead.where_.join(", ")
                }
            ),
            lead.why.clone(),
        ));
    }
    steps
}

/// Block, take exploited systems off the internet, reset credentials, isolate, segment.
fn containment(f: &Findings<'_>) -> Vec<ResponseStep> {
    let mut steps = Vec::new();
    let network: Vec<String> = f
        .iocs
        .iter()
        .filter(|i| i.kind.is_network())
        .map(|i| i.value.clone())
        .collect();
    if !network.is_empty() {
        steps.push(step(
            format!(
                "Block the {} network indicators at the firewall, proxy and DNS resolver.",
                network.len()
            ),
            network.into_iter().take(5).collect(),
        ));
    }
    if f.exploitation.status == ExploitationStatus::InTheWild && f.has("T1190") {
        steps.push(step(
            "Take the exploited internet-facing system off the internet or behind a VPN until it is patched and checked for web shells and new accounts.".to_owned(),
            vec!["T1190".to_owned()],
        ));
    }
    let credential = f.under_tactic("TA0006");
    if !credential.is_empty() || f.has("T1078") {
        let mut because = credential;
        if f.has("T1078") {
            because.push("T1078".to_owned());
        }
        steps.push(step(
            "Reset the passwords of exposed accounts (domain administrators and service accounts first), revoke sessions and tokens, and reset the krbtgt password twice if domain credentials were dumped.".to_owned(),
            because,
        ));
    }
    let lateral = f.under_tactic("TA0008");
    if !lateral.is_empty() {
        steps.push(step(
            "Isolate affected hosts and restrict remote administration (RDP, SMB, WinRM, PsExec) to jump hosts while the intrusion is scoped.".to_owned(),
            lateral,
        ));
    }
    if f.entities.sectors.iter().any(|s| s.name == "Health") {
        steps.push(step(
            "Segment clinical and medical-device networks from the affected IT systems and switch to downtime procedures where patient care depends on affected systems.".to_owned(),
            vec!["sector: Health".to_owned()],
        ));
    }
    steps
}

/// Remove the persistence, malware and tools the report names.
fn eradication(f: &Findings<'_>) -> Vec<ResponseStep> {
    let mut steps = Vec::new();
    let persistence = f.under_tactic("TA0003");
    if !persistence.is_empty() {
        let names: Vec<String> = f
            .techniques
            .iter()
            .filter(|t| persistence.contains(&t.id))
            .map(|t| t.name.clone())
            .collect();
        steps.push(step(
            format!("Remove the persistence the report describes ({}) from every affected host; compare against a known-good baseline.", names.join(", ")),
            persistence,
        ));
    }
    let malware: Vec<String> = f
        .entities
        .malware
        .iter()
        .chain(&f.entities.tools)
        .map(|m| m.name.clone())
        .collect();
    if !malware.is_empty() {
        steps.push(step(
            format!("Remove the malware and tools named in the report ({}) and rebuild hosts where they ran with privileges.", malware.join(", ")),
            malware,
        ));
    }
    steps
}

/// Restore from clean backups; return to service under watch.
fn recovery(f: &Findings<'_>) -> Vec<ResponseStep> {
    let mut steps = Vec::new();
    let impact = f.under_tactic("TA0040");
    if f.has("T1486") || f.has("T1490") || f.has("T1485") {
        steps.push(step(
            "Restore encrypted or destroyed data from offline backups after confirming the backups are clean; the report describes destruction of recovery options, so verify backup integrity first.".to_owned(),
            impact.clone(),
        ));
    }
    if !impact.is_empty() || !f.iocs.is_empty() {
        steps.push(step(
            "Return systems to service in stages with heightened monitoring on the hunting leads above.".to_owned(),
            impact,
        ));
    }
    steps
}

/// The best countermeasure of each D3FEND tactic and the broadest ATT&CK mitigation.
fn lessons_learned(f: &Findings<'_>) -> Vec<ResponseStep> {
    let mut steps = Vec::new();
    for group in &f.mitigations.d3fend {
        if let Some(best) = group.countermeasures.first() {
            steps.push(step(
                format!(
                    "{}: adopt {} ({}), which counters {} of the report's techniques.",
                    group.tactic,
                    best.name,
                    best.id,
                    best.techniques.len()
                ),
                best.techniques.clone(),
            ));
        }
    }
    if let Some(best) = f.mitigations.attack.first() {
        steps.push(step(
            format!(
                "Prioritise ATT&CK mitigation {} {} (covers {} techniques of this report).",
                best.id,
                best.name,
                best.techniques.len()
            ),
            best.techniques.clone(),
        ));
    }
    steps
}
