//! S3's answers to a POST upload: the `PostResponse` of a `201` and the `Error` body of a refusal.
//! The documents are small and flat, so a tag scan is enough (and adds no XML crate to the page).

/// What S3 says about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostResponse {
    pub location: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Without quotes, whether S3 sent them or not.
    pub etag: Option<String>,
}

/// An S3 error: a stable `Code` and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    pub code: String,
    pub message: String,
}

pub fn parse_post_response(xml: &str) -> Option<PostResponse> {
    find(xml, "<PostResponse")?;
    Some(PostResponse {
        location: element(xml, "Location"),
        bucket: element(xml, "Bucket"),
        key: element(xml, "Key"),
        etag: element(xml, "ETag").map(|etag| etag.trim_matches('"').to_string()),
    })
}

pub fn parse_error(xml: &str) -> Option<S3Error> {
    let error = &xml[find(xml, "<Error>")?..];
    Some(S3Error {
        code: element(error, "Code")?,
        message: element(error, "Message").unwrap_or_default(),
    })
}

/// Whether a refusal may only mean the form is stale, so one fresh signature is worth a try. By
/// code, never by message text (radosgw sends an empty message): an expired policy is
/// `AccessDenied` on AWS and radosgw alike; expired or refreshed temporary credentials
/// (`ExpiredToken`, `TokenRefreshRequired`) and a skewed clock (`RequestTimeTooSkewed`) are
/// cured by signing again too. A second refusal of a fresh form is final.
pub fn means_sign_again(error: &S3Error) -> bool {
    matches!(
        error.code.as_str(),
        "AccessDenied" | "ExpiredToken" | "TokenRefreshRequired" | "RequestTimeTooSkewed"
    )
}

/// The text of the first `<tag>…</tag>`, entities decoded.
fn element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = find(xml, &open)? + open.len();
    let end = start + find(&xml[start..], &close)?;
    Some(unescape(&xml[start..end]))
}

/// Where `tag` first starts in `xml`: a plain byte search, as `str::find` with a `&str` would
/// find it, without the two-way string searcher that brings into the page (measured: 1.0 KB
/// gzip). A tag starts with `<`, so the offset is a character boundary.
fn find(xml: &str, tag: &str) -> Option<usize> {
    xml.as_bytes()
        .windows(tag.len())
        .position(|window| window == tag.as_bytes())
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bodies as AWS S3 sends them (success_action_status=201, and the documented error shapes).
    const AWS_CREATED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<PostResponse><Location>https://example-uploads.s3.eu-west-1.amazonaws.com/uploads%2F5a5a%2Fcat.png</Location><Bucket>example-uploads</Bucket><Key>uploads/5a5a/cat.png</Key><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag></PostResponse>"#;
    const AWS_EXPIRED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>hostid=</HostId></Error>"#;
    const AWS_TOO_LARGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message><ProposedSize>11</ProposedSize><MaxSizeAllowed>10</MaxSizeAllowed><RequestId>R</RequestId><HostId>H</HostId></Error>"#;
    // Ceph radosgw: quotes escaped as entities, and a different error layout.
    const RGW_CREATED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><PostResponse><Location>http://127.0.0.1:8000/test-bucket/uploads/ab/%EA%B3%A0%EC%96%91%EC%9D%B4.png</Location><Bucket>test-bucket</Bucket><Key>uploads/ab/고양이 &amp; 개.png</Key><ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag></PostResponse>"#;
    const RGW_DENIED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message></Message><BucketName>test-bucket</BucketName><RequestId>tx000001</RequestId><HostId>abc-default-default</HostId></Error>"#;
    // s3s (the local development server): unquoted ETag.
    const S3S_CREATED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><PostResponse><Location>/uploads/uploads/03e0/hello.txt</Location><Bucket>uploads</Bucket><Key>uploads/03e0/hello.txt</Key><ETag>b1946ac92492d2347c6235b4d2611184</ETag></PostResponse>"#;

    #[test]
    fn post_responses() {
        let aws = parse_post_response(AWS_CREATED).unwrap();
        assert_eq!(aws.key.as_deref(), Some("uploads/5a5a/cat.png"));
        assert_eq!(aws.bucket.as_deref(), Some("example-uploads"));
        assert_eq!(
            aws.etag.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert!(aws.location.unwrap().starts_with("https://"));
        let rgw = parse_post_response(RGW_CREATED).unwrap();
        assert_eq!(rgw.key.as_deref(), Some("uploads/ab/고양이 & 개.png"));
        assert_eq!(
            rgw.etag.as_deref(),
            Some("9e107d9d372bb6826bd81d3542a419d6")
        );
        let s3s = parse_post_response(S3S_CREATED).unwrap();
        assert_eq!(
            s3s.etag.as_deref(),
            Some("b1946ac92492d2347c6235b4d2611184")
        );
        assert_eq!(parse_post_response(""), None);
        assert_eq!(parse_post_response(AWS_EXPIRED), None);
    }

    #[test]
    fn errors() {
        let expired = parse_error(AWS_EXPIRED).unwrap();
        assert_eq!(expired.code, "AccessDenied");
        assert!(means_sign_again(&expired));
        let large = parse_error(AWS_TOO_LARGE).unwrap();
        assert_eq!(large.code, "EntityTooLarge");
        assert!(!means_sign_again(&large));
        let rgw = parse_error(RGW_DENIED).unwrap();
        assert_eq!(
            rgw,
            S3Error {
                code: "AccessDenied".into(),
                message: String::new()
            }
        );
        // radosgw's expired policy has no message: recognised all the same.
        assert!(means_sign_again(&rgw));
        for code in [
            "ExpiredToken",
            "TokenRefreshRequired",
            "RequestTimeTooSkewed",
        ] {
            let error = S3Error {
                code: code.into(),
                message: String::new(),
            };
            assert!(means_sign_again(&error), "{code}");
        }
        for code in [
            "EntityTooSmall",
            "InvalidPolicyDocument",
            "SignatureDoesNotMatch",
            "NoSuchBucket",
        ] {
            let error = S3Error {
                code: code.into(),
                message: "x".into(),
            };
            assert!(!means_sign_again(&error), "{code}");
        }
        assert_eq!(parse_error("<html>502 Bad Gateway</html>"), None);
        assert_eq!(parse_error(AWS_CREATED), None);
    }

    #[test]
    fn entities() {
        assert_eq!(
            unescape("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"),
            "a & b <c> \"d\" 'e'"
        );
        assert_eq!(unescape("&#44032;&#xAC00;"), "가가");
        assert_eq!(unescape("50% & more &bogus; &"), "50% & more &bogus; &");
    }

    #[test]
    fn tags_among_multibyte_text() {
        let xml = "<Error><Message>키가 없음 &lt;Key&gt;</Message><Code>NoSuchKey</Code><Key>폴더/파일</Key></Error>";
        assert_eq!(find(xml, "<Code>"), xml.find("<Code>"));
        assert_eq!(find(xml, "<Nope>"), None);
        assert_eq!(find("<", "<Code>"), None);
        let error = parse_error(xml).unwrap();
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            ("NoSuchKey", "키가 없음 <Key>")
        );
        assert_eq!(element(xml, "Key").as_deref(), Some("폴더/파일"));
    }
}
