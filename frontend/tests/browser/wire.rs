//! The JSON edge (`frontend/src/browser/json.rs`) spells every wire field by hand (serde would
//! weigh KBs in the page): each reader and writer round-trips against `shared`'s serde types, so a
//! field renamed in `shared` fails here, not only in the end-to-end suite.

use frontend::browser::json;
use shared::{
    BatchResult, CompletedUpload, ContentTypePattern, ErrorBody, ErrorCode, FormFields, ListedPart,
    ListedParts, MultipartUpload, PartToSign, SignBatch, SignIn, SignParts, SignRequest,
    SignResponse, SignedBatch, SignedPart, SignedParts, UploadRules, UploadToken,
};
use wasm_bindgen_test::wasm_bindgen_test;

fn fields() -> FormFields {
    FormFields(vec![
        ("key".into(), "uploads/ab/é x.png".into()),
        ("Content-Type".into(), "image/png".into()),
        ("policy".into(), "eyJ4IjoiIn0=".into()),
    ])
}

fn form() -> SignResponse {
    SignResponse {
        method: "POST".into(),
        url: "https://bucket.s3.eu-west-1.amazonaws.com".into(),
        key: "uploads/ab/é x.png".into(),
        fields: fields(),
        expires_at: "2026-12-04T10:00:00Z".into(),
        token: "v2.abcd1234.e30.AA".into(),
    }
}

#[wasm_bindgen_test]
fn answers_read_as_serde_writes_them() {
    let rules = UploadRules {
        max_bytes: 5_497_558_138_880,
        allow_empty: true,
        allowed_content_types: vec![
            ContentTypePattern::parse("image/*").unwrap(),
            ContentTypePattern::parse("application/pdf").unwrap(),
        ],
        prefix: "uploads/".into(),
        multipart_threshold_bytes: 67_108_864,
        sign_in: Some(SignIn {
            issuer: "https://id.example".into(),
            client_id: "page".into(),
        }),
        require_md5: true,
    };
    assert_eq!(
        json::rules(&serde_json::to_string(&rules).unwrap()),
        Some(rules)
    );
    assert_eq!(
        json::sign_response(&serde_json::to_string(&form()).unwrap()),
        Some(form())
    );
    let upload = MultipartUpload {
        key: "uploads/ab/big.iso".into(),
        upload_id: "2~abc".into(),
        part_size: 8_388_608,
        parts: 768,
        token: "v2.abcd1234.e30.AA".into(),
        expires_at: "2026-12-05T10:00:00Z".into(),
    };
    assert_eq!(
        json::multipart_upload(&serde_json::to_string(&upload).unwrap()),
        Some(upload)
    );
    let signed = SignedParts {
        parts: vec![SignedPart {
            number: 3,
            url: "https://bucket.s3.amazonaws.com/k?partNumber=3&uploadId=x".into(),
            headers: FormFields(vec![
                ("Content-Length".into(), "8388608".into()),
                ("Content-MD5".into(), "1B2M2Y8AsgTpgAmY7PhCfg==".into()),
            ]),
        }],
        expires_at: "2026-12-04T10:15:00Z".into(),
    };
    assert_eq!(
        json::signed_parts(&serde_json::to_string(&signed).unwrap()),
        Some(signed)
    );
    let listed = ListedParts {
        parts: vec![ListedPart {
            number: 1,
            size: 8_388_608,
            etag: "\"abc\"".into(),
        }],
    };
    assert_eq!(
        json::listed_parts(&serde_json::to_string(&listed).unwrap()),
        Some(listed)
    );
    let completed = CompletedUpload {
        key: "uploads/ab/big.iso".into(),
        etag: "\"abc-768\"".into(),
    };
    assert_eq!(
        json::completed_upload(&serde_json::to_string(&completed).unwrap()),
        Some(completed)
    );
    for code in ErrorCode::ALL {
        let body = ErrorBody::new(code, "why");
        assert_eq!(
            json::error_body(&serde_json::to_string(&body).unwrap()),
            Some((code, "why".to_string())),
            "{code}"
        );
    }
    let batch = SignedBatch {
        results: vec![
            BatchResult::Signed(form()),
            BatchResult::Refused(ErrorBody::new(ErrorCode::FileTooLarge, "too big")),
        ],
    };
    assert_eq!(
        json::signed_batch(&serde_json::to_string(&batch).unwrap()),
        Some(vec![
            Ok(form()),
            Err((ErrorCode::FileTooLarge, "too big".to_string()))
        ])
    );
}

#[wasm_bindgen_test]
fn requests_read_as_serde_reads_them() {
    let request = SignRequest {
        filename: "folder/é x.png".into(),
        content_type: "image/png".into(),
        size: 9_007_199_254_740_991,
        token: Some("v2.abcd1234.e30.AA".into()),
        content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
    };
    let bare = SignRequest {
        token: None,
        content_md5: None,
        ..request.clone()
    };
    for one in [&request, &bare] {
        assert_eq!(
            serde_json::from_str::<SignRequest>(&json::sign_request(one)).unwrap(),
            *one
        );
    }
    assert_eq!(
        serde_json::from_str::<SignBatch>(&json::sign_batch([&request, &bare].into_iter()))
            .unwrap(),
        SignBatch {
            files: vec![request.clone(), bare]
        }
    );
    let parts = SignParts {
        token: "v2.abcd1234.e30.AA".into(),
        parts: vec![
            PartToSign {
                number: 1,
                md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
            },
            PartToSign {
                number: 2,
                md5: None,
            },
        ],
    };
    assert_eq!(
        serde_json::from_str::<SignParts>(&json::sign_parts(&parts)).unwrap(),
        parts
    );
    assert_eq!(
        serde_json::from_str::<UploadToken>(&json::token_body("v2.a.b.c")).unwrap(),
        UploadToken {
            token: "v2.a.b.c".into()
        }
    );
}

/// Each multipart command goes to its route with its body, and its answer is read into its
/// event (`app::effects::signer_call`): a path or reader paired with the wrong command
/// would otherwise fail only in the end-to-end suite.
#[wasm_bindgen_test]
fn each_multipart_command_asks_its_route_and_reads_its_answer() {
    use frontend::app::effects::signer_call;
    use frontend::upload::multipart::PartCommand;
    use frontend::upload::queue::{Command, Event};

    let request = SignRequest::new("big.iso", "application/octet-stream", 1 << 30);
    let upload = MultipartUpload {
        key: "uploads/ab/big.iso".into(),
        upload_id: "2~abc".into(),
        part_size: 8_388_608,
        parts: 128,
        token: "v2.abcd1234.e30.AA".into(),
        expires_at: "2026-12-05T10:00:00Z".into(),
    };
    let call = asks_and_reads(
        Command::CreateMultipart {
            id: 7,
            attempt: 2,
            request: request.clone(),
        },
        "/multipart/create",
        &request,
        2,
        &upload,
        Event::Created {
            id: 7,
            attempt: 2,
            upload: upload.clone(),
        },
    );
    assert_eq!((call.read)(7, 2, "{}"), None, "not an upload");

    let token = UploadToken {
        token: upload.token.clone(),
    };
    let listed = ListedParts {
        parts: vec![ListedPart {
            number: 1,
            size: 8_388_608,
            etag: "\"abc\"".into(),
        }],
    };
    asks_and_reads(
        Command::ListParts {
            id: 7,
            attempt: 3,
            token: token.token.clone(),
        },
        "/multipart/list",
        &token,
        3,
        &listed,
        Event::Listed {
            id: 7,
            attempt: 3,
            parts: listed.clone(),
        },
    );

    let completed = CompletedUpload {
        key: upload.key.clone(),
        etag: "\"abc-128\"".into(),
    };
    asks_and_reads(
        Command::CompleteMultipart {
            id: 7,
            attempt: 4,
            token: token.token.clone(),
        },
        "/multipart/complete",
        &token,
        4,
        &completed,
        Event::Completed {
            id: 7,
            attempt: 4,
            upload: completed.clone(),
        },
    );

    let parts = SignParts {
        token: token.token.clone(),
        parts: vec![PartToSign {
            number: 5,
            md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
        }],
    };
    let signed = SignedParts {
        parts: vec![SignedPart {
            number: 5,
            url: "https://bucket.s3.amazonaws.com/k?partNumber=5&uploadId=x".into(),
            headers: FormFields(vec![("Content-Length".into(), "8388608".into())]),
        }],
        expires_at: "2026-12-04T10:15:00Z".into(),
    };
    asks_and_reads(
        Command::Part {
            id: 7,
            attempt: 4,
            command: PartCommand::Sign(parts.clone()),
        },
        "/multipart/sign-parts",
        &parts,
        4,
        &signed,
        Event::PartsSigned {
            id: 7,
            attempt: 4,
            parts: signed.clone(),
        },
    );

    // Every other command is no call of this kind (signing goes in batches; abort alone).
    assert!(signer_call(Command::Forget { id: 7 }).is_none());
    assert!(
        signer_call(Command::AbortMultipart {
            upload_id: upload.upload_id,
            token: token.token
        })
        .is_none()
    );
}

/// `command`'s call to the signer asks `path` with `body`, and reads `answer` (as the signer
/// writes it) into `event` for file 7 at `attempt`; the call, for more checks.
fn asks_and_reads<B, A>(
    command: frontend::upload::queue::Command,
    path: &str,
    body: &B,
    attempt: u32,
    answer: &A,
    event: frontend::upload::queue::Event,
) -> frontend::app::effects::SignerCall
where
    B: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    A: serde::Serialize,
{
    let call = frontend::app::effects::signer_call(command).unwrap();
    assert_eq!(call.path, path);
    assert_eq!(&serde_json::from_str::<B>(&call.body).unwrap(), body);
    assert_eq!(
        (call.read)(7, attempt, &serde_json::to_string(answer).unwrap()),
        Some(event)
    );
    call
}
