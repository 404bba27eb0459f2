//! Indicators that are ordinary on any network: a rule on them fires on normal activity.
//!
//! Reports name Windows' own programs as the thing malware injects into, masquerades as or
//! launches (`notepad.exe`, `WmiPrvSE.exe`), registry keys every machine writes (`…\Run`), and
//! well-known sites used for staging (`raw.githubusercontent.com`). As indicators they are
//! facts of the report; as `Image|endswith` or DNS rules they match everywhere. Tried on the
//! shared logs (`bench/rule_trial.py`), such values were nearly all of what generated rules
//! matched outside the attack they were written for.

use ctiforge_model::IocType;
use ctiforge_model::analysis::Ioc;

/// Programs Windows ships (System32, SysWOW64, the Windows folder) and the common programs
/// reports name as hosts for injection or masquerading: browsers, Office, Java. Lower case.
const PROGRAMS: &[&str] = &[
    // Windows: session, services and shell.
    "smss.exe",
    "csrss.exe",
    "wininit.exe",
    "winlogon.exe",
    "services.exe",
    "lsass.exe",
    "lsaiso.exe",
    "svchost.exe",
    "explorer.exe",
    "dwm.exe",
    "sihost.exe",
    "taskhost.exe",
    "taskhostw.exe",
    "taskeng.exe",
    "userinit.exe",
    "logonui.exe",
    "fontdrvhost.exe",
    "ctfmon.exe",
    "conhost.exe",
    "dllhost.exe",
    "runtimebroker.exe",
    "searchindexer.exe",
    "searchprotocolhost.exe",
    "searchfilterhost.exe",
    "searchui.exe",
    "searchapp.exe",
    "startmenuexperiencehost.exe",
    "shellexperiencehost.exe",
    "textinputhost.exe",
    "applicationframehost.exe",
    "systemsettings.exe",
    "backgroundtaskhost.exe",
    "wmiprvse.exe",
    "wmiadap.exe",
    "wmiapsrv.exe",
    "spoolsv.exe",
    "printisolationhost.exe",
    "audiodg.exe",
    "wudfhost.exe",
    "msdtc.exe",
    "sppsvc.exe",
    "trustedinstaller.exe",
    "tiworker.exe",
    "wuauclt.exe",
    "usoclient.exe",
    "musnotification.exe",
    "compattelrunner.exe",
    "wermgr.exe",
    "werfault.exe",
    "werfaultsecure.exe",
    "wsqmcons.exe",
    "lsm.exe",
    "securityhealthservice.exe",
    "securityhealthsystray.exe",
    "smartscreen.exe",
    "msmpeng.exe",
    "mpcmdrun.exe",
    "nissrv.exe",
    "sgrmbroker.exe",
    "mousocoreworker.exe",
    "rdpclip.exe",
    "tstheme.exe",
    "mstsc.exe",
    "consent.exe",
    "ngentask.exe",
    "ngen.exe",
    // Windows: command line and administration.
    "cmd.exe",
    "powershell.exe",
    "powershell_ise.exe",
    "pwsh.exe",
    "wscript.exe",
    "cscript.exe",
    "mshta.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "regedit.exe",
    "reg.exe",
    "regini.exe",
    "sc.exe",
    "net.exe",
    "net1.exe",
    "netsh.exe",
    "netstat.exe",
    "ipconfig.exe",
    "ping.exe",
    "tracert.exe",
    "pathping.exe",
    "nslookup.exe",
    "arp.exe",
    "route.exe",
    "nbtstat.exe",
    "hostname.exe",
    "whoami.exe",
    "systeminfo.exe",
    "tasklist.exe",
    "taskkill.exe",
    "taskmgr.exe",
    "schtasks.exe",
    "at.exe",
    "wmic.exe",
    "find.exe",
    "findstr.exe",
    "sort.exe",
    "more.com",
    "xcopy.exe",
    "robocopy.exe",
    "attrib.exe",
    "icacls.exe",
    "cacls.exe",
    "takeown.exe",
    "cipher.exe",
    "certutil.exe",
    "certreq.exe",
    "bitsadmin.exe",
    "msiexec.exe",
    "msbuild.exe",
    "installutil.exe",
    "regasm.exe",
    "regsvcs.exe",
    "cmstp.exe",
    "odbcconf.exe",
    "forfiles.exe",
    "pcalua.exe",
    "bash.exe",
    "wsl.exe",
    "curl.exe",
    "tar.exe",
    "expand.exe",
    "extrac32.exe",
    "makecab.exe",
    "esentutl.exe",
    "ntdsutil.exe",
    "vssadmin.exe",
    "wbadmin.exe",
    "bcdedit.exe",
    "fsutil.exe",
    "diskpart.exe",
    "diskshadow.exe",
    "wevtutil.exe",
    "auditpol.exe",
    "gpupdate.exe",
    "gpresult.exe",
    "klist.exe",
    "nltest.exe",
    "dsquery.exe",
    "setspn.exe",
    "qwinsta.exe",
    "quser.exe",
    "query.exe",
    "logoff.exe",
    "shutdown.exe",
    "runas.exe",
    "mmc.exe",
    "eventvwr.exe",
    "compmgmt.exe",
    "perfmon.exe",
    "resmon.exe",
    "msconfig.exe",
    "msinfo32.exe",
    "control.exe",
    "fodhelper.exe",
    "computerdefaults.exe",
    "sdclt.exe",
    "slui.exe",
    "wsreset.exe",
    "eudcedit.exe",
    "printui.exe",
    "dism.exe",
    "sfc.exe",
    "chkdsk.exe",
    "defrag.exe",
    "cleanmgr.exe",
    "winrm.cmd",
    "winrs.exe",
    "wsmprovhost.exe",
    "mofcomp.exe",
    "cmdkey.exe",
    "vaultcmd.exe",
    "dnscmd.exe",
    "dcdiag.exe",
    "repadmin.exe",
    "csvde.exe",
    "ldifde.exe",
    // Windows: accessories.
    "notepad.exe",
    "calc.exe",
    "mspaint.exe",
    "wordpad.exe",
    "write.exe",
    "snippingtool.exe",
    "charmap.exe",
    "magnify.exe",
    "narrator.exe",
    "osk.exe",
    "sethc.exe",
    "utilman.exe",
    "displayswitch.exe",
    "atbroker.exe",
    "hh.exe",
    "winver.exe",
    "dxdiag.exe",
    "iexpress.exe",
    "wmplayer.exe",
    "onedrive.exe",
    "teams.exe",
    "msedge.exe",
    "iexplore.exe",
    "microsoftedge.exe",
    "microsoftedgecp.exe",
    // Common programs.
    "chrome.exe",
    "firefox.exe",
    "opera.exe",
    "brave.exe",
    "winword.exe",
    "excel.exe",
    "powerpnt.exe",
    "outlook.exe",
    "onenote.exe",
    "msaccess.exe",
    "mspub.exe",
    "visio.exe",
    "acrord32.exe",
    "acrobat.exe",
    "java.exe",
    "javaw.exe",
    "javaws.exe",
];

/// Registry keys every Windows machine writes values under; a rule needs the value name below
/// them to mean anything. Compared on the key's end, case-insensitively.
const BUSY_KEYS: &[&str] = &[
    "\\software\\microsoft\\windows\\currentversion\\run",
    "\\software\\microsoft\\windows\\currentversion\\runonce",
    "\\software\\microsoft\\windows\\currentversion\\runonceex",
    "\\software\\microsoft\\windows\\currentversion\\runservices",
    "\\software\\microsoft\\windows\\currentversion\\runservicesonce",
    "\\software\\wow6432node\\microsoft\\windows\\currentversion\\run",
    "\\software\\wow6432node\\microsoft\\windows\\currentversion\\runonce",
    "\\software\\microsoft\\windows\\currentversion\\policies\\explorer\\run",
    "\\software\\microsoft\\windows nt\\currentversion\\winlogon",
    "\\software\\microsoft\\windows\\currentversion\\explorer\\shell folders",
    "\\software\\microsoft\\windows\\currentversion\\explorer\\user shell folders",
    "\\software\\microsoft\\windows\\currentversion\\explorer\\advanced",
    "\\software\\microsoft\\windows nt\\currentversion\\windows",
    "\\system\\currentcontrolset\\services",
    "\\system\\currentcontrolset\\control\\terminal server",
    "\\system\\currentcontrolset\\control\\terminal server\\winstations\\rdp-tcp",
    "\\system\\currentcontrolset\\control\\lsa",
    "\\system\\currentcontrolset\\control\\session manager",
    "\\software\\classes\\clsid",
];

/// Why an indicator is ordinary, or `None` when a rule on it is worth having.
pub(crate) fn why(ioc: &Ioc) -> Option<&'static str> {
    match ioc.kind {
        IocType::Filename if is_program(&ioc.value) => {
            Some("programs Windows or common software ship")
        }
        IocType::Domain | IocType::Url if is_well_known_site(ioc) => {
            Some("well-known sites (MISP warninglists)")
        }
        IocType::Registry if is_busy_key(&ioc.value) => {
            Some("registry keys every machine writes under (a rule needs the value name)")
        }
        _ => None,
    }
}

/// A file name Windows or common software ships.
pub(crate) fn is_program(name: &str) -> bool {
    let name = name
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    PROGRAMS.contains(&name.as_str())
}

fn is_well_known_site(ioc: &Ioc) -> bool {
    ioc.context
        .iter()
        .any(|c| c.starts_with("listed in MISP warninglist"))
}

fn is_busy_key(key: &str) -> bool {
    let key = key.trim_end_matches('\\').to_ascii_lowercase();
    BUSY_KEYS.iter().any(|busy| key.ends_with(busy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_programs_and_busy_keys_are_ordinary_others_are_not() {
        assert!(is_program("notepad.exe") && is_program("WmiPrvSE.exe"));
        assert!(is_program("C:\\Windows\\System32\\RuntimeBroker.exe"));
        assert!(!is_program("3CXDesktopApp.exe") && !is_program("notepad.exe.bak"));
        assert!(is_busy_key(
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
        ));
        assert!(is_busy_key("HKLM\\SYSTEM\\CurrentControlSet\\Services\\"));
        assert!(!is_busy_key(
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\UpdaterSvc"
        ));
        assert!(!is_busy_key(
            "HKLM\\SYSTEM\\CurrentControlSet\\Services\\evilsvc"
        ));
    }
}
