//! Technique mapping with the embedded model and knowledge base, and the reproducibility of
//! the embedded model from `../shared/data` (or `$CTIFORGE_DATA`).

use std::path::{Path, PathBuf};

use ctiforge_attack::corpus::Corpus;
use ctiforge_attack::eval::{self, score_labelled};
use ctiforge_attack::model::{Calibration, Model};
use ctiforge_attack::placement::PlacementScratch;
use ctiforge_attack::prototypes::DOMAINS;
use ctiforge_attack::train::Settings;
use ctiforge_attack::{EMBEDDED_MODEL, MapOptions, Mapper, Mapping, Signal, lexicon};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Domain;

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

fn kb() -> KnowledgeBase {
    KnowledgeBase::embedded().expect("embedded knowledge base")
}

fn map(mapper: &Mapper<'_>, text: &str, options: &MapOptions) -> Mapping {
    let (_, sentences) = ctiforge_text::segment(text);
    mapper.map_document(text, &sentences, options)
}

fn ids(mapping: &Mapping) -> Vec<&str> {
    mapping.techniques.iter().map(|t| t.id.as_str()).collect()
}

#[test]
fn lexicon_techniques_exist_and_are_current() {
    let kb = kb();
    for &(pattern, id, strength) in lexicon::ENTRIES {
        let technique = kb
            .technique(id)
            .unwrap_or_else(|| panic!("lexicon entry {pattern:?} names unknown {id}"));
        assert!(
            technique.is_active(),
            "lexicon entry {pattern:?} names revoked or deprecated {id}"
        );
        assert!((0.0..1.0).contains(&strength), "{pattern:?}: {strength}");
        assert_eq!(pattern, pattern.to_lowercase(), "patterns are lower case");
        // Only a trailing `*` is a wildcard; one anywhere else would be matched literally.
        assert!(
            !pattern.trim_end_matches('*').contains('*'),
            "{pattern:?}: `*` only at the end"
        );
    }
}

#[test]
fn a_report_paragraph_maps_to_its_techniques_with_evidence() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let text = "The actor sent spearphishing emails with a malicious Word attachment. \
        The malware created a scheduled task with schtasks /create for persistence. \
        It used Mimikatz sekurlsa::logonpasswords to dump credentials from LSASS. \
        Before encrypting files, the ransomware ran vssadmin delete shadows /all /quiet.";
    let mapping = map(&mapper, text, &MapOptions::default());
    let found = ids(&mapping);
    for expected in ["T1566.001", "T1053.005", "T1003.001", "T1490"] {
        assert!(
            found.contains(&expected),
            "{expected} missing from {found:?}"
        );
    }
    for technique in &mapping.techniques {
        assert!(
            !technique.evidence.is_empty(),
            "{} has no evidence",
            technique.id
        );
        assert!(
            !technique.tactics.is_empty(),
            "{} has no tactic",
            technique.id
        );
        for evidence in &technique.evidence {
            assert_eq!(&text[evidence.start..evidence.end], evidence.text);
            assert!(!evidence.signals.is_empty());
        }
    }
    let lsass = mapping
        .techniques
        .iter()
        .find(|t| t.id == "T1003.001")
        .expect("LSASS Memory");
    assert!(lsass.evidence[0].text.contains("Mimikatz"));
    assert!(
        lsass.evidence[0]
            .signals
            .iter()
            .any(|s| matches!(&s.signal, Signal::Lexicon { phrase } if phrase == "sekurlsa"))
    );
    // Scores are ordered.
    assert!(
        mapping
            .techniques
            .windows(2)
            .all(|w| w[0].score >= w[1].score)
    );
}

#[test]
fn explicit_ids_are_validated_and_revoked_ids_replaced() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let mapping = map(
        &mapper,
        "Mapped to T1059.001, T1574.002 and TA0002; T9999 and T1059.999 do not exist.",
        &MapOptions::default(),
    );
    let found = ids(&mapping);
    assert!(found.contains(&"T1059.001"), "{found:?}");
    assert!(
        found.contains(&"T1574.001"),
        "revoked T1574.002 → T1574.001: {found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|id| id.starts_with("T9999") || *id == "T1059.999")
    );
    let replaced = mapping
        .techniques
        .iter()
        .find(|t| t.id == "T1574.001")
        .expect("replacement");
    assert!(replaced.evidence[0].signals.iter().any(|s| matches!(
        &s.signal,
        Signal::ExplicitId { revoked: Some(old), .. } if old == "T1574.002"
    )));
    assert_eq!(mapping.tactics.len(), 1);
    assert_eq!(mapping.tactics[0].tactic.name, "Execution");
}

#[test]
fn rollup_folds_sub_techniques_into_parents_and_min_score_filters() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let text = "The loader ran powershell.exe -enc with a long script, then cmd.exe /c whoami.";
    let plain = map(&mapper, text, &MapOptions::default());
    assert!(ids(&plain).contains(&"T1059.001"), "{:?}", ids(&plain));
    let rolled = map(
        &mapper,
        text,
        &MapOptions {
            rollup: true,
            ..MapOptions::default()
        },
    );
    assert!(
        ids(&rolled).iter().all(|id| !id.contains('.')),
        "{:?}",
        ids(&rolled)
    );
    assert!(ids(&rolled).contains(&"T1059"));
    let strict = map(
        &mapper,
        text,
        &MapOptions {
            min_score: Some(1.0),
            ..MapOptions::default()
        },
    );
    assert!(strict.techniques.iter().all(|t| t.score >= 1.0));
    assert!(strict.techniques.len() < plain.techniques.len());
}

#[test]
fn named_software_nudges_its_techniques_only_when_the_prior_counts() {
    let kb = kb();
    let text = "The actor ran Mimikatz on the file server to dump credentials from LSASS memory.";
    let prior_of = |mapping: &Mapping| -> Vec<String> {
        mapping
            .techniques
            .iter()
            .flat_map(|t| &t.document_signals)
            .filter_map(|s| match &s.signal {
                Signal::SoftwarePrior { software, .. } => Some(software.clone()),
                _ => None,
            })
            .collect()
    };
    // The shipped model's prior is 0: software explains nothing and is not reported.
    let shipped = Mapper::embedded(&kb).expect("embedded model");
    assert_eq!(shipped.model().calibration.software_prior, 0.0);
    assert!(prior_of(&map(&shipped, text, &MapOptions::default())).is_empty());
    // With a prior, Mimikatz (S0002) is a document signal of a technique ATT&CK records it
    // using, found from the sentence.
    let mut model = shipped.model().clone();
    model.calibration.software_prior = 1.0;
    let nudged = Mapper::new(&kb, model);
    let mapping = map(&nudged, text, &MapOptions::default());
    let users = prior_of(&mapping);
    assert!(users.iter().any(|s| s == "S0002"), "{:?}", ids(&mapping));
}

#[test]
fn a_technique_name_that_is_an_everyday_noun_phrase_is_weak_evidence() {
    // `IP Addresses` (T1590.005), `Email Addresses` (T1589.002) and `Social Media`
    // (T1593.001) are sub-technique names that reports use as plain nouns; measured on
    // ATT&CK's procedure examples, each is found mostly in texts about other techniques.
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let model = Model::decode(EMBEDDED_MODEL, "embedded").expect("decodes");
    let threshold = model.calibration.document_threshold;
    for (name, id) in [
        ("ip addresses", "T1590.005"),
        ("email addresses", "T1589.002"),
        ("social media", "T1593.001"),
    ] {
        let strength = model
            .phrase_strengths
            .iter()
            .find(|(p, t, _)| p == name && t == id)
            .map(|(_, _, s)| *s);
        assert!(
            strength.is_some_and(|s| s < threshold),
            "{name}: {strength:?} (threshold {threshold})"
        );
    }
    // Sentences from real reports (FrostyGoop, Hive, ZeroBot write-ups).
    let text = "It uses JSON-formatted configuration files to specify target IP addresses and \
        Modbus commands. The ransom note lists two email addresses to contact. The botnet \
        is advertised on social media and Telegram channels.";
    let mapping = map(&mapper, text, &MapOptions::default());
    let found = ids(&mapping);
    for id in ["T1590.005", "T1589.002", "T1593.001"] {
        assert!(!found.contains(&id), "{id} in {found:?}");
    }
    // A name that is specific keeps its weight: a web shell is T1505.003.
    let mapping = map(
        &mapper,
        "The actor installed a web shell on the Exchange server.",
        &MapOptions::default(),
    );
    assert!(ids(&mapping).contains(&"T1505.003"), "{:?}", ids(&mapping));
}

/// The names of injection weaknesses in CISA's advisories (73 of the 478 gave Process Injection
/// from `inject*` inside `SQL Injection`, `Command Injection`): a phrase inside a longer one is
/// read as part of it. Injection into a process is still Process Injection.
#[test]
fn an_injection_weakness_is_not_process_injection() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    // The overview line and the weakness's title, as CISA's icsa-24-277-03 writes them (one
    // sentence alone stays under the threshold; two made Process Injection).
    for text in [
        "- Vulnerabilities: Improper Neutralization of Special Elements used in an SQL \
         Command ('SQL Injection')\n\n3.2.1 IMPROPER NEUTRALIZATION OF SPECIAL ELEMENTS USED \
         IN AN SQL COMMAND ('SQL INJECTION') CWE-89",
        "- Vulnerabilities: Improper Neutralization of Special Elements used in an OS Command \
         ('OS Command Injection')\n\n3.2.1 IMPROPER NEUTRALIZATION OF SPECIAL ELEMENTS USED \
         IN AN OS COMMAND ('OS COMMAND INJECTION') CWE-78",
    ] {
        let mapping = map(&mapper, text, &MapOptions::default());
        let found = ids(&mapping);
        assert!(
            !found.iter().any(|id| id.starts_with("T1055")),
            "{text}: {found:?}"
        );
    }
    let mapping = map(
        &mapper,
        "The web interface of the gateway is vulnerable to a command injection.",
        &MapOptions::default(),
    );
    assert_eq!(ids(&mapping), ["T1190"]);
    let mapping = map(
        &mapper,
        "The loader injects its payload into explorer.exe with WriteProcessMemory.",
        &MapOptions::default(),
    );
    assert!(ids(&mapping).contains(&"T1055"), "{:?}", ids(&mapping));
    // The same rule for technique names (lines of two TRAM reports): a name inside a longer
    // name is that technique's, not its own.
    for (text, not) in [
        ("Hide Artifacts: Hidden Files and Directories", "T1083"),
        ("Steal Web Session Cookie", "T1550.004"),
    ] {
        let mapping = map(&mapper, text, &MapOptions::default());
        assert!(!ids(&mapping).contains(&not), "{text}: {:?}", ids(&mapping));
    }
}

#[test]
fn plain_words_for_behaviour_as_real_reports_put_it() {
    // Sentences of real reports (FrostyGoop, the Royal advisory, two Android banking trojan
    // write-ups), of ATT&CK's definition of Activate Firmware Update Mode, and the rest in our
    // words for what real write-ups said and the mapper missed (notification access, a hidden
    // icon, GPS coordinates, ICS impact, ransomware encrypting machines, affiliates posing as
    // IT staff, vulnerable drivers and EDR killers, internet-connected PLCs, overlays, erased
    // files and destroyed sensors, deleted backups, Markdown images from an LLM).
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    for (text, id) in [
        (
            "The adversaries sent Modbus commands to ENCO controllers, causing inaccurate \
             measurements and system malfunctions.",
            "T0855",
        ),
        (
            "The module places the protection relay into firmware update mode.",
            "T0800",
        ),
        (
            "A member called the IT help desk, impersonated an employee and convinced the \
             agent to reset the employee's multi-factor authentication.",
            "T1656",
        ),
        (
            "Victims installed the loader after clicking malvertising on search results.",
            "T1583.008",
        ),
        (
            "With accessibility rights the malware can read screen content, simulate taps \
             and fill forms on the user's behalf.",
            "T1516",
        ),
        (
            "A new Android trojan has the ability to intercept text messages and bypass \
             SMS-based two-factor authentication.",
            "T1636.004",
        ),
        (
            "Once the victim grants notification access, the trojan reads one-time codes from \
             banking alerts and dismisses the notifications.",
            "T1517",
        ),
        (
            "Right after installation the Android app hides its icon from the launcher.",
            "T1628.001",
        ),
        (
            "Every ten minutes the spyware uploads the phone's GPS coordinates.",
            "T1430",
        ),
        // ICS impact as ATT&CK's definitions and FrostyGoop's write-ups word it.
        (
            "The hackers caused the PLCs to report inaccurate measurements to the operators.",
            "T0832",
        ),
        (
            "The ransomware reached the plant's HMIs and halted production for three days.",
            "T0828",
        ),
        // Ransomware and its affiliates as a 2024 healthcare advisory's summaries put them.
        (
            "The update enabled the ransomware to encrypt Windows and Linux devices.",
            "T1486",
        ),
        ("The affiliates encrypted the victims' ESXi hosts.", "T1486"),
        (
            "The affiliates called staff, posing as IT support to obtain network access.",
            "T1656",
        ),
        // Tools against controllers, as a 2022 joint advisory on ICS/SCADA tools lists them.
        (
            "One module identifies PLCs on the plant network by multicast.",
            "T0846",
        ),
        (
            "Another module can crash the PLC with a single malformed packet.",
            "T0814",
        ),
        // Drivers and EDR killers as ransomware write-ups name them.
        (
            "The operators loaded a vulnerable signed driver to gain kernel access (BYOVD).",
            "T1068",
        ),
        (
            "Before encryption an EDR killer terminated the endpoint agents.",
            "T1562.001",
        ),
        // Internet-reachable controllers and overlays, as write-ups of the 2023 Unitronics PLC
        // defacements and of Android banking trojans word them.
        (
            "The group logged in to the water plant's PLC, an internet-connected device that \
             still had its default password.",
            "T0883",
        ),
        (
            "On the phone the trojan harvests banking details through fake login forms drawn \
             over a number of apps.",
            "T1417.002",
        ),
        // Destruction on a utility's sensor network, as Fuxnet's write-ups word it.
        (
            "Once on the sensor gateways, the malware began erasing files and directories.",
            "T1485",
        ),
        (
            "The attack resulted in the physical destruction of about 1,700 sensor gateways \
             and routers.",
            "T0879",
        ),
        // Backups destroyed, as incident write-ups say it.
        (
            "Before leaving, the gang deleted the backups stored on the file server.",
            "T1490",
        ),
        // Data leaving an LLM assistant through what it renders (EchoLeak's write-ups).
        (
            "The injected email made the LLM assistant put internal data into a Markdown image \
             that the chat client fetched.",
            "AML.T0077",
        ),
        // Identity intrusions as write-ups of Change Healthcare, of CISA's Scattered Spider
        // advisory and of HC3's help-desk warning word them (read 2026-12-08).
        (
            "The gang used stolen credentials to reach the company's Citrix remote access \
             service.",
            "T1078",
        ),
        (
            "The attackers first accessed the Citrix portal on February 12.",
            "T1133",
        ),
        (
            "The caller asked the help desk to reset the password and enroll a new device for \
             MFA codes.",
            "T1098.005",
        ),
        (
            "With the mailbox they changed payment instructions, resulting in fraudulent \
             payments.",
            "T1657",
        ),
        (
            "They moved laterally with PsExec and PowerShell remoting.",
            "T1021.006",
        ),
        (
            "For persistence they created new local user accounts on the hosts.",
            "T1136.001",
        ),
        (
            "They overwhelmed users with push bombing until one accepted.",
            "T1621",
        ),
        (
            "SIM swapping gave them the executives' one-time codes.",
            "T1451",
        ),
    ] {
        let mapping = map(&mapper, text, &MapOptions::default());
        assert!(
            ids(&mapping).contains(&id),
            "{id} not in {:?}: {text}",
            ids(&mapping)
        );
    }
}

#[test]
fn sms_as_the_lure_s_channel_is_not_sms_collected_from_a_phone() {
    // CISA's Scattered Spider advisory (2025): the text messages are the social engineering.
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let lure = "Posing as company IT staff using phone calls or SMS messages to obtain \
                credentials from employees.";
    let mapping = map(&mapper, lure, &MapOptions::default());
    assert!(!ids(&mapping).contains(&"T1636.004"), "{:?}", ids(&mapping));
    let stolen = "Once installed on the Android phone, the trojan can collect SMS messages and \
                  upload them.";
    let mapping = map(&mapper, stolen, &MapOptions::default());
    assert!(ids(&mapping).contains(&"T1636.004"), "{:?}", ids(&mapping));
}

#[test]
fn wording_places_a_sentence_in_its_domain_without_cue_words() {
    // None of these names a platform or equipment (`Android`, `PLC`, `LLM`): the learned
    // placement has only the wording to go by.
    let model = Model::decode(EMBEDDED_MODEL, "embedded").expect("decodes");
    let mut scratch = PlacementScratch::default();
    let mut placed = |text: &str| model.placement.place(text, &mut scratch);
    for (text, domain) in [
        (
            "The app records the victim's location and uploads the contact list and call \
             logs to its server.",
            Domain::Mobile,
        ),
        (
            "The attacker crafted inputs that made the classifier label the malicious files \
             as benign.",
            Domain::Atlas,
        ),
    ] {
        let index = DOMAINS.iter().position(|d| *d == domain).expect("a domain");
        assert!(placed(text)[index], "{text}: not placed in {domain:?}");
    }
    for text in [
        "The actor used PowerShell to download a second stage and created a scheduled task.",
        "Credentials were dumped from LSASS memory and used to move to the domain controller.",
        "Organizations should apply the vendor's patches and enable multi-factor authentication.",
    ] {
        assert_eq!(placed(text), [false; 3], "{text}");
    }
    // A document in that wording reads as the domain's: the Mobile technique, not only the
    // Enterprise one.
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let mapping = map(
        &mapper,
        "The app records the victim's location and uploads the contact list and call logs to \
         its server.",
        &MapOptions::default(),
    );
    let mobile: Vec<&str> = mapping
        .techniques
        .iter()
        .filter(|t| t.domains.contains(&Domain::Mobile))
        .map(|t| t.id.as_str())
        .collect();
    assert!(!mobile.is_empty(), "{:?}", ids(&mapping));
}

#[test]
fn a_sub_technique_needs_evidence_of_its_own() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    // From the Seroxen write-up among TRAM's reports: a sentence about a C2 server's TLS
    // certificate says nothing of web protocols. The classifier scores Web Protocols (T1071.001)
    // from the family's vocabulary; without a word that marks it, the sentence supports the
    // parent, with the classifier's score.
    let text = "Since Seroxen is based on QuasarRAT, the C&C server utilizes the same Common Name \
        in their TLS certificate.";
    // The technique `id` of `text`, found by the classifier alone.
    let by_the_classifier_alone = |text: &str, id: &str| -> Mapping {
        let mapping = map(&mapper, text, &MapOptions::default());
        let found = mapping
            .techniques
            .iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("{text:?}: no {id} in {:?}", ids(&mapping)));
        assert!(
            found.evidence[0]
                .signals
                .iter()
                .all(|s| s.signal == Signal::Classifier),
            "{:?}",
            found.evidence
        );
        mapping
    };
    let mapping = by_the_classifier_alone(text, "T1071");
    assert!(!ids(&mapping).contains(&"T1071.001"), "{:?}", ids(&mapping));
    // A weaponized document marks Spearphishing Attachment: the classifier alone keeps it.
    by_the_classifier_alone(
        "The actor sent emails with a weaponized document to employees.",
        "T1566.001",
    );
    // The shipped model checks the sub-techniques of TRAM's families and has markers for them.
    let markers = |id: &str| {
        mapper
            .model()
            .sub_markers
            .iter()
            .find(|(t, _)| t == id)
            .map_or(0, |(_, m)| m.len())
    };
    for id in [
        "T1059.003",
        "T1071.001",
        "T1566.001",
        "T1036.005",
        "T1074.001",
    ] {
        assert!(markers(id) > 0, "{id} has no markers");
    }
}

#[test]
fn text_without_techniques_maps_to_nothing() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    for text in [
        "",
        "The weather in Lisbon was mild all week.",
        "We thank the response team for their help.",
        // Behaviour named only to be denied (an MGM write-up, the CISA red-team report):
        // each mapped to a technique before (Exploit Public-Facing Application, Data
        // Encrypted for Impact).
        "Scattered Spider is not exploiting software vulnerabilities.",
        "Note: This technique does NOT encrypt files on the target system.",
        // A technique named like a mitigation, named as the defence (the NotPetya analysis's
        // certificate issuer): Code Signing at 0.92 before.
        "Issuer: Microsoft Code Signing PCA",
    ] {
        let mapping = map(&mapper, text, &MapOptions::default());
        assert!(
            mapping.techniques.is_empty(),
            "{text:?}: {:?}",
            ids(&mapping)
        );
    }
}

#[test]
fn beyond_tram_ics_mobile_and_atlas_sentences() {
    // Our own labelled sentences for techniques outside TRAM's 50 (ICS, Mobile, ATLAS and
    // rarer Enterprise ones): the embedded model must find most of them.
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/beyond-tram.jsonl");
    let items: Vec<(String, String, Vec<String>)> = std::fs::read_to_string(path)
        .expect("labelled set")
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["text"].as_str().unwrap_or_default().to_owned(),
                v["labels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect();
    assert!(items.len() >= 30);
    let (counts, results) = score_labelled(&mapper, &kb, &items);
    let prf = counts.prf();
    eprintln!("beyond-TRAM set: {counts:?} {prf:?}");
    assert!(prf.recall >= 0.8, "recall {prf:?}: {results:#?}");
    assert!(prf.precision >= 0.6, "precision {prf:?}: {results:#?}");
}

#[test]
fn the_embedded_model_decodes_and_is_consistent_with_the_knowledge_base() {
    let kb = kb();
    let model = Model::decode(EMBEDDED_MODEL, "embedded").expect("decodes");
    assert!(model.classes.len() > 900, "{}", model.classes.len());
    for class in &model.classes {
        let technique = kb.technique(class).expect("class is a technique");
        assert!(technique.is_active(), "{class}");
    }
    let c = model.calibration;
    assert!(
        c != Calibration::default(),
        "thresholds were chosen by cross-validation"
    );
    assert!(!model.phrase_strengths.is_empty());
}

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CTIFORGE_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    if dir.join("tram/train.jsonl").is_file() {
        Some(dir)
    } else {
        skip!(
            "SKIPPED: no shared data at {} (set CTIFORGE_DATA); .ci/run fails in this case",
            dir.display()
        );
        None
    }
}

#[test]
fn the_embedded_model_is_what_training_on_shared_data_gives() {
    // Training is deterministic: the same data and settings give the same bytes. This also
    // runs the cross-validation that chose the thresholds.
    let Some(data) = data_dir() else { return };
    let kb = KnowledgeBase::from_dir(&data).expect("knowledge base from data");
    let corpus = Corpus::load(&data).expect("corpus");
    let settings = Settings::default();
    let (outcome, model) = eval::train_shipped(&corpus, &kb, &settings, 5, &|_| {});
    let outcome = outcome.expect("cross-validation ran");
    assert!(
        model.encode() == EMBEDDED_MODEL,
        "the embedded model is stale: run `cargo run --release -- attack train --from \
         ../shared/data --out crates/attack/model/ctiforge-attack.bin`"
    );
    // The figures the README and BENCHMARKS.md quote stay true (training texts that near-copy
    // a held-out sentence are left out of its fold).
    assert!(
        outcome.near_copies_left_out > 800,
        "{}",
        outcome.near_copies_left_out
    );
    assert!(
        outcome.document.micro.f1 > 0.76,
        "{:?}",
        outcome.document.micro
    );
    assert!(
        outcome.document.macro_avg.f1 > 0.71,
        "{:?}",
        outcome.document.macro_avg
    );
    assert!(
        outcome.sentence.micro.f1 > 0.545,
        "{:?}",
        outcome.sentence.micro
    );
}

#[test]
fn odd_text_never_panics_and_offsets_stay_valid() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let long = "schtasks /create ".repeat(50_000);
    let inputs = [
        "İSTANBUL ﬁle ran SCHTASKS.EXE /CREATE — ß\u{0301} T1059.001\u{0000}",
        "rundll32\u{00a0}comsvcs.dll MiniDump; 中文 T1003.001。下一句 mimikatz",
        "*side-load* side-loading-side-loading- -enc -enc",
        "AML.T0051 TA0001 T1 T12345 t1059 T1059.0011",
        long.as_str(),
    ];
    for text in inputs {
        let mapping = map(&mapper, text, &MapOptions::default());
        for technique in &mapping.techniques {
            for evidence in &technique.evidence {
                assert_eq!(
                    text.get(evidence.start..evidence.end),
                    Some(evidence.text.as_str())
                );
            }
        }
    }
    let mapping = map(&mapper, inputs[0], &MapOptions::default());
    assert!(ids(&mapping).contains(&"T1053.005"), "{:?}", ids(&mapping));
    assert!(ids(&mapping).contains(&"T1059.001"), "{:?}", ids(&mapping));
}

#[test]
fn an_ics_or_phone_report_gets_the_namesakes_of_its_enterprise_techniques() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    let ics = "The actor sent a spearphishing email with a malicious Word attachment to an \
        engineer at the plant. From the engineering workstation it used Remote Desktop Protocol \
        to reach the HMI, then scanned the network with Nmap to find the PLC.";
    let mapping = map(&mapper, ics, &MapOptions::default());
    let found = ids(&mapping);
    // Whatever Enterprise techniques the mapper finds, each one with an ICS namesake has it,
    // with the same evidence and a signal naming the Enterprise technique and the cues.
    let mut twins = 0;
    for technique in &mapping.techniques {
        for quote in &technique.evidence {
            for hit in &quote.signals {
                if let Signal::DomainTwin { of, domain, cues } = &hit.signal {
                    twins += 1;
                    assert_eq!(domain, "ics");
                    assert!(
                        found.contains(&of.as_str()),
                        "{of} not found itself: {found:?}"
                    );
                    assert!(cues.iter().any(|c| c == "PLC"), "{cues:?}");
                }
            }
        }
    }
    assert!(twins > 0, "no ICS twin in {found:?}");

    // The same sentences with no word placing them in ICS get no ICS technique.
    let plain = ics
        .replace("engineering workstation", "workstation")
        .replace("the HMI", "the file server")
        .replace("the PLC", "the database");
    let mapping = map(&mapper, &plain, &MapOptions::default());
    assert!(
        mapping.techniques.iter().all(|t| !t.id.starts_with("T08")),
        "{:?}",
        ids(&mapping)
    );
}

#[test]
fn an_atlas_twin_needs_a_sentence_about_the_ai_system() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    // Valid accounts used on the device network are not the AI system's valid accounts, even
    // in a report that is also about an LLM.
    let text = "The actor logged in to the device gateway with stolen valid accounts. \
        Separately, the radiology assistant built on a large language model leaked its system \
        prompt after an indirect prompt injection.";
    let found = ids(&map(&mapper, text, &MapOptions::default()))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(found.iter().any(|t| t == "AML.T0056"), "{found:?}");
    assert!(!found.iter().any(|t| t == "AML.T0012"), "{found:?}");
}

/// A TRAM report rebuilt from its annotated sentences, in order (as `bench/compare-outputs.sh`
/// does), found by a word of its title.
fn tram_report(data: &Path, title_word: &str) -> String {
    let file = std::fs::read_to_string(data.join("tram/train.jsonl")).expect("readable");
    let mut rows: Vec<(u64, String)> = Vec::new();
    for line in file.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let report = row["report"].as_str().unwrap_or_default();
        if row["source"] != "tram2_mjson" || !report.contains(title_word) {
            continue;
        }
        let index = row["id"]
            .as_str()
            .and_then(|id| id.rsplit(':').next()?.parse().ok())
            .unwrap_or(0);
        rows.push((index, row["text"].as_str().unwrap_or_default().to_owned()));
    }
    assert!(
        !rows.is_empty(),
        "no TRAM report titled with {title_word:?}"
    );
    rows.sort();
    rows.into_iter().map(|(_, text)| text + "\n").collect()
}

#[test]
fn a_technique_of_another_domain_needs_the_report_to_be_about_that_domain() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    if let Some(data) = data_dir() {
        // Enterprise reports of TRAM: the rows of their technique tables ("Encrypted Channel:
        // Symmetric Cryptography", "Input Capture: Keylogging") gave the Mobile namesakes, a
        // ransomware's "GPS-related services" Location Tracking, and a botnet's "mislabeled"
        // CVE Poison Training Data.
        for (title, foreign, kept) in [
            ("TrickBot", &["T1521", "T1406", "T1629"][..], "T1573.001"),
            ("Dolphin", &["T1417", "T1418", "T1422"][..], "T1056.001"),
            ("Xollam", &["T1430"][..], "T1486"),
            ("Zerobot", &["AML.T0020"][..], "T1110"),
        ] {
            let report = tram_report(&data, title);
            let mapping = map(&mapper, &report, &MapOptions::default());
            let found = ids(&mapping);
            for id in foreign {
                assert!(!found.contains(id), "{title}: {id} in {found:?}");
            }
            assert!(found.contains(&kept), "{title}: no {kept} in {found:?}");
        }
    }
    // The same kind of evidence in a report about phones stands.
    let mobile = "The Android app hides in the Google Play store. Once installed on the \
        smartphone, it records the GPS location of the device every minute and sends it over \
        an encrypted channel. The malicious APK also captures keystrokes.";
    let mapping = map(&mapper, mobile, &MapOptions::default());
    let found = ids(&mapping);
    assert!(found.contains(&"T1430"), "{found:?}");
}

#[test]
fn every_domain_is_evaluated_on_sources_it_never_trained_on() {
    use ctiforge_attack::domains;
    let Some(data) = data_dir() else { return };
    let kb = KnowledgeBase::from_dir(&data).expect("knowledge base from data");
    let corpus = Corpus::load(&data).expect("corpus");
    let split = domains::split(&corpus, &kb, 5);
    // Held-out texts never carry their technique's id or name, nor their actor's name.
    for item in &split.held_out {
        let lower = item.text.to_lowercase();
        assert!(
            !lower.contains(&item.gold.to_lowercase()),
            "{}: {}",
            item.gold,
            item.text
        );
        let name = &kb.technique(&item.gold).expect("gold exists").name;
        let whole_name = regex::RegexBuilder::new(&format!(r"\b{}\b", regex::escape(name)))
            .case_insensitive(true)
            .build()
            .expect("name pattern");
        if name.len() >= 3 {
            assert!(!whole_name.is_match(&item.text), "{name}: {}", item.text);
        }
        // And their fold's training leaves them out.
        assert!(split.left_out[item.example] & (1 << item.fold) != 0);
    }
    let count = |d: &str| split.held_out.iter().filter(|h| h.domain == d).count();
    assert!(count("enterprise") > 15_000 && count("mobile") > 1_300);
    assert!(count("ics") > 200 && count("atlas") > 400);

    let calibration = Mapper::embedded(&kb).expect("model").model().calibration;
    let outcome = domains::evaluate(
        &corpus,
        &kb,
        &split,
        &Settings::default(),
        calibration,
        &|_| {},
    );
    assert!(
        outcome.near_copies_left_out > 5_000,
        "{}",
        outcome.near_copies_left_out
    );
    // The figures BENCHMARKS.md and the README quote stay true.
    let floors = [
        ("enterprise", 0.56, 0.65),
        ("mobile", 0.48, 0.60),
        ("ics", 0.23, 0.39),
        ("atlas", 0.25, 0.35),
    ];
    for (domain, text_f1, document_f1) in floors {
        let scores = outcome
            .domains
            .iter()
            .find(|d| d.domain == domain)
            .expect("domain scored");
        assert!(scores.text_level.f1 > text_f1, "{domain}: {scores:?}");
        assert!(
            scores.document_level.f1 > document_f1,
            "{domain}: {scores:?}"
        );
    }
    // Mobile techniques read into other domains' held-out documents: 165 before a Mobile
    // technique needed a document about phones.
    let mobile = outcome.domains.iter().find(|d| d.domain == "mobile");
    assert!(
        mobile.is_some_and(|m| m.foreign_document_fp < 130),
        "{mobile:?}"
    );
}

#[test]
fn a_plant_report_gets_techniques_from_the_prototypes_of_its_domain() {
    let kb = kb();
    let mapper = Mapper::embedded(&kb).expect("embedded model");
    // Behaviour in plain words, no technique names; "PLC" and "Modbus" place it in ICS.
    let plant = "The attackers uploaded modified logic to the PLC that ignored commands from \
        the operators. The malware enumerated the devices on the Modbus network and read their \
        configuration.";
    let mapping = map(&mapper, plant, &MapOptions::default());
    let mut prototypes = 0;
    for technique in &mapping.techniques {
        for quote in &technique.evidence {
            for hit in &quote.signals {
                if let Signal::Prototype {
                    domain,
                    similarity,
                    cues,
                } = &hit.signal
                {
                    prototypes += 1;
                    assert_eq!(domain, "ics");
                    assert_eq!(cues, &["PLC", "Modbus"]);
                    assert!(*similarity > 0.0 && *similarity <= 1.0);
                    assert!(technique.domains.contains(&ctiforge_model::Domain::Ics));
                    assert!(plant.contains(&quote.text));
                }
            }
        }
    }
    assert!(prototypes > 0, "no ICS prototype in {:?}", ids(&mapping));

    // The same sentences with no equipment or protocol word get no ICS technique.
    let plain = plant
        .replace("the PLC", "the server")
        .replace("the Modbus network", "the network");
    let mapping = map(&mapper, &plain, &MapOptions::default());
    assert!(
        mapping.techniques.iter().all(|t| !t.id.starts_with("T08")),
        "{:?}",
        ids(&mapping)
    );
}
