//! Random tokens from the kernel: the dashboard's per-start token and the
//! gateway's per-launch tokens.

use std::io::Read;

/// 128 random bits as hex, from `/dev/urandom`.
pub fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
