//! Secrets Muster must be able to read back (webhook signing secrets: Standard Webhooks signs
//! with the raw key, so they cannot be hashed), sealed at rest with ChaCha20-Poly1305 under a
//! key file beside the database: the database file, its WAL and its backups hold only sealed
//! values.

use crate::error::{Error, Result};
use base64::Engine;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What a sealed value starts with (and the format's version).
const PREFIX: &str = "sealed:v1:";

/// Seals and opens secrets under the key in `<database>.key` (32 random bytes, hex, owner-only),
/// created on first use. The key is read once per process.
pub struct Sealer {
    path: PathBuf,
    key: OnceLock<std::result::Result<[u8; 32], String>>,
}

impl Sealer {
    /// The sealer of the database at `db_path`: its key file is `<db_path>.key`.
    pub fn beside(db_path: &Path) -> Sealer {
        let mut name = db_path.as_os_str().to_owned();
        name.push(".key");
        Sealer {
            path: PathBuf::from(name),
            key: OnceLock::new(),
        }
    }

    pub fn key_path(&self) -> &Path {
        &self.path
    }

    fn key(&self) -> Result<LessSafeKey> {
        let raw = self
            .key
            .get_or_init(|| load_or_create(&self.path))
            .as_ref()
            .map_err(|e| Error::Io(std::io::Error::other(e.clone())))?;
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, raw)
            .map_err(|_| Error::Corrupt("the sealing key is not usable".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `plaintext`, bound to `context` (e.g. the row's id): a sealed value copied to
    /// another row does not open there.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String> {
        let key = self.key()?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buf = plaintext.as_bytes().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut buf,
        )
        .map_err(|_| Error::Corrupt("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Opens a value `seal` made with the same key and context. A value sealed under another
    /// key (a database restored without its key file) is refused with a message that says so.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String> {
        let refused = || {
            Error::Corrupt(format!(
                "a sealed secret does not open with the key in {} (the database was restored \
                 without its key file?): rotate the secret",
                self.path.display()
            ))
        };
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(b)
                    .ok()
            })
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or_else(refused)?;
        let key = self.key()?;
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut body = body.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

/// Reads the key file, or creates it (owner-only) when there is none; two processes racing
/// to create it end up reading the same one.
fn load_or_create(path: &Path) -> std::result::Result<[u8; 32], String> {
    let read = |path: &Path| -> std::result::Result<[u8; 32], String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| format!("the key file {} is not hex", path.display()))?;
        bytes
            .try_into()
            .map_err(|_| format!("the key file {} does not hold 32 bytes", path.display()))
    };
    if path.exists() {
        return read(path);
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(hex::encode(key).as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| format!("cannot write the key file {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(format!(
            "cannot create the key file {}: {e}",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_its_context() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("muster.db");
        let sealer = Sealer::beside(&db);
        let sealed = sealer.seal("whsec_c2VjcmV0", "ep_1").unwrap();
        assert!(sealed.starts_with(PREFIX), "{sealed}");
        assert!(!sealed.contains("whsec_") && !sealed.contains("c2VjcmV0"));
        assert_ne!(
            sealed,
            sealer.seal("whsec_c2VjcmV0", "ep_1").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(sealer.open(&sealed, "ep_1").unwrap(), "whsec_c2VjcmV0");
        assert!(sealer.open(&sealed, "ep_2").is_err(), "bound to its row");
        assert!(
            sealer.open("whsec_c2VjcmV0", "ep_1").is_err(),
            "not a sealed value"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&tampered, "ep_1").is_err());

        // The same key file, read again by another process, opens it.
        assert_eq!(
            Sealer::beside(&db).open(&sealed, "ep_1").unwrap(),
            "whsec_c2VjcmV0"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sealer.key_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Restored elsewhere without the key file: a new key, and the old value says why.
        std::fs::remove_file(sealer.key_path()).unwrap();
        let err = Sealer::beside(&db).open(&sealed, "ep_1").unwrap_err();
        assert!(err.to_string().contains("rotate the secret"), "{err}");
    }
}
