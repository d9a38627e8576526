//! `file://` origins: read only under the import roots, and never from the server's own data
//! directory, storage or database, whatever symbolic links or `..` the path holds.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{Fetched, Fetcher, Want, forbidden};
use crate::error::{Error, ErrorKind, Result};

/// A path with symbolic links and `..` resolved as far as it exists; the part that does not
/// exist yet is appended as written.
pub fn resolve_existing(path: &Path) -> PathBuf {
    resolve_within(path, 40)
}

/// [`resolve_existing`], following at most `links` symbolic links that point at paths that
/// do not exist (yet), such as a link to a data dir the server has still to create.
fn resolve_within(path: &Path, links: usize) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            // what is resolved so far is a real path, so its parent is the real parent
            std::path::Component::ParentDir => {
                resolved.pop();
            }
            std::path::Component::CurDir => {}
            other => {
                resolved.push(other);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                } else if let (Ok(target), Some(links)) =
                    (std::fs::read_link(&resolved), links.checked_sub(1))
                {
                    resolved.pop();
                    resolved = resolve_within(&resolved.join(target), links);
                }
            }
        }
    }
    resolved
}

impl Fetcher {
    pub(super) async fn fetch_file(&self, url: &url::Url, want: Want) -> Result<Option<Fetched>> {
        let path = url
            .to_file_path()
            .map_err(|_| forbidden("file origin is not an absolute local path"))?;
        // canonicalising resolves `..` and symbolic links before the root check
        let path = tokio::fs::canonicalize(&path).await.map_err(|error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        if self
            .policy
            .protected_paths
            .iter()
            .any(|protected| path.starts_with(protected))
        {
            return Err(forbidden(
                "the file origin resolves into the server's own data directory or storage, which is never an origin",
            ));
        }
        if !self
            .policy
            .import_roots
            .iter()
            .any(|root| path.starts_with(root))
        {
            return Err(forbidden(format!(
                "{} is not under an import root",
                path.display()
            )));
        }
        let metadata = tokio::fs::metadata(&path).await.map_err(|error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        if !metadata.is_file() {
            return Err(Error::new(
                ErrorKind::OriginRefused,
                format!("{} is not a file", path.display()),
            ));
        }
        if metadata.len() > self.policy.max_bytes {
            return Err(self.too_large());
        }
        if want == Want::Presence {
            return Ok(None);
        }
        let cannot_read = |error: std::io::Error| {
            Error::new(
                ErrorKind::OriginRefused,
                format!("cannot read {}: {error}", path.display()),
            )
        };
        if metadata.len() > self.spool_bytes {
            // a large master is read from its own file as it is used, never held whole
            let file = tokio::fs::File::open(&path).await.map_err(cannot_read)?;
            return Ok(Some(Fetched::File {
                file: file.into_std().await,
                len: metadata.len(),
            }));
        }
        let bytes = tokio::fs::read(&path).await.map_err(cannot_read)?;
        Ok(Some(Fetched::Bytes(Bytes::from(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fetcher;
    use super::*;

    #[tokio::test]
    async fn file_origins_only_under_import_roots() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.jpg"), b"inside").unwrap();
        std::fs::write(outside.path().join("b.jpg"), b"outside").unwrap();
        std::fs::write(root.path().join("big.jpg"), vec![0u8; 2000]).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("b.jpg"), root.path().join("escape.jpg"))
            .unwrap();
        let fetcher = fetcher(vec![root.path().to_path_buf()], false);
        let url = |path: &std::path::Path| url::Url::from_file_path(path).unwrap().to_string();
        assert_eq!(
            &fetcher
                .fetch(&url(&root.path().join("a.jpg")))
                .await
                .unwrap()[..],
            b"inside"
        );
        let outside_error = fetcher
            .fetch(&url(&outside.path().join("b.jpg")))
            .await
            .unwrap_err();
        assert_eq!(outside_error.kind, ErrorKind::OriginForbidden);
        let dotted = format!(
            "{}/../{}/b.jpg",
            url(root.path()),
            outside.path().file_name().unwrap().to_string_lossy()
        );
        assert_eq!(
            fetcher.fetch(&dotted).await.unwrap_err().kind,
            ErrorKind::OriginForbidden
        );
        #[cfg(unix)]
        assert_eq!(
            fetcher
                .fetch(&url(&root.path().join("escape.jpg")))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::OriginForbidden
        );
        assert_eq!(
            fetcher
                .fetch(&url(&root.path().join("big.jpg")))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        assert_eq!(
            fetcher
                .fetch(&url(&root.path().join("none.jpg")))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::OriginRefused
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn file_origins_never_resolve_into_the_servers_data() {
        let sandbox = tempfile::tempdir().unwrap();
        let root = sandbox.path().join("masters");
        let data = sandbox.path().join("data");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("jwt-secret"), b"secret").unwrap();
        std::os::unix::fs::symlink(&data, root.join("data")).unwrap();
        std::os::unix::fs::symlink(data.join("jwt-secret"), root.join("key.jpg")).unwrap();
        // even an import root that (wrongly) holds the data directory reads nothing from it
        let mut policy = fetcher(vec![root.clone(), sandbox.path().to_path_buf()], false).policy;
        policy.protected_paths = vec![data.clone()];
        let fetcher = Fetcher::new(policy).unwrap();
        let url = |path: &std::path::Path| url::Url::from_file_path(path).unwrap().to_string();
        for path in [
            root.join("data/jwt-secret"),
            root.join("key.jpg"),
            data.join("jwt-secret"),
        ] {
            let error = fetcher.fetch(&url(&path)).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::OriginForbidden, "{}", path.display());
            assert!(error.message.contains("own data"), "{error}");
        }
    }

    #[test]
    fn paths_resolve_through_links_as_far_as_they_exist() {
        let sandbox = tempfile::tempdir().unwrap();
        let real = sandbox.path().canonicalize().unwrap();
        assert_eq!(
            resolve_existing(&sandbox.path().join("a/../b/c")),
            real.join("b/c")
        );
        #[cfg(unix)]
        {
            std::fs::create_dir(real.join("target")).unwrap();
            std::os::unix::fs::symlink(real.join("target"), real.join("link")).unwrap();
            assert_eq!(
                resolve_existing(&real.join("link/new")),
                real.join("target/new")
            );
            std::os::unix::fs::symlink(real.join("later"), real.join("dangling")).unwrap();
            assert_eq!(
                resolve_existing(&real.join("dangling/new")),
                real.join("later/new")
            );
        }
    }

    /// A file origin over the spool size is handed on as its own open file, never read into
    /// memory; under it, its bytes.
    #[tokio::test]
    async fn large_file_origins_are_read_from_their_file() {
        let root = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..900u32).map(|n| (n % 251) as u8).collect();
        std::fs::write(root.path().join("large.tif"), &bytes).unwrap();
        std::fs::write(root.path().join("small.tif"), &bytes[..400]).unwrap();
        let mut fetcher = fetcher(vec![root.path().to_path_buf()], false);
        fetcher.spool_bytes = 500;
        let url = |name: &str| {
            url::Url::from_file_path(root.path().join(name))
                .unwrap()
                .to_string()
        };
        let large = fetcher.fetch_with(&url("large.tif"), None).await.unwrap();
        assert!(matches!(large, Fetched::File { .. }));
        assert_eq!(large.len(), 900);
        let copy = root.path().join("copy");
        large.write_to(&copy).unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), bytes);
        assert_eq!(&large.into_bytes().unwrap()[..], &bytes[..]);
        let small = fetcher.fetch_with(&url("small.tif"), None).await.unwrap();
        assert!(matches!(&small, Fetched::Bytes(held) if held[..] == bytes[..400]));
    }
}
