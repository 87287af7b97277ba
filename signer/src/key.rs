//! Object keys: `<prefix><unique id>/<sanitised file name>`. The unique id means two uploads never
//! share a key, so a signed form can never overwrite another upload; sanitising keeps the name
//! readable while ruling out path tricks and invisible characters.

use unicode_normalization::UnicodeNormalization;

use crate::sigv4::hex;

/// S3's limit on a key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Longest sanitised name kept in a key (a common file-system limit).
pub const MAX_NAME_BYTES: usize = 255;
/// Used when nothing usable is left of a file name.
pub const FALLBACK_NAME: &str = "file";
/// An extension longer than this is not worth keeping when a name is shortened.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

/// 128 random bits: the part of a key that makes it unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadId(pub [u8; 16]);

impl UploadId {
    /// The id of the `n`th file of a batch signed with this one: the first 128 bits of
    /// SHA-256(id, n), as unpredictable as the random id itself and distinct for every `n`.
    pub fn nth(self, n: u32) -> UploadId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(self.0)
            .chain_update(n.to_be_bytes())
            .finalize();
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        UploadId(id)
    }
}

/// Folders kept below the unique id, at most this many (deeper ones keep their innermost folders).
pub const MAX_FOLDERS: usize = 16;

/// The key for one upload. `prefix` has been validated by the configuration (ends in `/`, no `..`).
/// `filename` may be a relative path (`photos/2024/cat.png`, from a folder the user picked or
/// dropped): its folders are kept below the unique id, so `a/readme` and `b/readme` stay apart.
pub fn object_key(prefix: &str, id: UploadId, filename: &str) -> String {
    let id = hex(&id.0);
    let budget = MAX_KEY_BYTES.saturating_sub(prefix.len() + id.len() + 1);
    let name = sanitise_path(filename, budget);
    let mut key = String::with_capacity(prefix.len() + id.len() + 1 + name.len());
    key.push_str(prefix);
    key.push_str(&id);
    key.push('/');
    key.push_str(&name);
    key
}

/// The upload's unique id in a key `object_key` made: the segment after the caller's space
/// (`prefix`, then in the signed-in mode the user's own segment), 32 hex digits. What logs name
/// an upload by: the rest of a key is the user's folder and file names (and their user id).
pub fn upload_id<'k>(key: &'k str, prefix: &str, signed_in: bool) -> &'k str {
    let mut segments = key.strip_prefix(prefix).unwrap_or(key).split('/');
    if signed_in {
        segments.next();
    }
    segments
        .next()
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or("")
}

/// The `Content-Disposition` every object gets: `attachment` with the key's last segment (the
/// sanitised name) as `filename*` (RFC 6266 / RFC 8187: UTF-8, percent-encoded), so a browser
/// that opens the object from the bucket downloads it under its name instead of showing it.
pub fn content_disposition(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let mut value = String::with_capacity(30 + name.len() * 3);
    value.push_str("attachment; filename*=UTF-8''");
    for &b in name.as_bytes() {
        // RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
        // "_" / "`" / "|" / "~"; everything else percent-encoded.
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            value.push(b as char);
        } else {
            value.push('%');
            value.push_str(&hex(&[b]).to_ascii_uppercase());
        }
    }
    value
}

/// A relative path made safe below the id: split on `/`, every segment sanitised as a name
/// ([`sanitise_filename`], so `\` and the rest are dealt with there), empty, `.` and `..`
/// segments dropped, at most [`MAX_FOLDERS`] folders (the innermost), and at most `max_bytes`
/// in all (outer folders go first, then the name is shortened).
pub fn sanitise_path(path: &str, max_bytes: usize) -> String {
    let mut segments: Vec<&str> = path.split('/').collect();
    let name = segments.pop().unwrap_or_default();
    let mut folders: Vec<String> = segments
        .into_iter()
        .filter(|s| !s.trim().chars().all(|c| c == '.'))
        .map(|s| sanitise_filename(s, MAX_NAME_BYTES))
        .collect();
    if folders.len() > MAX_FOLDERS {
        folders.drain(..folders.len() - MAX_FOLDERS);
    }
    let name = sanitise_filename(name, max_bytes.min(MAX_NAME_BYTES));
    while !folders.is_empty()
        && folders.iter().map(|f| f.len() + 1).sum::<usize>() + name.len() > max_bytes
    {
        folders.remove(0);
    }
    folders.push(name);
    folders.join("/")
}

/// Makes a file name safe as the last segment of a key, at most `max_bytes` long:
/// - NFC normalised (a name typed on macOS and on Windows gives the same key);
/// - path separators (`/`, `\`) become `_`, so the name is one segment;
/// - `$` is dropped (so nothing in a key reads as an S3 POST variable like `${filename}`), and so
///   are control characters and every invisible code point (see [`is_invisible`]);
/// - surrounding white space is trimmed; a name of dots only (`.`, `..`) counts as empty;
/// - an over-long name is shortened on a character boundary, keeping a short extension;
/// - an empty result becomes [`FALLBACK_NAME`].
pub fn sanitise_filename(filename: &str, max_bytes: usize) -> String {
    let cleaned: String = filename
        .nfc()
        .filter(|c| !is_invisible(*c) && *c != '$')
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().all(|c| c == '.') {
        return FALLBACK_NAME.to_string();
    }
    let shortened = shorten(trimmed, max_bytes.max(FALLBACK_NAME.len()));
    if shortened.trim().is_empty() || shortened.chars().all(|c| c == '.') {
        FALLBACK_NAME.to_string()
    } else {
        shortened
    }
}

/// Characters that must not reach a key because they are not seen: C0/C1 controls and DEL, every
/// Default_Ignorable_Code_Point of Unicode (soft hyphen, zero-width and bidi controls, variation
/// selectors, Hangul fillers, tag characters...), line and paragraph separators, and the
/// noncharacters (U+FDD0-U+FDEF and the last two of every plane, U+FFFE/U+FFFF among them).
pub fn is_invisible(c: char) -> bool {
    let n = u32::from(c);
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FDD0}'..='\u{FDEF}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
        || n & 0xFFFE == 0xFFFE
}

fn shorten(name: &str, max_bytes: usize) -> String {
    if name.len() <= max_bytes {
        return name.to_string();
    }
    let extension = name
        .rfind('.')
        .filter(|&dot| dot > 0 && name.len() - dot <= MAX_KEPT_EXTENSION_BYTES)
        .map_or("", |dot| &name[dot..]);
    // An extension that leaves no room for a stem is not kept.
    let extension = if extension.len() < max_bytes {
        extension
    } else {
        ""
    };
    let stem_budget = max_bytes - extension.len();
    let stem = &name[..floor_char_boundary(name, stem_budget)];
    format!("{stem}{extension}")
}

fn floor_char_boundary(s: &str, index: usize) -> usize {
    (0..=index.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_is_named_by_its_id_alone() {
        let id = "0123456789abcdef0123456789abcdef";
        for (key, signed_in) in [
            (format!("uploads/{id}/cv.pdf"), false),
            (format!("uploads/{id}/Jane Doe/cases/cv.pdf"), false),
            (format!("uploads/alice/{id}/Jane Doe/cv.pdf"), true),
            // A user whose id looks like an upload's is still the user's segment.
            (format!("uploads/{}/{id}/cv.pdf", "f".repeat(32)), true),
        ] {
            assert_eq!(upload_id(&key, "uploads/", signed_in), id, "{key}");
        }
        assert_eq!(upload_id("uploads/Jane Doe/cv.pdf", "uploads/", false), "");
    }

    fn check(input: &str, expected: &str) {
        assert_eq!(
            sanitise_filename(input, MAX_NAME_BYTES),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn sanitising() {
        check("cat.png", "cat.png");
        check(
            "holiday photo #1 + 50% off.jpg",
            "holiday photo #1 + 50% off.jpg",
        );
        check("고양이 사진.png", "고양이 사진.png");
        check("../../etc/passwd", ".._.._etc_passwd");
        check("..\\..\\boot.ini", ".._.._boot.ini");
        check("a/b/c.txt", "a_b_c.txt");
        check("..", FALLBACK_NAME);
        check(".", FALLBACK_NAME);
        check("...", FALLBACK_NAME);
        check("", FALLBACK_NAME);
        check("   ", FALLBACK_NAME);
        check("\u{0}\u{1}\u{7f}\u{9f}", FALLBACK_NAME);
        check("line\nbreak\r.txt", "linebreak.txt");
        check("tab\there.txt", "tabhere.txt");
        check("evil\u{202E}gnp.exe", "evilgnp.exe");
        check("zero\u{200B}width\u{FEFF}.txt", "zerowidth.txt");
        check("  spaced  .txt ", "spaced  .txt");
        check(".bashrc", ".bashrc");
        check("quote\"and'apostrophe.txt", "quote\"and'apostrophe.txt");
        check("${filename}.txt", "{filename}.txt");
        check("price $5.txt", "price 5.txt");
        // Invisible code points of every kind.
        check(
            "a\u{AD}b\u{34F}c\u{FE0F}d\u{E0041}e\u{3164}f\u{FFA0}g\u{115F}h\u{2028}i\u{2029}j\u{FFFE}k\u{FFFF}l\u{1FFFE}m\u{180E}n.txt",
            "abcdefghijklmn.txt",
        );
        check("\u{3164}\u{FEFF}\u{200B}", FALLBACK_NAME);
        // NFC: a decomposed name (as macOS writes it) gives the composed key.
        check("cafe\u{301}.txt", "caf\u{E9}.txt");
        check("\u{1100}\u{1161}.txt", "\u{AC00}.txt");
    }

    #[test]
    fn shortening_never_overflows() {
        for max in 0..40 {
            for name in [
                format!("a.{}", "e".repeat(16)),
                format!("{}.{}", "가".repeat(30), "x".repeat(15)),
                ".".repeat(50),
                format!("x.{}", "가".repeat(5)),
            ] {
                let short = sanitise_filename(&name, max);
                assert!(
                    short.len() <= max.max(FALLBACK_NAME.len()),
                    "{name} {max}: {short}"
                );
                assert!(!short.is_empty());
            }
        }
    }

    #[test]
    fn long_names_keep_their_extension_and_stay_valid_utf8() {
        let long = format!("{}.jpeg", "가".repeat(200));
        let short = sanitise_filename(&long, MAX_NAME_BYTES);
        assert!(short.len() <= MAX_NAME_BYTES, "{}", short.len());
        assert!(short.ends_with("가.jpeg"), "{short}");
        let no_extension = "x".repeat(1000);
        assert_eq!(sanitise_filename(&no_extension, 10), "xxxxxxxxxx");
        let long_extension = format!("a.{}", "e".repeat(40));
        assert_eq!(sanitise_filename(&long_extension, 8), "a.eeeeee");
    }

    #[test]
    fn every_object_is_a_download_under_its_name() {
        assert_eq!(
            content_disposition("uploads/ab/cat.png"),
            "attachment; filename*=UTF-8''cat.png"
        );
        assert_eq!(
            content_disposition("uploads/ab/고양이 사진 #1 (50%).png"),
            "attachment; filename*=UTF-8''%EA%B3%A0%EC%96%91%EC%9D%B4%20%EC%82%AC%EC%A7%84%20#1%20%2850%25%29.png"
        );
        assert_eq!(
            content_disposition("uploads/ab/a\"b;c=d$e.txt"),
            "attachment; filename*=UTF-8''a%22b%3Bc%3Dd%24e.txt"
        );
    }

    #[test]
    fn folders_are_kept_below_the_id_segment_by_segment() {
        let id = UploadId([0xab; 16]);
        let key = |name| object_key("uploads/", id, name);
        let base = "uploads/abababababababababababababababab/";
        assert_eq!(key("a/readme"), format!("{base}a/readme"));
        assert_ne!(key("a/readme"), key("b/readme"));
        assert_eq!(key("../../etc/passwd"), format!("{base}etc/passwd"));
        assert_eq!(key("./a//b/./c.txt"), format!("{base}a/b/c.txt"));
        assert_eq!(key("a\\b/c.txt"), format!("{base}a_b/c.txt"));
        assert_eq!(
            key("photos/\u{200B}/x.png"),
            format!("{base}photos/file/x.png")
        );
        assert_eq!(key("folder/"), format!("{base}folder/file"));
        assert_eq!(key("/"), format!("{base}file"));
        let deep = (0..40)
            .map(|i| format!("d{i}"))
            .collect::<Vec<_>>()
            .join("/")
            + "/f.txt";
        let k = key(&deep);
        assert_eq!(k.matches('/').count(), 2 + MAX_FOLDERS, "{k}");
        assert!(k.ends_with("/d39/f.txt"), "{k}");
        let long = format!("{}/{}/n.txt", "a".repeat(300), "b".repeat(300));
        let k = key(&long);
        assert!(k.len() <= MAX_KEY_BYTES, "{}", k.len());
        assert!(k.ends_with("/n.txt"));
    }

    #[test]
    fn keys_are_prefixed_unique_and_bounded() {
        let id = UploadId([0xab; 16]);
        assert_eq!(
            object_key("uploads/", id, "cat.png"),
            "uploads/abababababababababababababababab/cat.png"
        );
        assert_ne!(
            object_key("uploads/", UploadId([1; 16]), "cat.png"),
            object_key("uploads/", UploadId([2; 16]), "cat.png")
        );
        // The files of one batch: each its own id.
        let batch = UploadId([7; 16]);
        let ids: std::collections::HashSet<_> = (0..100).map(|n| batch.nth(n).0).collect();
        assert_eq!(ids.len(), 100);
        assert!(!ids.contains(&batch.0));
        assert_ne!(
            object_key("uploads/", batch.nth(0), "cat.png"),
            object_key("uploads/", batch.nth(1), "cat.png")
        );
        let long_prefix = format!("{}/", "p".repeat(900));
        let key = object_key(&long_prefix, id, &"n".repeat(1024));
        assert!(key.len() <= MAX_KEY_BYTES, "{}", key.len());
        assert!(key.starts_with(&long_prefix));
    }
}
