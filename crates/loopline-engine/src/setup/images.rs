//! The images folder: which files go up (images, by extension, with their content type) and
//! which are left out (anything else), walked in a stable order so progress and reports
//! read the same on every run.

use std::path::{Path, PathBuf};

use loopline_core::{ApiError, ErrorCode};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageFile {
    /// Relative to the folder, with `/` separators: the key's tail.
    pub rel: String,
    pub path: PathBuf,
    pub size: u64,
    pub content_type: &'static str,
}

#[derive(Debug, Default)]
pub(crate) struct Folder {
    pub images: Vec<ImageFile>,
    /// Files that are not images (and hidden files such as `.DS_Store`).
    pub skipped: Vec<String>,
}

impl Folder {
    pub fn bytes(&self) -> u64 {
        self.images.iter().map(|f| f.size).sum()
    }
}

/// The content type for an image file name, or `None` for anything that is not an image.
pub(crate) fn image_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        _ => return None,
    })
}

/// Every file under `root`, images first-class, the rest counted. Symbolic links to files
/// are followed; links to folders are not (a loop would never end).
pub(crate) fn scan(root: &Path) -> Result<Folder, ApiError> {
    let meta = std::fs::metadata(root).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "The images folder {} cannot be read ({e}). Give an existing folder with --images.",
                root.display()
            ),
        )
    })?;
    if !meta.is_dir() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} is a file, not a folder. Give the folder that holds the images.",
                root.display()
            ),
        ));
    }
    let mut folder = Folder::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("{} cannot be read ({e}).", dir.display()),
                )
            })?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                folder.skipped.push(rel);
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            match image_type(&name) {
                Some(content_type) if !name.starts_with('.') => folder.images.push(ImageFile {
                    rel,
                    path,
                    size: meta.len(),
                    content_type,
                }),
                _ => folder.skipped.push(rel),
            }
        }
    }
    folder.images.sort_by(|a, b| a.rel.cmp(&b.rel));
    folder.skipped.sort();
    Ok(folder)
}

/// A file's SHA-256 (stored in the object's metadata) and MD5 (what S3 lists as the ETag
/// of a one-piece upload), both hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digests {
    pub sha256: String,
    pub md5: String,
}

/// Both digests in one read, in 1 MiB blocks, off the async runtime.
pub(crate) async fn digests_of(path: &Path) -> Result<Digests, ApiError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path).map_err(|e| read_error(&path, e))?;
        let mut sha = Sha256::new();
        let mut md5 = md5::Md5::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(|e| read_error(&path, e))?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
            md5.update(&buf[..n]);
        }
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Ok(Digests {
            sha256: hex(&sha.finalize()),
            md5: hex(&md5.finalize()),
        })
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
}

pub(crate) fn read_error(path: &Path, e: std::io::Error) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidArgument,
        format!("{} cannot be read ({e}); it was left out. Check its permissions and run the setup again.", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_extension_in_any_case() {
        assert_eq!(image_type("a.JPG"), Some("image/jpeg"));
        assert_eq!(image_type("b.jpeg"), Some("image/jpeg"));
        assert_eq!(image_type("c.png"), Some("image/png"));
        assert_eq!(image_type("d.TIFF"), Some("image/tiff"));
        assert_eq!(image_type("notes.txt"), None);
        assert_eq!(image_type("jpg"), None);
    }

    #[test]
    fn a_folder_is_walked_in_order_with_nested_images_and_the_rest_counted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("nested/deeper")).unwrap();
        std::fs::write(root.join("b.jpg"), b"bb").unwrap();
        std::fs::write(root.join("a.png"), b"a").unwrap();
        std::fs::write(root.join("nested/deeper/c.JPEG"), b"ccc").unwrap();
        std::fs::write(root.join("README.txt"), b"x").unwrap();
        std::fs::write(root.join(".DS_Store.jpg"), b"x").unwrap();
        let f = scan(root).unwrap();
        let rels: Vec<_> = f.images.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["a.png", "b.jpg", "nested/deeper/c.JPEG"]);
        assert_eq!(f.skipped, [".DS_Store.jpg", "README.txt"]);
        assert_eq!(f.bytes(), 6);
        assert!(scan(&root.join("missing")).is_err());
        assert!(scan(&root.join("b.jpg")).is_err());
    }

    #[tokio::test]
    async fn the_digests_are_the_files_sha256_and_md5() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jpg");
        std::fs::write(&p, b"abc").unwrap();
        let d = digests_of(&p).await.unwrap();
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
    }
}
