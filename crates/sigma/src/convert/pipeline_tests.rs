//! The built-in pipelines give the queries pySigma's do (bench/sigma_parity.py checks that on
//! all of SigmaHQ; these are the cases where a wrong pipeline would silently match nothing or
//! the wrong events), and the mendings of rsigma's pipeline engine hold.

use super::*;

/// Converts a one-selection rule of `logsource` with `pipelines`.
fn convert_with(
    logsource: &str,
    selection: &str,
    target: Target,
    pipelines: &[&str],
) -> Result<String, String> {
    let yaml = format!(
        "title: t\nid: 5b1d8f4e-0000-4000-8000-0000000000a1\nlogsource: {{{logsource}}}\n\
         detection:\n  sel: {{{selection}}}\n  condition: sel\n"
    );
    let collection = rsigma_parser::parse_sigma_yaml(&yaml).expect("parses");
    let pipelines: Vec<_> = pipelines
        .iter()
        .map(|name| load_pipeline(name).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect();
    let result = convert_collection(&collection, target, &pipelines).remove(0);
    match (result.query, result.error) {
        (Some(q), _) => Ok(q),
        (None, Some(e)) => Err(e),
        (None, None) => Err("neither query nor error".into()),
    }
}

#[test]
fn splunk_windows_gives_each_service_its_source_and_leaves_categories_to_sysmon() {
    let q = convert_with(
        "product: windows, service: security",
        "EventID: 4624",
        Target::Splunk,
        &["splunk_windows"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("EventCode=4624 source=\"WinEventLog:Security\"")
    );
    // A list of channels is one of them, never "no source at all".
    let q = convert_with(
        "product: windows, service: applocker",
        "EventID: 8004",
        Target::Splunk,
        &["splunk_windows"],
    )
    .expect("converts");
    assert!(
        q.contains("source IN (\"WinEventLog:Microsoft-Windows-AppLocker/MSI and Script\", ")
            && q.contains("\"WinEventLog:Microsoft-Windows-AppLocker/Packaged app-Execution\")")
            && !q.contains("NOT source"),
        "{q}"
    );
    let q = convert_with(
        "product: windows, category: process_creation",
        "Image|endswith: '\\cmd.exe'",
        Target::Splunk,
        &["splunk_windows"],
    );
    assert_eq!(q.as_deref(), Ok("Image=\"*\\\\cmd.exe\""));
    let q = convert_with(
        "product: windows, category: registry_event",
        "TargetObject|endswith: '\\Run'",
        Target::Splunk,
        &["splunk_windows", "sysmon"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("TargetObject=\"*\\\\Run\" EventCode IN (12, 13, 14) \
            source=\"WinEventLog:Microsoft-Windows-Sysmon/Operational\"")
    );
}

#[test]
fn ecs_windows_maps_to_ecs_and_reads_other_fields_under_event_data() {
    let q = convert_with(
        "product: windows, category: process_creation",
        "Image|endswith: '\\cmd.exe', CommandLine|contains: ' /c ', OriginalFileName: Cmd.Exe, \
         TerminalSessionId: 1",
        Target::Lucene,
        &["ecs_windows"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "process.executable.caseless:*\\\\cmd.exe AND process.command_line:*\\ \\/c\\ * AND \
            process.pe.original_file_name:Cmd.Exe AND winlog.event_data.TerminalSessionId:1"
        )
    );
    // Sysmon's Initiated as the direction Winlogbeat writes.
    let q = convert_with(
        "product: windows, category: network_connection",
        "Initiated: 'true', DestinationPort: 4444",
        Target::Lucene,
        &["ecs_windows"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("network.direction:egress AND destination.port:4444")
    );
    let q = convert_with(
        "product: windows, service: system",
        "EventID: 7045, ServiceName: x",
        Target::Lucene,
        &["ecs_windows"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("event.code:7045 AND winlog.event_data.ServiceName:x AND winlog.channel:System")
    );
    // Not Windows: untouched.
    let q = convert_with(
        "product: linux, category: process_creation",
        "Image: /bin/sh",
        Target::Lucene,
        &["ecs_windows"],
    );
    assert_eq!(q.as_deref(), Ok("Image:\\/bin\\/sh"));
}

#[test]
fn microsoft_xdr_picks_the_table_splits_hashes_into_one_of_and_refuses_what_has_no_table() {
    // Hashes: a list is one of them, per algorithm column; unknown algorithms dropped.
    let q = convert_with(
        "product: windows, category: process_creation",
        "Hashes|contains: ['MD5=AB12', 'IMPHASH=FF00', 'SHA256=CD34', 'SHA256=EF56']",
        Target::Kusto,
        &["microsoft_xdr"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("DeviceProcessEvents\n| where MD5 startswith \"AB12\" or \
            SHA256 startswith \"CD34\" or SHA256 startswith \"EF56\"")
    );
    // Any product, registry hives as the table writes them, event types as ActionType.
    let q = convert_with(
        "product: linux, category: process_creation",
        "Image|endswith: '/curl'",
        Target::Kusto,
        &["microsoft_xdr"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("DeviceProcessEvents\n| where FolderPath endswith \"/curl\"")
    );
    let q = convert_with(
        "product: windows, category: registry_event",
        "EventType: DeleteKey, TargetObject|startswith: 'HKLM\\Software\\x'",
        Target::Kusto,
        &["microsoft_xdr"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "DeviceRegistryEvents\n| where ActionType in~ (\"RegistryKeyDeleted\", \
            \"RegistryValueDeleted\") and RegistryKey startswith \
            \"HKEY_LOCAL_MACHINE\\\\Software\\\\x\""
        )
    );
    let err = convert_with(
        "product: windows, category: ps_script",
        "ScriptBlockText|contains: 'IEX'",
        Target::Kusto,
        &["microsoft_xdr"],
    )
    .expect_err("no table for PowerShell script blocks");
    assert!(
        err.contains("no Defender XDR table") && err.contains("process_creation"),
        "{err}"
    );
    assert!(!err.contains("modifier"), "rsigma's wording leaks: {err}");
}

#[test]
fn windows_audit_maps_to_security_events_and_refuses_fields_they_do_not_have() {
    let q = convert_with(
        "product: windows, category: process_creation",
        "Image|endswith: '\\whoami.exe', IntegrityLevel: System",
        Target::Splunk,
        &["windows-audit", "splunk_windows"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "NewProcessName=\"*\\\\whoami.exe\" MandatoryLabel=\"S-1-16-16384\" EventCode=4688 \
            source=\"WinEventLog:Security\""
        )
    );
    // Several added fields in one condition come in a stable order.
    let q = convert_with(
        "product: windows, category: registry_set",
        "TargetObject|endswith: '\\Run\\x'",
        Target::Splunk,
        &["windows_audit"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("ObjectName=\"*\\\\Run\\\\x\" EventID=4657 \
            OperationType=\"Existing registry value modified\"")
    );
    let err = convert_with(
        "product: windows, category: network_connection",
        "DestinationPort: 443, DestinationHostname|endswith: '.example'",
        Target::Splunk,
        &["windows_audit"],
    )
    .expect_err("5156 has no host name");
    assert!(
        err.contains("field DestinationHostname") && err.contains("5156"),
        "{err}"
    );
    let q = convert_with(
        "product: windows, category: network_connection",
        "DestinationPort: 443, Initiated: 'true'",
        Target::Splunk,
        &["windows_audit"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("DestPort=443 Direction=\"%%14593\" EventID=5156")
    );
}

#[test]
fn windows_logsources_names_the_channels() {
    let q = convert_with(
        "product: windows, category: ps_script",
        "ScriptBlockText|contains: 'IEX'",
        Target::Splunk,
        &["windows-logsources"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "ScriptBlockText=\"*IEX*\" Channel IN (\"Microsoft-Windows-PowerShell/Operational\", \
            \"PowerShellCore/Operational\") EventID=4104"
        )
    );
}

#[test]
fn pipeline_files_get_the_same_mendings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.yml");
    std::fs::write(
        &path,
        "name: mine\npriority: 10\ntransformations:\n  - id: a\n    type: add_condition\n    \
         conditions:\n      index: [main, edr]\n",
    )
    .expect("writes");
    let pipeline = load_pipeline(path.to_str().expect("utf-8")).expect("loads");
    let collection = rsigma_parser::parse_sigma_yaml(
        "title: t\nlogsource: {product: windows}\ndetection:\n  sel: {A: b}\n  condition: sel\n",
    )
    .expect("parses");
    let result = convert_collection(&collection, Target::Splunk, &[pipeline]).remove(0);
    assert_eq!(
        result.query.as_deref(),
        Some("A=\"b\" index IN (\"main\", \"edr\")")
    );
    std::fs::write(&path, "name: bad\ntransformations:\n  - type: add_condition\n    conditions:\n      index: [[1]]\n").expect("writes");
    let err = load_pipeline(path.to_str().expect("utf-8")).expect_err("nested list");
    assert!(
        err.contains("list values must be strings or integers"),
        "{err}"
    );
}

#[test]
fn sentinel_asim_reads_a_field_mapped_to_two_columns_as_one_of_them() {
    // pySigma's form: the one test OR-ed over both columns, not the selection copied.
    let q = convert_with(
        "product: windows, category: process_creation",
        "ParentImage|endswith: '\\winword.exe', Image|endswith: '\\cmd.exe'",
        Target::Kusto,
        &["sentinel_asim"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "imProcessCreate\n| where TargetProcessName endswith \"\\\\cmd.exe\" and \
            (ParentProcessName endswith \"\\\\winword.exe\" or \
            ActingProcessName endswith \"\\\\winword.exe\")"
        )
    );
    let err = convert_with(
        "product: windows, category: process_creation",
        "OriginalFileName: 'cmd.exe'",
        Target::Kusto,
        &["sentinel_asim"],
    )
    .expect_err("imProcessCreate has no original file name");
    assert!(
        err.contains("field OriginalFileName") && err.contains("imProcessCreate"),
        "{err}"
    );
}

#[test]
fn splunk_cim_names_data_model_fields_and_refuses_what_the_models_lack() {
    let q = convert_with(
        "product: windows, category: process_creation",
        "Image|endswith: '\\rundll32.exe', ParentImage|endswith: '\\winword.exe'",
        Target::Splunk,
        &["splunk_cim"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("Processes.process_path=\"*\\\\rundll32.exe\" \
            Processes.parent_process_path=\"*\\\\winword.exe\"")
    );
    let err = convert_with(
        "product: windows, category: process_creation",
        "Hashes|contains: 'MD5=AB'",
        Target::Splunk,
        &["splunk_cim"],
    )
    .expect_err("Processes has no hashes field");
    assert!(
        err.contains("field Hashes") && err.contains("Processes"),
        "{err}"
    );
    let err = convert_with(
        "product: windows, service: security",
        "EventID: 4624",
        Target::Splunk,
        &["splunk_cim"],
    )
    .expect_err("no data model for Security events");
    assert!(err.contains("splunk_cim maps only"), "{err}");
}

#[test]
fn qradar_fields_names_properties_and_log_source_types() {
    let q = convert_with(
        "product: windows, category: process_creation",
        "Image|endswith: '\\certutil.exe', CommandLine|contains: 'urlcache'",
        Target::Aql,
        &["qradar-aql-fields"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("SELECT * FROM events WHERE Command ILIKE '%urlcache%' AND \
            (\"Process Path\" ILIKE '%\\certutil.exe' OR \"Process Name\" ILIKE '%\\certutil.exe') \
            AND devicetype=12")
    );
    // A service with log source types of its own, and the raw payload decoded.
    let q = convert_with(
        "product: windows, service: windefend",
        "EventID: 1116",
        Target::Aql,
        &["qradar_fields"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("SELECT * FROM events WHERE \"Event ID\"=1116 AND devicetype IN (433, 12)")
    );
    let err = convert_with(
        "product: windows, category: process_creation",
        "CurrentDirectory|contains: 'Temp'",
        Target::Aql,
        &["qradar_fields"],
    )
    .expect_err("no QRadar property");
    assert!(err.contains("field CurrentDirectory"), "{err}");
    // Sysmon's `Hashes` (ALGO=value) as the hash's own property, the value without its
    // algorithm: a test of "MD5 Hash" for `MD5=...`, never the literal `MD5=` prefix.
    let q = convert_with(
        "product: windows, category: driver_load",
        "Hashes|contains: ['MD5=5be61a24f50eb4c94d98b8a82ef58dcf', 'IMPHASH=0a1b2c']",
        Target::Aql,
        &["qradar_fields"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "SELECT * FROM events WHERE (\"MD5 Hash\" ILIKE '5be61a24f50eb4c94d98b8a82ef58dcf%' \
             OR \"IMP Hash\" ILIKE '0a1b2c%') AND devicetype=12"
        )
    );
    let q = convert_with(
        "product: windows, category: driver_load",
        "sha256: abc",
        Target::Aql,
        &["qradar_fields"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("SELECT * FROM events WHERE \"SHA256 Hash\" ILIKE 'abc' AND devicetype=12")
    );
}

#[test]
fn ecs_zeek_reads_network_categories_as_zeek_logs_in_filebeat_fields() {
    let convert = |logsource: &str, selection: &str| {
        convert_with(logsource, selection, Target::Lucene, &["ecs_zeek_beats"])
    };
    // A proxy rule becomes a rule over Zeek's http log, its web-log names ECS's.
    assert_eq!(
        convert(
            "category: proxy",
            "c-uri|contains: /gate.php, cs-host: evil.com"
        )
        .as_deref(),
        Ok(
            "url.original:*\\/gate.php* AND (url.domain:evil.com OR destination.domain:evil.com) \
             AND event.dataset:zeek.http"
        )
    );
    // The connection's ends are source.* and destination.* in every log; the conn log is
    // the module's `zeek.connection` dataset.
    assert_eq!(
        convert(
            "product: zeek, service: conn",
            "id.resp_p: 4444, id.orig_h: 10.1.2.3"
        )
        .as_deref(),
        Ok("destination.port:4444 AND source.ip:10.1.2.3 AND event.dataset:zeek.connection")
    );
    assert_eq!(
        convert("category: firewall", "dst_port: 3389").as_deref(),
        Ok("destination.port:3389 AND event.dataset:zeek.connection")
    );
    // A name that means different things in two logs gets each log's field.
    assert_eq!(
        convert(
            "product: zeek, service: kerberos",
            "service|startswith: krbtgt"
        )
        .as_deref(),
        Ok("zeek.kerberos.service:krbtgt* AND event.dataset:zeek.kerberos")
    );
    assert_eq!(
        convert("product: zeek, service: conn", "service: ssh").as_deref(),
        Ok("network.protocol:ssh AND event.dataset:zeek.connection")
    );
    assert_eq!(
        convert("product: zeek, service: dns", "query|endswith: .onion").as_deref(),
        Ok("dns.question.name:*.onion AND event.dataset:zeek.dns")
    );
    // Other products are left alone.
    assert_eq!(
        convert("product: linux, service: auditd", "name: x").as_deref(),
        Ok("name:x")
    );
    // Both of pySigma's names are the same pipeline.
    assert_eq!(
        convert_with(
            "category: dns",
            "query: a.b",
            Target::Lucene,
            &["ecs_zeek_corelight"]
        ),
        convert("category: dns", "query: a.b")
    );
}

#[test]
fn ecs_kubernetes_places_audit_fields_and_drops_empty_api_groups() {
    let q = convert_with(
        "product: kubernetes, service: audit",
        "verb: create, objectRef.resource: pods, objectRef.subresource: '', apiGroup: ''",
        Target::Lucene,
        &["ecs_kubernetes"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "kubernetes.audit.verb:create AND kubernetes.audit.objectRef.resource:pods AND \
             kubernetes.audit.kind:Event"
        )
    );
    // A non-empty API group stays; other products' `verb` is not touched.
    let q = convert_with(
        "product: kubernetes, service: audit",
        "apiGroup: rbac.authorization.k8s.io",
        Target::Lucene,
        &["ecs_kubernetes"],
    );
    assert_eq!(
        q.as_deref(),
        Ok(
            "kubernetes.audit.objectRef.apiGroup:rbac.authorization.k8s.io AND kubernetes.audit.kind:Event"
        )
    );
    let q = convert_with(
        "category: webserver",
        "verb: GET",
        Target::Lucene,
        &["ecs_kubernetes"],
    );
    assert_eq!(q.as_deref(), Ok("verb:GET"));
}

#[test]
fn ecs_macos_esf_names_endpoint_security_events() {
    let q = convert_with(
        "product: macos, service: endpointsecurity, category: process_creation",
        "Image|endswith: /osascript, ParentImage|endswith: /Terminal",
        Target::Lucene,
        &["ecs_macos_esf"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("process.executable.caseless:*\\/osascript AND \
             process.parent.executable.caseless:*\\/Terminal AND esf.event_type:9 AND \
             event.action:exec")
    );
    // SigmaHQ's macOS rules name no service: left as they are, as pySigma does.
    let q = convert_with(
        "product: macos, category: process_creation",
        "Image|endswith: /osascript",
        Target::Lucene,
        &["ecs_macos_esf"],
    );
    assert_eq!(q.as_deref(), Ok("Image:*\\/osascript"));
}

#[test]
fn ecs_windows_old_reads_fields_under_event_data() {
    let q = convert_with(
        "product: windows, service: security",
        "EventID: 4688, NewProcessName|endswith: '\\cmd.exe'",
        Target::Lucene,
        &["ecs_windows_old"],
    );
    assert_eq!(
        q.as_deref(),
        Ok("event_id:4688 AND event_data.NewProcessName:*\\\\cmd.exe AND winlog.channel:Security")
    );
    let q = convert_with(
        "product: windows, category: process_creation",
        "Image|endswith: '\\cmd.exe'",
        Target::Lucene,
        &["ecs_windows_old"],
    );
    assert_eq!(q.as_deref(), Ok("event_data.Image:*\\\\cmd.exe"));
}
