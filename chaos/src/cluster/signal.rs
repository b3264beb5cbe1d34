//! POSIX signals to replica processes.

/// Sends `sig` to `pid`; the error says why it failed.
pub fn send(pid: u32, sig: libc::c_int) -> Result<(), String> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| format!("pid {pid} out of range"))?;
    // SAFETY: kill(2) has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("kill({pid}, {sig}): {}", std::io::Error::last_os_error()))
    }
}

/// Sends `sig` to member `member`'s process, as a harness error.
pub fn to_member(member: &str, pid: u32, sig: libc::c_int) -> Result<(), super::HarnessError> {
    send(pid, sig).map_err(|message| super::HarnessError::Member { member: member.to_string(), message })
}
