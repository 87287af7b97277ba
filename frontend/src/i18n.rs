//! The page's words in English and Korean. Pure: the language comes from the browser at the edge.

use shared::{human_bytes, human_bytes_apart};

use shared::ErrorCode;

use crate::upload::queue::{Failure, FailureCode, FileInfo, PageCode, Status, StoreCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

/// Every fixed string of the page, in one language.
#[derive(Debug)]
pub struct Words {
    pub lang_code: &'static str,
    pub title: &'static str,
    pub drop_hint: &'static str,
    pub choose: &'static str,
    pub limits: &'static str,
    pub any_type: &'static str,
    pub total: &'static str,
    pub cancel: &'static str,
    pub retry: &'static str,
    pub remove: &'static str,
    pub copy_key: &'static str,
    pub copied: &'static str,
    pub clear_finished: &'static str,
    pub other_language: &'static str,
    pub switch_language: &'static str,
    pub key: &'static str,
    pub left: &'static str,
    pub progress_of: &'static str,
    pub files: &'static str,
    pub not_configured: &'static str,
    pub signer_down: &'static str,
    pub loading: &'static str,
    pub choose_folder: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    /// Anonymous: forget the uploads this browser keeps (list, tokens, resume records).
    pub forget: &'static str,
    /// Announced after `forget`.
    pub forgotten: &'static str,
    pub signed_in_as: &'static str,
    pub sign_in_needed: &'static str,
    pub session_ended: &'static str,
    pub sign_in_failed: &'static str,
    pub cancel_all: &'static str,
    pub retry_all: &'static str,
    pub pause: &'static str,
    pub resume: &'static str,
    /// Under an unfinished upload from before a reload.
    pub pick_again: &'static str,
    /// Announced (once) when a file is stored: "<name> uploaded".
    pub uploaded: &'static str,
    /// Announced (once) when a file fails: "<name> failed: <reason>".
    pub failed: &'static str,
}

pub const EN: Words = Words {
    lang_code: "en",
    title: "Upload files",
    drop_hint: "Drop files or folders here, paste them, or choose them",
    choose: "Choose files",
    limits: "Up to",
    any_type: "any type",
    total: "Total progress",
    cancel: "Cancel",
    retry: "Retry",
    remove: "Remove",
    copy_key: "Copy key",
    copied: "Copied",
    clear_finished: "Clear finished",
    pause: "Pause",
    resume: "Resume",
    pick_again: "Unfinished: choose or drop this file again to continue (only the missing parts are sent), or Remove it.",
    other_language: "한국어",
    switch_language: "Switch to Korean",
    key: "Key",
    left: "left",
    progress_of: "Progress of",
    files: "Files",
    not_configured: "The uploader could not load its configuration (config.json); trying again:",
    signer_down: "The signing service cannot be reached right now; files will be tried again.",
    loading: "Loading…",
    choose_folder: "Choose a folder",
    sign_in: "Sign in",
    sign_out: "Sign out",
    forget: "Forget this browser's uploads",
    forgotten: "This browser no longer keeps your uploads.",
    signed_in_as: "Signed in as",
    sign_in_needed: "Sign in to upload files here.",
    session_ended: "Your sign-in has ended. Sign in again to go on: files stopped by it start again by themselves.",
    sign_in_failed: "Sign-in did not work:",
    cancel_all: "Cancel all",
    retry_all: "Retry all",
    uploaded: "uploaded",
    failed: "failed",
};

pub const KO: Words = Words {
    lang_code: "ko",
    title: "파일 업로드",
    drop_hint: "파일이나 폴더를 여기에 놓거나, 붙여넣거나, 골라 주세요",
    choose: "파일 선택",
    limits: "최대",
    any_type: "모든 형식",
    total: "전체 진행률",
    cancel: "취소",
    retry: "다시 시도",
    remove: "삭제",
    copy_key: "키 복사",
    copied: "복사됨",
    clear_finished: "완료된 항목 지우기",
    pause: "일시 정지",
    resume: "계속",
    pick_again: "미완료: 이 파일을 다시 선택하거나 끌어다 놓으면 빠진 부분만 올립니다. 필요 없으면 삭제하세요.",
    other_language: "English",
    switch_language: "영어로 바꾸기",
    key: "키",
    left: "남음",
    progress_of: "진행률:",
    files: "파일",
    not_configured: "업로더 설정(config.json)을 읽지 못해 다시 시도합니다:",
    signer_down: "지금은 서명 서비스에 연결할 수 없습니다. 파일은 다시 시도됩니다.",
    loading: "불러오는 중…",
    choose_folder: "폴더 선택",
    sign_in: "로그인",
    sign_out: "로그아웃",
    forget: "이 브라우저의 업로드 기록 지우기",
    forgotten: "이 브라우저에 남은 업로드 기록을 지웠습니다.",
    signed_in_as: "로그인한 사용자:",
    sign_in_needed: "여기에 파일을 올리려면 로그인하세요.",
    session_ended: "로그인이 만료되었습니다. 다시 로그인하면 멈춘 파일이 저절로 다시 올라갑니다.",
    sign_in_failed: "로그인하지 못했습니다:",
    cancel_all: "모두 취소",
    retry_all: "모두 다시 시도",
    uploaded: "업로드 완료",
    failed: "실패",
};

impl Lang {
    /// From `navigator.language` (`ko`, `ko-KR` → Korean; anything else → English).
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("ko") {
            Lang::Ko
        } else {
            Lang::En
        }
    }

    /// The stored choice (`"en"`/`"ko"`), if it is one.
    pub fn from_stored(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ko,
            Lang::Ko => Lang::En,
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Ko => &KO,
        }
    }

    pub fn status(self, status: Status) -> &'static str {
        match (self, status) {
            (Lang::En, Status::Refused) => "Refused",
            (Lang::En, Status::Queued) => "Waiting",
            (Lang::En, Status::Signing) => "Preparing",
            (Lang::En, Status::Uploading) => "Uploading",
            (Lang::En, Status::Finalizing) => "Finishing",
            (Lang::En, Status::Retrying) => "Will retry",
            (Lang::En, Status::Done) => "Done",
            (Lang::En, Status::Failed) => "Failed",
            (Lang::En, Status::Cancelled) => "Cancelled",
            (Lang::En, Status::Paused) => "Paused",
            (Lang::En, Status::Unfinished) => "Unfinished",
            (Lang::Ko, Status::Refused) => "거부됨",
            (Lang::Ko, Status::Queued) => "대기 중",
            (Lang::Ko, Status::Signing) => "준비 중",
            (Lang::Ko, Status::Uploading) => "업로드 중",
            (Lang::Ko, Status::Finalizing) => "마무리 중",
            (Lang::Ko, Status::Retrying) => "다시 시도 예정",
            (Lang::Ko, Status::Done) => "완료",
            (Lang::Ko, Status::Failed) => "실패",
            (Lang::Ko, Status::Cancelled) => "취소됨",
            (Lang::Ko, Status::Paused) => "일시 정지됨",
            (Lang::Ko, Status::Unfinished) => "미완료",
        }
    }

    /// Why a file was refused or failed, in plain words. `max_bytes` is the rules' limit if known.
    /// Every code of the signer, of the page and of storage's known ones is matched by name (no
    /// catch-all): a new code does not compile until it has words in both languages.
    pub fn reason(self, failure: &Failure, file: &FileInfo, max_bytes: Option<u64>) -> String {
        match &failure.code {
            FailureCode::Signer(code) => self.signer_reason(*code, file, max_bytes),
            FailureCode::Page(code) => self.page_reason(*code, &failure.detail),
            FailureCode::Store(code) => self.store_reason(code),
        }
    }

    fn pick(self, en: &str, ko: &str) -> String {
        if self == Lang::Ko { ko } else { en }.to_string()
    }

    fn signer_reason(self, code: ErrorCode, file: &FileInfo, max_bytes: Option<u64>) -> String {
        let ko = self == Lang::Ko;
        let shown_type = if file.content_type.is_empty() {
            "?"
        } else {
            file.content_type.as_str()
        };
        match code {
            ErrorCode::FileTooLarge => {
                let size = human_bytes(file.size);
                match (max_bytes.map(|max| human_bytes_apart(file.size, max)), ko) {
                    (Some((size, max)), false) => format!("Too large: {size}; the limit is {max}."),
                    (Some((size, max)), true) => {
                        format!("너무 큽니다: {size}, 한도는 {max}입니다.")
                    }
                    (None, false) => format!("Too large: {size}."),
                    (None, true) => format!("너무 큽니다: {size}."),
                }
            }
            ErrorCode::EmptyFile => self.pick(
                "Empty files are not accepted.",
                "빈 파일은 올릴 수 없습니다.",
            ),
            ErrorCode::ContentTypeNotAllowed if ko => {
                format!("이 형식({shown_type})의 파일은 받지 않습니다.")
            }
            ErrorCode::ContentTypeNotAllowed => {
                format!("Files of this type ({shown_type}) are not accepted.")
            }
            ErrorCode::InvalidContentType if ko => {
                format!("파일 형식({shown_type})을 알 수 없습니다.")
            }
            ErrorCode::InvalidContentType => format!("The file type ({shown_type}) is not valid."),
            ErrorCode::InvalidFilename => {
                self.pick("The file name is too long.", "파일 이름이 너무 깁니다.")
            }
            ErrorCode::OriginNotAllowed => self.pick(
                "This page is not allowed to use the signing service.",
                "이 페이지는 서명 서비스를 쓸 수 없습니다.",
            ),
            ErrorCode::SignInRequired => self.pick(
                "Uploads here need you to sign in: sign in, then press Retry.",
                "로그인해야 올릴 수 있습니다. 로그인한 뒤 '다시 시도'를 누르세요.",
            ),
            ErrorCode::SessionExpired => self.pick(
                "Your sign-in has ended: sign in again, then press Retry.",
                "로그인이 만료되었습니다. 다시 로그인한 뒤 '다시 시도'를 누르세요.",
            ),
            ErrorCode::TokenExpired | ErrorCode::InvalidToken => self.pick(
                "The upload's permission has expired; press Retry to start it again.",
                "업로드 권한이 만료되었습니다. 다시 시도하세요.",
            ),
            ErrorCode::MalformedRequest => self.pick(
                "The signing service did not understand the request.",
                "서명 서비스가 요청을 이해하지 못했습니다.",
            ),
            ErrorCode::Md5Required => self.pick(
                "The signing service requires each file's checksum, which this page did not send: reload the page.",
                "서명 서비스가 파일 체크섬을 요구하지만 이 페이지가 보내지 않았습니다. 페이지를 새로 고치세요.",
            ),
            ErrorCode::RequestTooLarge => self.pick(
                "The signing request is too large.",
                "서명 요청이 너무 큽니다.",
            ),
            ErrorCode::ObjectExists => self.pick(
                "An object already exists at this key.",
                "같은 키에 이미 객체가 있습니다.",
            ),
            ErrorCode::PartNotInPlan | ErrorCode::UploadIncomplete | ErrorCode::NoSuchUpload => {
                self.pick(
                    "The upload is not complete; press Retry.",
                    "업로드가 완성되지 않았습니다. 다시 시도하세요.",
                )
            }
            ErrorCode::StorageFailed | ErrorCode::Internal => self.pick(
                "Something failed on the server; trying again.",
                "서버 쪽에 문제가 생겼습니다. 다시 시도합니다.",
            ),
            ErrorCode::NotFound | ErrorCode::MethodNotAllowed => self.pick(
                "The signing service's address is wrong (signerUrl in config.json).",
                "서명 서비스 주소가 올바르지 않습니다(config.json의 signerUrl).",
            ),
        }
    }

    /// `detail`: the browser's own words, shown only where they name what to check.
    fn page_reason(self, code: PageCode, detail: &str) -> String {
        match code {
            PageCode::Network => self.pick(
                "The connection to storage dropped; trying again.",
                "저장소와의 연결이 끊겼습니다. 다시 시도합니다.",
            ),
            PageCode::StoreUnreachable => self.pick(
                "Storage cannot be reached: check the connection (or the S3 endpoint).",
                "저장소에 연결할 수 없습니다. 인터넷 연결(또는 S3 주소)을 확인하세요.",
            ),
            PageCode::CorsBlocked => self.pick(
                "Storage answers but refuses this page: check that the bucket's CORS rule allows this page's origin.",
                "저장소가 이 페이지의 요청을 거부했습니다. 버킷의 CORS 규칙에 이 페이지의 출처가 있는지 확인하세요.",
            ),
            PageCode::Throttled => self.pick(
                "The signing service is busy; trying again shortly.",
                "서명 서비스가 바쁩니다. 잠시 후 다시 시도합니다.",
            ),
            PageCode::Duplicate => self.pick(
                "This file is already in the list; press Retry to upload it again.",
                "이미 목록에 있는 파일입니다. 다시 올리려면 '다시 시도'를 누르세요.",
            ),
            PageCode::Timeout => {
                self.pick("No progress for 30 seconds.", "30초 동안 진행이 없었습니다.")
            }
            PageCode::SignerUnreachable if self == Lang::Ko => {
                format!("서명 서비스에 연결할 수 없습니다. ({detail})")
            }
            PageCode::SignerUnreachable => {
                format!("The signing service cannot be reached ({detail}).")
            }
            PageCode::FileUnreadable => self.pick(
                "The file can no longer be read (moved or changed?); choose it again.",
                "파일을 더 읽을 수 없습니다(옮겨졌거나 바뀌었나요?). 다시 선택하세요.",
            ),
            PageCode::ResumeExpired => self.pick(
                "This unfinished upload is too old to continue; upload the file again.",
                "이 미완료 업로드는 너무 오래되어 이어서 올릴 수 없습니다. 파일을 다시 올리세요.",
            ),
            PageCode::ResumeGone => self.pick(
                "Storage no longer holds this upload: it was completed as the page closed (stored under the key shown) or cleared away. Check before uploading it again.",
                "저장소에 이 업로드가 더 이상 없습니다. 페이지가 닫히는 사이 완료되었거나(표시된 키에 저장됨) 정리되었습니다. 다시 올리기 전에 확인하세요.",
            ),
            PageCode::UnexpectedAnswer => self.pick(
                "The signing service answered something this page cannot use.",
                "서명 서비스의 응답을 이 페이지가 쓸 수 없습니다.",
            ),
            PageCode::OtherTab => self.pick(
                "Another tab took this upload over: it goes on there.",
                "다른 탭이 이 업로드를 이어받아 그 탭에서 계속됩니다.",
            ),
        }
    }

    /// Storage's codes in words of our own, never its English message behind a Korean sentence.
    fn store_reason(self, code: &StoreCode) -> String {
        match code {
            StoreCode::EntityTooLarge | StoreCode::EntityTooSmall => self.pick(
                "The file changed size after it was chosen.",
                "파일을 고른 뒤 크기가 바뀌었습니다.",
            ),
            StoreCode::AccessDenied => self.pick(
                "Storage refused the upload (access denied).",
                "저장소가 업로드를 거부했습니다(권한 없음).",
            ),
            StoreCode::NoSuchUpload | StoreCode::NoSuchKey => self.pick(
                "The upload is not complete; press Retry.",
                "업로드가 완성되지 않았습니다. 다시 시도하세요.",
            ),
            StoreCode::SlowDown
            | StoreCode::ServiceUnavailable
            | StoreCode::InternalError
            | StoreCode::Http(500 | 503) => self.pick(
                "Storage is busy for a moment; trying again.",
                "저장소가 일시적으로 바쁩니다. 다시 시도합니다.",
            ),
            StoreCode::SignatureDoesNotMatch
            | StoreCode::InvalidPolicyDocument
            | StoreCode::InvalidAccessKeyId
            | StoreCode::ExpiredToken => self.pick(
                "Storage did not accept the signature: check the signing service's credentials.",
                "저장소가 서명을 받아들이지 않았습니다. 서명 서비스의 자격 증명을 확인하세요.",
            ),
            StoreCode::NoSuchBucket => self.pick(
                "The bucket does not exist: check the signing service's settings.",
                "저장소에 버킷이 없습니다. 서명 서비스 설정을 확인하세요.",
            ),
            StoreCode::BadDigest => self.pick(
                "The file changed after it was chosen.",
                "파일을 고른 뒤 내용이 바뀌었습니다.",
            ),
            StoreCode::RequestTimeout => self.pick(
                "The connection is too slow; trying again.",
                "연결이 너무 느립니다. 다시 시도합니다.",
            ),
            StoreCode::Http(status) if self == Lang::Ko => {
                format!("저장소가 업로드를 거부했습니다 (HTTP {status}).")
            }
            StoreCode::Http(status) => format!("Storage refused the upload (HTTP {status})."),
            StoreCode::Other(code) if self == Lang::Ko => {
                format!("저장소가 업로드를 거부했습니다 ({code}).")
            }
            StoreCode::Other(code) => format!("Storage refused the upload ({code})."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str, message: &str) -> Failure {
        Failure {
            code: FailureCode::parse(code),
            detail: message.into(),
        }
    }

    #[test]
    fn language_from_the_browser() {
        assert_eq!(Lang::from_tag("ko-KR"), Lang::Ko);
        assert_eq!(Lang::from_tag("ko"), Lang::Ko);
        assert_eq!(Lang::from_tag("en-US"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
        assert_eq!(Lang::En.other(), Lang::Ko);
    }

    #[test]
    fn reasons_are_plain_words_in_both_languages() {
        let file = FileInfo {
            name: "a.mov".into(),
            size: 3 * 1024 * 1024,
            content_type: "video/quicktime".into(),
            last_modified: 0,
        };
        let big = failure("FileTooLarge", "ignored");
        assert_eq!(
            Lang::En.reason(&big, &file, Some(1024 * 1024)),
            "Too large: 3.0 MiB; the limit is 1.0 MiB."
        );
        assert_eq!(
            Lang::Ko.reason(&big, &file, Some(1024 * 1024)),
            "너무 큽니다: 3.0 MiB, 한도는 1.0 MiB입니다."
        );
        let over = FileInfo {
            size: 1024 * 1024 + 1,
            ..file.clone()
        };
        assert_eq!(
            Lang::En.reason(&big, &over, Some(1024 * 1024)),
            "Too large: 1,048,577 bytes; the limit is 1,048,576 bytes."
        );
        let kind = failure("ContentTypeNotAllowed", "");
        assert!(
            Lang::En
                .reason(&kind, &file, None)
                .contains("video/quicktime")
        );
        assert_eq!(
            Lang::En.reason(
                &failure("SlowDown", "Reduce your request rate."),
                &file,
                None
            ),
            "Storage is busy for a moment; trying again."
        );
        assert_eq!(
            Lang::Ko.reason(&failure(PageCode::Timeout.as_str(), ""), &file, None),
            "30초 동안 진행이 없었습니다."
        );
    }

    #[test]
    fn the_pages_own_codes_have_words_in_both_languages() {
        let file = FileInfo {
            name: "a.bin".into(),
            size: 1,
            content_type: "application/octet-stream".into(),
            last_modified: 0,
        };
        for code in [
            PageCode::Network.as_str(),
            PageCode::Timeout.as_str(),
            PageCode::SignerUnreachable.as_str(),
            PageCode::Duplicate.as_str(),
            PageCode::StoreUnreachable.as_str(),
            PageCode::CorsBlocked.as_str(),
            PageCode::Throttled.as_str(),
            "TokenExpired",
            "InvalidToken",
        ] {
            let f = failure(code, "english detail");
            let en = Lang::En.reason(&f, &file, None);
            let ko = Lang::Ko.reason(&f, &file, None);
            // Not the fallback "<code>: <message>", and Korean is Korean.
            assert!(!en.starts_with(code), "{code}: {en}");
            assert!(!ko.starts_with(code), "{code}: {ko}");
            assert!(
                ko.chars().any(|c| ('가'..='힣').contains(&c)),
                "{code}: {ko}"
            );
            assert_ne!(en, ko);
        }
    }

    #[test]
    fn every_signer_code_and_common_s3_code_has_words_of_our_own() {
        let file = FileInfo {
            name: "a.bin".into(),
            size: 1,
            content_type: "application/octet-stream".into(),
            last_modified: 0,
        };
        let s3_codes = [
            "SlowDown",
            "ServiceUnavailable",
            "InternalError",
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
            "ExpiredToken",
            "NoSuchBucket",
            "BadDigest",
            "RequestTimeout",
            "AccessDenied",
            "EntityTooLarge",
            "EntityTooSmall",
            "InvalidPolicyDocument",
        ];
        let codes = shared::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(s3_codes);
        for code in codes {
            let f = failure(code, "an English message from a server");
            for lang in [Lang::En, Lang::Ko] {
                let words = lang.reason(&f, &file, Some(1));
                assert!(
                    !words.contains("English message"),
                    "{code} in {lang:?}: {words}"
                );
                assert!(!words.starts_with(code), "{code} in {lang:?}: {words}");
            }
            let ko = Lang::Ko.reason(&f, &file, Some(1));
            assert!(
                ko.chars().any(|c| ('가'..='힣').contains(&c)),
                "{code}: {ko}"
            );
        }
        // An unknown S3 code in Korean is still a Korean sentence (naming the code).
        let ko = Lang::Ko.reason(&failure("WeirdNewCode", "english"), &file, None);
        assert_eq!(ko, "저장소가 업로드를 거부했습니다 (WeirdNewCode).");
    }

    #[test]
    fn every_status_has_its_own_words_in_each_language() {
        for lang in [Lang::En, Lang::Ko] {
            let words: Vec<&str> = Status::ALL.iter().map(|&s| lang.status(s)).collect();
            let mut distinct = words.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(
                distinct.len(),
                words.len(),
                "two statuses read alike: {words:?}"
            );
        }
        // Korean words are Korean, not English left behind.
        for status in Status::ALL {
            let ko = Lang::Ko.status(status);
            assert!(ko.chars().any(|c| ('가'..='힣').contains(&c)), "{ko}");
            assert!(!ko.is_ascii());
        }
    }
}
