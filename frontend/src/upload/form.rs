//! The layout of the multipart form posted to S3: every field from the signer, in the signer's
//! order, then the file last (S3 ignores anything after the file, so a field after it would be lost).

use shared::FormFields;

/// One part of the form, in sending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormPart<'a> {
    Field {
        name: &'a str,
        value: &'a str,
    },
    /// The file itself, appended as the browser's `File` (its bytes never enter WASM memory).
    File,
}

/// The name S3 reads the file from.
pub const FILE_FIELD: &str = "file";

/// The parts to append, fields first. A field named `file` from the signer would be ambiguous with
/// the file part, so it is dropped.
pub fn form_parts(fields: &FormFields) -> Vec<FormPart<'_>> {
    fields
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case(FILE_FIELD))
        .map(|(name, value)| FormPart::Field { name, value })
        .chain(std::iter::once(FormPart::File))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> FormFields {
        FormFields(
            names
                .iter()
                .map(|n| (n.to_string(), format!("v-{n}")))
                .collect(),
        )
    }

    #[test]
    fn fields_keep_their_order_and_the_file_goes_last() {
        let f = fields(&[
            "key",
            "Content-Type",
            "success_action_status",
            "x-amz-algorithm",
            "policy",
            "x-amz-signature",
        ]);
        let parts = form_parts(&f);
        assert_eq!(parts.len(), 7);
        assert_eq!(
            parts[0],
            FormPart::Field {
                name: "key",
                value: "v-key"
            }
        );
        assert_eq!(
            parts[5],
            FormPart::Field {
                name: "x-amz-signature",
                value: "v-x-amz-signature"
            }
        );
        assert_eq!(parts.last(), Some(&FormPart::File));
    }

    #[test]
    fn a_field_named_file_cannot_displace_the_file() {
        let f = fields(&["key", "File", "policy"]);
        let parts = form_parts(&f);
        assert_eq!(parts.iter().filter(|p| **p == FormPart::File).count(), 1);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.last(), Some(&FormPart::File));
    }
}
