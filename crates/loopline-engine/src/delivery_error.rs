//! Why one outbox delivery did not happen, and whether it is worth another try. The outbox
//! delivers retrain starts, webhook moves and Aquarium exports, so its error is its own, not
//! the AWS client's `CallError`: a local store error ("database is locked" under ingest
//! load, a pool timeout) says nothing about the remote side and is always worth a retry,
//! where the AWS client's rule would have failed the item for good.

use loopline_cloud::sagemaker::CallError;
use loopline_core::{ApiError, ErrorCode};

#[derive(Debug, Clone)]
pub struct DeliveryError {
    pub error: ApiError,
    pub retryable: bool,
}

/// Errors of this machine's own store: transient, whatever the call was.
fn local_and_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::DbLocked | ErrorCode::DbError | ErrorCode::StoreUnavailable
    )
}

impl From<CallError> for DeliveryError {
    fn from(e: CallError) -> Self {
        let retryable = e.retryable || local_and_transient(e.error.code);
        DeliveryError {
            error: e.error,
            retryable,
        }
    }
}

impl From<ApiError> for DeliveryError {
    fn from(error: ApiError) -> Self {
        DeliveryError::from(CallError::from(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_database_is_retried_and_a_refusal_is_not() {
        let locked = ApiError::new(ErrorCode::DbLocked, "database is locked");
        assert!(DeliveryError::from(locked.clone()).retryable);
        // Wrapped by a handler that speaks the AWS client's error, still retried.
        assert!(DeliveryError::from(CallError::from(locked)).retryable);
        assert!(DeliveryError::from(ApiError::new(ErrorCode::DbError, "pool timed out")).retryable);
        assert!(
            DeliveryError::from(ApiError::new(ErrorCode::AwsThrottled, "Rate exceeded.")).retryable
        );
        assert!(
            !DeliveryError::from(ApiError::new(
                ErrorCode::InvalidArgument,
                "no such pipeline"
            ))
            .retryable
        );
        assert!(!DeliveryError::from(ApiError::new(ErrorCode::DbCorrupt, "malformed")).retryable);
    }
}
