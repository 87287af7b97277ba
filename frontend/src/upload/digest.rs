//! How a digest is written down: standard base64 with padding (S3's `Content-MD5` header) and
//! lowercase hex (an ETag, a log line). Hand-written because each is a few lines and the page
//! pays for every crate in KB of wasm. Pure; the MD5 itself is computed in `browser/hash.rs`.

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Standard base64 (RFC 4648 section 4), padded with `=` to a multiple of four characters.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // One input byte gives two characters, two give three, three give four.
        for i in 0..4 {
            if i <= group.len() {
                let index = (n >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(BASE64_ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lowercase hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], base64_text: &str, hex_text: &str) {
        assert_eq!(base64(bytes), base64_text, "base64 of {bytes:?}");
        assert_eq!(hex(bytes), hex_text, "hex of {bytes:?}");
    }

    #[test]
    fn rfc_4648_test_vectors() {
        // RFC 4648 section 10, every padding case.
        check(b"", "", "");
        check(b"f", "Zg==", "66");
        check(b"fo", "Zm8=", "666f");
        check(b"foo", "Zm9v", "666f6f");
        check(b"foob", "Zm9vYg==", "666f6f62");
        check(b"fooba", "Zm9vYmE=", "666f6f6261");
        check(b"foobar", "Zm9vYmFy", "666f6f626172");
    }

    #[test]
    fn md5_digests_as_s3_and_md5sum_write_them() {
        // MD5 of the empty string (RFC 1321's test suite): S3's Content-MD5 and md5sum's output.
        let empty = [
            0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
            0x42, 0x7e,
        ];
        check(
            &empty,
            "1B2M2Y8AsgTpgAmY7PhCfg==",
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        // MD5 of "The quick brown fox jumps over the lazy dog".
        let fox = [
            0x9e, 0x10, 0x7d, 0x9d, 0x37, 0x2b, 0xb6, 0x82, 0x6b, 0xd8, 0x1d, 0x35, 0x42, 0xa4,
            0x19, 0xd6,
        ];
        check(
            &fox,
            "nhB9nTcrtoJr2B01QqQZ1g==",
            "9e107d9d372bb6826bd81d3542a419d6",
        );
    }

    #[test]
    fn every_byte_value_round_trips_through_each_position() {
        // Each value in each of the three positions of a group, against a plain bit-by-bit reading.
        let bytes: Vec<u8> = (0..=255).chain((0..=255).rev()).chain(0..=255).collect();
        let bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
        let mut expected: String = bits
            .as_bytes()
            .chunks(6)
            .map(|six| {
                let text = std::str::from_utf8(six).expect("ASCII");
                let index = u8::from_str_radix(&format!("{text:0<6}"), 2).expect("binary");
                char::from(BASE64_ALPHABET[usize::from(index)])
            })
            .collect();
        while !expected.len().is_multiple_of(4) {
            expected.push('=');
        }
        assert_eq!(base64(&bytes), expected);
        let hex_expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), hex_expected);
    }
}
