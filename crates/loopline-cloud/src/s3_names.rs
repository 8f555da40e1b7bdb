//! S3 bucket names: the rules S3 applies, checked before any call, and a suggestion when
//! the name the user wanted belongs to someone else.

use loopline_core::{ApiError, ErrorCode};

/// A free-looking variant of a taken name, starting with `sagemaker-` (the managed SageMaker
/// policy reaches only such buckets) and within S3's 63 characters.
pub fn suggest_bucket_name(taken: &str, now_ms: i64) -> String {
    let base = taken.trim_start_matches("sagemaker-");
    let suffix = format!("-{:x}", (now_ms as u64) & 0xffffff);
    let mut name = format!("sagemaker-{base}");
    name.truncate(63 - suffix.len());
    format!("{}{suffix}", name.trim_end_matches(['-', '.']))
}

/// S3's naming rules for general-purpose buckets, checked before any call.
pub fn check_bucket_name(name: &str) -> Result<(), ApiError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = name
        .bytes()
        .next()
        .zip(name.bytes().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    let looks_like_ip =
        name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    if (3..=63).contains(&name.len())
        && ok_chars
        && ends_ok
        && !name.contains("..")
        && !looks_like_ip
    {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{name}' is not a valid bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        assert!(check_bucket_name("sagemaker-birds-1").is_ok());
        for bad in [
            "ab",
            "Birds",
            "-birds",
            "birds-",
            "bird..s",
            "192.168.1.1",
            "bird_s",
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_suggestion_is_valid_and_reachable_by_the_managed_policy() {
        let s = suggest_bucket_name("showcase-bucket", 1_764_000_000_000);
        assert!(s.starts_with("sagemaker-showcase-bucket-"), "{s}");
        check_bucket_name(&s).unwrap();
        let long = suggest_bucket_name(&"x".repeat(63), 1);
        assert!(long.len() <= 63);
        check_bucket_name(&long).unwrap();
    }
}
