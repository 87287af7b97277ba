//! Object keys: `<prefix><unique id>/<sanitised file name>`. The unique id means two uploads never
//! share a key, so a signed form can never overwrite another upload; sanitising keeps the name
//! readable while ruling out path tricks and invisible characters.

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

/// The key for one upload. `prefix` has been validated by the configuration (ends in `/`, no `..`).
pub fn object_key(prefix: &str, id: UploadId, filename: &str) -> String {
    let id = hex(&id.0);
    let budget = MAX_KEY_BYTES
        .saturating_sub(prefix.len() + id.len() + 1)
        .min(MAX_NAME_BYTES);
    let name = sanitise_filename(filename, budget);
    let mut key = String::with_capacity(prefix.len() + id.len() + 1 + name.len());
    key.push_str(prefix);
    key.push_str(&id);
    key.push('/');
    key.push_str(&name);
    key
}

/// Makes a file name safe as the last segment of a key, at most `max_bytes` long:
/// - path separators (`/`, `\`) become `_`, so the name is one segment;
/// - control characters and invisible format characters (bidi overrides, zero-width) are dropped;
/// - surrounding white space is trimmed; a name of dots only (`.`, `..`) counts as empty;
/// - an over-long name is shortened on a character boundary, keeping a short extension;
/// - an empty result becomes [`FALLBACK_NAME`].
pub fn sanitise_filename(filename: &str, max_bytes: usize) -> String {
    let cleaned: String = filename
        .chars()
        .filter(|c| !is_invisible(*c))
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

/// Characters that must not reach a key: C0/C1 controls, DEL, and format characters that change how
/// a name is displayed without being seen (U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn shorten(name: &str, max_bytes: usize) -> String {
    if name.len() <= max_bytes {
        return name.to_string();
    }
    let extension = name
        .rfind('.')
        .filter(|&dot| dot > 0 && name.len() - dot <= MAX_KEPT_EXTENSION_BYTES)
        .map_or("", |dot| &name[dot..]);
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
        let long_prefix = format!("{}/", "p".repeat(900));
        let key = object_key(&long_prefix, id, &"n".repeat(1024));
        assert!(key.len() <= MAX_KEY_BYTES, "{}", key.len());
        assert!(key.starts_with(&long_prefix));
    }
}
