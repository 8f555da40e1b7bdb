use loopline_core::ApiError;

/// Errors go to stderr as `error[code]: message`, or as `{code, message}` JSON for scripts.
pub fn print_error(err: &ApiError, json: bool) {
    if json {
        match serde_json::to_string(err) {
            Ok(s) => eprintln!("{s}"),
            Err(_) => eprintln!("error[{}]: {}", err.code, err.message),
        }
    } else {
        eprintln!("error[{}]: {}", err.code, err.message);
    }
}

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), ApiError> {
    let s = serde_json::to_string_pretty(value).map_err(|e| ApiError::internal(e.to_string()))?;
    println!("{s}");
    Ok(())
}
