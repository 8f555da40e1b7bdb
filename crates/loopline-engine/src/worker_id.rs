//! The id an engine's outbox worker signs its leases with: `<pid>-<random>`. The pid lets
//! another process on the same machine tell that a lease's owner is gone (killed, crashed),
//! so the work is taken over at once; the random part keeps two engines in one process (and
//! a reused pid) apart.

use loopline_core::Entropy;

pub fn new_worker_id(entropy: &dyn Entropy) -> String {
    let mut id = [0u8; 6];
    entropy.fill(&mut id);
    let tag: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{tag}", std::process::id())
}

/// True only when the owner names a process of this machine that no longer runs. Unknown
/// shapes, and other platforms, count as alive: their lease simply runs out.
pub fn owner_is_gone(owner: &str) -> bool {
    let Some(pid) = owner.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    process_is_gone(pid)
}

#[cfg(unix)]
fn process_is_gone(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence only. EPERM means it exists under another user.
    let rc = unsafe { libc::kill(pid, 0) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_is_gone(_pid: u32) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::owner_is_gone;

    #[test]
    fn a_lease_of_a_gone_process_is_recognised() {
        assert!(
            !owner_is_gone(&format!("{}-abc", std::process::id())),
            "this process"
        );
        assert!(
            !owner_is_gone("dead-worker"),
            "not a pid: wait for the lease"
        );
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(owner_is_gone(&format!("{pid}-abc")), "an exited process");
    }
}
